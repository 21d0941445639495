"""The block a member's producer builds when no one is trusted, and the validator's check that its global model is
the aggregate of exactly its txs (commitments from a toy affine commitment made with py_ecc, so no ezkl here)."""

from __future__ import annotations

import dataclasses

import numpy as np
from zkpot.domain import Block, Reason
from zkpot.domain.verifiable import (
    AggregateLayout,
    TensorLayout,
    bn,  # py_ecc through verifiable, which keeps the recursion limit
    format_points,
)
from zkpot.ml.model import weights_to_bytes
from zkpot.roles.proposer import Aggregate, dropouts, global_weights, make_block
from zkpot.roles.validator import judge_aggregate

from tests.unit.domain.builders import CLIENTS, key, make_genesis, make_tx

C0 = bn.multiply(bn.G1, 7)
LAYOUT = AggregateLayout((TensorLayout("w", (4,), 0),), 4, format_points([C0]))
PRODUCERS = [key(40 + i) for i in range(len(CLIENTS))]
G = make_genesis(producers=tuple(p.public_hex for p in PRODUCERS), producer="", aggregator_box_key="",
                 circuit={"vk_sha256": "ef" * 32, "aggregate": LAYOUT.to_dict()})
MODELS = [[3, -1, 4, 1], [5, 9, -2, 6], [-5, 3, 5, 8]]


def commit(message: list[int]) -> str:
    acc = C0
    for j, m in enumerate(message):
        acc = bn.add(acc, bn.multiply(bn.G1, (m * (j + 2)) % bn.curve_order))
    return format_points([acc])


def txs_for(models: list[list[int]], n_trains: tuple[int, ...] = (600, 300, 100)) -> list:
    return [make_tx(CLIENTS[i], 1, G.genesis_hash, 70 + i, commitment=commit(m), n_train=n_trains[i])
            for i, m in enumerate(models)]


def aggregate_block(txs: list, summed: list[int], view: int = 0, proposer: int = 0) -> tuple[Block, bytes]:
    total, weights = global_weights(G, txs, summed)
    model = weights_to_bytes(weights)
    agg = Aggregate("bafy-sum", "aa" * 32, commit(summed), total, "bafy-model", "bb" * 32, 80)
    return make_block(G, None, 1, 1_700_000_000_000, txs, [], agg, PRODUCERS[proposer], view), model


def honest_sum(txs: list, models: list[list[int]]) -> list[int]:
    return [sum(tx.n_train * m[j] for tx, m in zip(txs, models, strict=True)) for j in range(4)]


def test_the_aggregate_of_the_included_txs_is_accepted() -> None:
    txs = txs_for(MODELS)
    summed = honest_sum(txs, MODELS)
    block, model = aggregate_block(txs, summed)
    assert judge_aggregate(G, None, block, summed, commit(summed), model) is Reason.OK


def test_two_views_build_the_same_block() -> None:
    txs = txs_for(MODELS)
    summed = honest_sum(txs, MODELS)
    first, _ = aggregate_block(txs, summed, view=0, proposer=0)
    fallback, _ = aggregate_block(list(reversed(txs)), summed, view=1, proposer=2)
    assert first.hash == fallback.hash and first.proposer != fallback.proposer


def test_a_leader_publishing_its_own_model_is_refused() -> None:
    txs = txs_for(MODELS)
    own = [tx_n * 1 for tx_n in MODELS[0]]  # the leader's own model (weight 1) instead of the aggregate
    block, model = aggregate_block(txs, own)
    assert judge_aggregate(G, None, block, own, commit(own), model) is Reason.AGGREGATE_MISMATCH


def test_a_leader_dropping_a_member_but_keeping_its_tx_is_refused() -> None:
    txs = txs_for(MODELS)
    summed = honest_sum(txs[:2], MODELS[:2])  # member 2's vector left out of the sum
    block, model = aggregate_block(txs, summed)
    assert judge_aggregate(G, None, block, summed, commit(summed), model) is Reason.AGGREGATE_MISMATCH


def test_noise_as_the_global_model_is_refused_even_with_an_honest_sum() -> None:
    txs = txs_for(MODELS)
    summed = honest_sum(txs, MODELS)
    block, _ = aggregate_block(txs, summed)
    noise = weights_to_bytes({"w": np.ones(4, dtype=np.float32)})
    assert judge_aggregate(G, None, block, summed, commit(summed), noise) is Reason.GLOBAL_MODEL_NOT_AGGREGATE


def test_a_wrong_total_or_a_wrong_commitment_claim_is_refused() -> None:
    txs = txs_for(MODELS)
    summed = honest_sum(txs, MODELS)
    block, model = aggregate_block(txs, summed)
    bad_total = dataclasses.replace(block, header=dataclasses.replace(block.header, aggregate_total=999))
    assert judge_aggregate(G, None, bad_total, summed, commit(summed), model) is Reason.AGGREGATE_MISMATCH
    other = [s + 1 for s in summed]
    assert judge_aggregate(G, None, block, summed, commit(other), model) is Reason.AGGREGATE_MISMATCH


def test_an_empty_round_carries_the_model_over() -> None:
    block = make_block(G, None, 1, 1_700_000_000_000, [], [], None, PRODUCERS[1], 3, initial_correct=12)
    assert (block.header.model_cid, block.header.global_correct) == (G.initial_model_cid, 12)
    assert judge_aggregate(G, None, block, None, None, None) is Reason.OK
    forged = dataclasses.replace(block, header=dataclasses.replace(block.header, model_cid="bafy-noise"))
    assert judge_aggregate(G, None, forged, None, None, None) is Reason.GLOBAL_MODEL_NOT_AGGREGATE


def test_dropouts_are_the_attested_txs_left_out_in_tx_id_order() -> None:
    txs = txs_for(MODELS)
    [gone] = dropouts(txs, txs[:1] + txs[2:])
    assert (gone.tx_id, gone.reason) == (txs[1].tx_id, Reason.MODEL_UNAVAILABLE)
