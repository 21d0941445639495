"""n_train, a transaction's FedAvg weight, is bounded by genesis; aggregation refuses what would divide by zero."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest
from zkpot import task
from zkpot.domain import AggregationError, Block, Reason, RoundView, aggregation_weights, check_block, check_tx, fedavg
from zkpot.domain.limits import MAX_N_TRAIN
from zkpot.errors import InputError
from zkpot.ml.model import Arch

from .builders import CLIENTS, GENESIS, PRODUCER, VALIDATORS, FakeChecker, attest, make_header, make_tx, proof_bytes

BOUNDED = dataclasses.replace(GENESIS, max_n_train=1000)


def verdict(n_train: int) -> Reason:
    tx = make_tx(CLIENTS[0], 1, BOUNDED.genesis_hash, 70, n_train=n_train)
    checker = FakeChecker()
    checker.register(tx, proof_bytes(CLIENTS[0], 1))
    return check_tx(tx, BOUNDED, RoundView(1, BOUNDED.genesis_hash), proof_bytes(CLIENTS[0], 1), checker)


@pytest.mark.parametrize(("n_train", "reason"), [
    (1, Reason.OK), (1000, Reason.OK), (0, Reason.N_TRAIN_OUT_OF_RANGE), (1001, Reason.N_TRAIN_OUT_OF_RANGE),
])
def test_check_tx_bounds_n_train_by_genesis(n_train: int, reason: Reason) -> None:
    assert verdict(n_train) is reason


def test_a_block_with_an_out_of_range_n_train_is_refused() -> None:
    txs = [make_tx(CLIENTS[0], 1, BOUNDED.genesis_hash, 70, n_train=5000)]
    block = Block.create(make_header(1, 1, BOUNDED.genesis_hash, txs, genesis_hash=BOUNDED.genesis_hash), txs, [],
                         PRODUCER)
    atts = {tx.tx_id: attest(tx, VALIDATORS[:3]) for tx in txs}
    assert check_block(block, BOUNDED, None, atts, 80) is Reason.N_TRAIN_OUT_OF_RANGE


def test_genesis_without_max_n_train_still_refuses_zero() -> None:
    assert GENESIS.max_n_train == MAX_N_TRAIN
    tx = make_tx(CLIENTS[0], 1, GENESIS.genesis_hash, 70, n_train=0)
    assert check_tx(tx, GENESIS, RoundView(1, GENESIS.genesis_hash), None, FakeChecker()) is Reason.N_TRAIN_OUT_OF_RANGE


def test_aggregation_refuses_zero_n_train_and_zero_total_weight() -> None:
    models = [{"w": np.ones(2)}, {"w": np.zeros(2)}]
    with pytest.raises(AggregationError, match="n_train"):
        aggregation_weights([make_tx(CLIENTS[0], 1, "00" * 32, 70, n_train=0)], "fedavg")
    nothing_right = [make_tx(c, 1, "00" * 32, 0) for c in CLIENTS[:2]]
    weights = aggregation_weights(nothing_right, "fedavg_acc")
    assert weights == [0.0, 0.0]
    for bad in (weights, [-1.0, 1.0], [float("nan"), 1.0]):
        with pytest.raises(AggregationError):
            fedavg(models, bad)


def fake_system() -> types.SimpleNamespace:
    return types.SimpleNamespace(samples=16, arch=Arch(), task="digits", test_set_sha256="ab" * 32,
                                 instances_digest="cd" * 32, summary=lambda: {"pipeline": "fast"})


def test_make_genesis_bounds_n_train_by_the_training_pool() -> None:
    public = {"validators": [k.public_hex for k in VALIDATORS], "clients": [k.public_hex for k in CLIENTS],
              "producer": PRODUCER.public_hex, "aggregator_box_key": "ef" * 32}
    genesis = task.make_genesis(fake_system(), public, created_ms=1)  # type: ignore[arg-type]
    assert genesis.max_n_train == task.TRAINING_POOL == 1257  # 1797 digits less the 540 public test samples
    assert task.make_genesis(fake_system(), public, task.RoundParams(max_n_train=7),  # type: ignore[arg-type]
                             created_ms=1).max_n_train == 7
    with pytest.raises(InputError, match="max_n_train"):
        task.RoundParams(max_n_train=-1)
