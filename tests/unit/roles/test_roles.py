"""Round logic of the producer and validator, with fake proofs and models (no ezkl)."""

from __future__ import annotations

import dataclasses

import numpy as np
from zkpot.domain import Reason, RejectedTx, check_block
from zkpot.roles import producer, validator
from zkpot.roles.producer import GlobalModel

from ..domain.builders import CLIENTS, GENESIS, PRODUCER, VALIDATORS, attest, make_tx


def txs_round1() -> list:
    return [make_tx(c, 1, GENESIS.genesis_hash, 60 + i) for i, c in enumerate(CLIENTS)]


def test_split_attested_keeps_quorum_and_names_the_refusal() -> None:
    txs = txs_round1()
    atts = {txs[0].tx_id: attest(txs[0], VALIDATORS[:3]),
            txs[1].tx_id: attest(txs[1], VALIDATORS[:2]),
            txs[2].tx_id: attest(txs[2], VALIDATORS[:3], valid=False)}
    included, rejected = producer.split_attested(GENESIS, txs, atts)
    assert included == [txs[0]]
    assert {r.tx_id: r.reason for r in rejected} == {txs[1].tx_id: Reason.TX_NOT_ATTESTED,
                                                      txs[2].tx_id: Reason.PROOF_INVALID}


def test_open_models_drops_unavailable_and_mismatched() -> None:
    txs = txs_round1()
    weights = {"w": np.ones(2)}
    loads = {txs[0].tx_id: weights, txs[1].tx_id: None, txs[2].tx_id: {"w": np.zeros(2)}}
    commit = lambda w: txs[0].commitment if w is weights else "other"  # noqa: E731
    opened, dropped = producer.open_models(txs, lambda tx: loads[tx.tx_id], commit)
    assert [tx for tx, _ in opened] == [txs[0]]
    assert {d.tx_id: d.reason for d in dropped} == {txs[1].tx_id: Reason.MODEL_UNAVAILABLE,
                                                     txs[2].tx_id: Reason.MODEL_COMMITMENT_MISMATCH}


def test_aggregate_weights_by_training_samples() -> None:
    a, b = txs_round1()[:2]
    b = make_tx(CLIENTS[1], 1, GENESIS.genesis_hash, 61, n_train=1800)
    out = producer.aggregate(GENESIS, [(a, {"w": np.zeros(2)}), (b, {"w": np.ones(2) * 4})])
    assert np.allclose(out["w"], 3.0)  # (600 * 0 + 1800 * 4) / 2400


def test_made_block_passes_the_block_rules() -> None:
    txs = txs_round1()
    atts = {tx.tx_id: attest(tx, VALIDATORS[:3]) for tx in txs}
    model = GlobalModel("bafy-global", "aa" * 32, "c0ffee", 80)
    rejected = [RejectedTx("ee" * 32, CLIENTS[0].public_hex, Reason.PROOF_INVALID)]
    block = producer.make_block(GENESIS, None, 1, txs, rejected, model, PRODUCER, 123)
    assert block.header.leader_correct == 62
    assert block.header.leader_client == CLIENTS[2].public_hex
    assert check_block(block, GENESIS, None, atts, 80) is Reason.OK


def test_judge_block_recomputes_the_model_hash_and_accuracy() -> None:
    txs = txs_round1()
    atts = {tx.tx_id: attest(tx, VALIDATORS[:3]) for tx in txs}
    model = GlobalModel("bafy-global", "aa" * 32, "c0ffee", 80)
    block = producer.make_block(GENESIS, None, 1, txs, [], model, PRODUCER, 123)
    assert validator.judge_block(GENESIS, None, block, atts, None, set()) is Reason.MODEL_UNAVAILABLE
    assert validator.judge_block(GENESIS, None, block, atts, b"garbage", set()) is Reason.MODEL_HASH_MISMATCH


def test_a_member_flooding_the_round_cannot_push_the_refused_list_past_its_bound() -> None:
    from zkpot.domain.limits import MAX_REJECTED

    honest, flood = txs_round1()[0], txs_round1()[1]
    spam = [dataclasses.replace(flood, timestamp_ms=flood.timestamp_ms + i) for i in range(MAX_REJECTED + 10)]
    included, rejected = producer.split_attested(GENESIS, [*spam[:5], honest, *spam[5:]], {})
    assert included == [] and len(rejected) == MAX_REJECTED
    assert rejected[1].client == honest.client  # every member's first refusal comes before anyone's second
