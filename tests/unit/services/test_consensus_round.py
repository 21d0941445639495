"""Rounds with no trusted party, every service on the in-memory bus: members mask their models (secure
aggregation), each member runs a producer, the proven-best member's producer proposes, and the validators accept
the block only when its global model is the aggregate of exactly its txs (docs/consensus.md)."""

from __future__ import annotations

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_VOTE, SECAGG_MASKED, TX_SUBMITTED
from zkpot.db.memory import MemoryValidatorRepo
from zkpot.domain import Transaction
from zkpot.domain.consensus import proposer_of_view, ranking
from zkpot.domain.events import Finalized
from zkpot.domain.secagg import decode_vector, lift
from zkpot.domain.verifiable import aggregate_holds, integer_weight
from zkpot.ml.model import weights_to_bytes
from zkpot.roles.proposer import global_weights
from zkpot.roles.validator import judge_aggregate
from zkpot.services.byzantine import ATTACKS, GarbageMasker, Plan
from zkpot.services.masking import MaskingMember

from .support import HomomorphicFake, Task, eventually

CLIENTS, VALIDATORS = 3, 4


async def test_two_rounds_led_by_the_proven_best_member_each_aggregate_of_the_masked_models() -> None:
    async with Task(clients=CLIENTS, validators=VALIDATORS, member_producers=True, system=HomomorphicFake(),
                    deadline_s=30) as task:
        replicas = MemoryValidatorRepo()
        validators = [task.validator(i, replicas) for i in range(VALIDATORS)]
        producers = [task.member_producer(i, rounds=2) for i in range(CLIENTS)]
        services = [*validators, task.prover(), *(task.trainer(i) for i in range(CLIENTS)), *producers]
        for service in services:
            await service.start()
        try:
            finals = await eventually(lambda: len(task.payloads(BLOCK_FINALIZED)) >= 2 and
                                      task.payloads(BLOCK_FINALIZED), "two final blocks")
        finally:
            for service in services:
                await service.stop()

    blocks = {f["proposal"]["block"]["header"]["height"]: Finalized.from_dict(f).block for f in finals}
    genesis, layout = task.genesis, task.system.layout
    assert genesis.producer == "" and genesis.aggregator_box_key == ""
    head = None
    for height in (1, 2):
        block = blocks[height]
        assert len(block.txs) == CLIENTS and block.header.producer == ""
        assert block.proposer == proposer_of_view(genesis, ranking(list(block.txs)), block.view)
        weights = [integer_weight(tx.n_train, tx.correct, genesis.aggregation) for tx in block.txs]
        summed = lift(decode_vector(await task.blobs.get(block.header.aggregate_cid, 1 << 22), layout.elements))
        assert aggregate_holds([tx.commitment for tx in block.txs], weights, layout.c0,
                               task.system.commit_message(summed))
        model = await task.blobs.get(block.header.model_cid, 1 << 22)
        assert model == weights_to_bytes(global_weights(genesis, list(block.txs), summed)[1])
        assert judge_aggregate(genesis, head, block, summed, task.system.commit_message(summed), model).value == "ok"
        head = block.header
    masked = task.payloads(SECAGG_MASKED)
    assert len(masked) == 2 * CLIENTS
    txs = [Transaction.from_dict(p) for p in task.payloads(TX_SUBMITTED)]
    sealed_models = {tx.model_cid for tx in txs}
    assert all(m["vector_cid"] not in sealed_models for m in masked)


async def test_a_lying_or_silent_leader_is_refused_or_skipped_and_the_next_by_rank_finalizes() -> None:
    """Every producer lies when it leads (view 0), one attack per round; the second-ranked member's producer
    proposes the honest block in view 1 and the chain goes on."""
    plan = Plan(ATTACKS)
    async with Task(clients=CLIENTS, validators=VALIDATORS, member_producers=True, system=HomomorphicFake(),
                    deadline_s=30, view_timeout_s=4) as task:
        replicas = MemoryValidatorRepo()
        validators = [task.validator(i, replicas) for i in range(VALIDATORS)]
        producers = [task.member_producer(i, rounds=len(ATTACKS), plan=plan) for i in range(CLIENTS)]
        services = [*validators, task.prover(), *(task.trainer(i) for i in range(CLIENTS)), *producers]
        for service in services:
            await service.start()
        try:
            finals = await eventually(lambda: len(task.payloads(BLOCK_FINALIZED)) >= len(ATTACKS) and
                                      task.payloads(BLOCK_FINALIZED), f"{len(ATTACKS)} final blocks", timeout_s=240)
        finally:
            for service in services:
                await service.stop()

    refusals = {(v["block_hash"], v["reason"]) for v in task.payloads(BLOCK_VOTE) if not v["accept"]}
    by_reason = {reason for _, reason in refusals}
    assert {"global_model_not_aggregate", "aggregate_mismatch", "omitted_tx"} <= by_reason
    assert "wrong_proposer" not in by_reason  # each fallback was its view's proposer
    for f in finals:
        block = Finalized.from_dict(f).block
        ranked = ranking(list(block.txs))
        assert block.view == 1 and block.proposer == proposer_of_view(task.genesis, ranked, 1)
        assert len(block.txs) == CLIENTS  # nobody dropped: the honest fallback's block
    assert sum(p.lies for p in producers) >= len(ATTACKS)  # type: ignore[attr-defined]


async def test_a_member_masking_with_garbage_costs_the_round_its_txs_not_the_chain() -> None:
    """One member adds garbage to its masked vector: the survivors' sum opens no commitment, so every honest
    proposer leaves the round's txs out (``aggregate_unopenable``) and the validators, unmasking the round
    themselves, accept that; the model carries over and the chain goes on."""
    async with Task(clients=CLIENTS, validators=VALIDATORS, member_producers=True, system=HomomorphicFake(),
                    deadline_s=30) as task:
        replicas = MemoryValidatorRepo()
        validators = [task.validator(i, replicas) for i in range(VALIDATORS)]
        producers = [task.member_producer(i, rounds=1) for i in range(CLIENTS)]
        trainers = [task.trainer(i, masker=GarbageMasker if i == 0 else MaskingMember) for i in range(CLIENTS)]
        services = [*validators, task.prover(), *trainers, *producers]
        for service in services:
            await service.start()
        try:
            finals = await eventually(lambda: task.payloads(BLOCK_FINALIZED), "a final block")
        finally:
            for service in services:
                await service.stop()

    block = Finalized.from_dict(finals[0]).block
    assert block.txs == () and block.header.model_cid == task.genesis.initial_model_cid
    assert {r.reason for r in block.rejected} == {"aggregate_unopenable"} and len(block.rejected) == CLIENTS
