"""One round across the four services on the in-memory bus and stores: trainers train, the prover proves, the
trainers submit, the validators attest, the producer builds and proposes the block, the validators vote, and the
block is final everywhere."""

from __future__ import annotations

from typing import Any

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_VOTE, PROVE_JOBS, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryProducerRepo, MemoryValidatorRepo
from zkpot.domain import Block, Transaction, check_block
from zkpot.domain.events import Finalized

from .support import Task, Unheard, counter, eventually


async def test_a_round_from_training_to_a_final_block() -> None:
    async with Task(clients=2, validators=4) as task:
        chain, replicas = MemoryProducerRepo(), MemoryValidatorRepo()
        validators = [task.validator(i, replicas) for i in range(4)]
        services = [*validators, task.prover(), task.trainer(0), task.trainer(1), task.producer(chain, rounds=1)]
        for service in services:
            await service.start()
        try:
            final = await eventually(lambda: task.payloads(BLOCK_FINALIZED), "a final block")
            for v in validators:
                await eventually(lambda v=v: replicas.latest_final(v.id), f"{v.id[:8]} adopting the block")
        finally:
            for service in services:
                await service.stop()

    block = Finalized.from_dict(final[0]).block
    txs = [Transaction.from_dict(p) for p in task.payloads(TX_SUBMITTED)]
    assert {tx.client for tx in block.txs} == set(task.genesis.clients) == {tx.client for tx in txs}
    assert block.rejected == () and block.header.round == 1 and block.header.height == 1
    assert len(task.bus.published(PROVE_JOBS)) == 2 and task.system.proofs == 2
    attestations = task.payloads(TX_ATTESTED)
    assert len(attestations) == 8 and all(a["valid"] for a in attestations)
    assert {v["validator"] for v in task.payloads(BLOCK_VOTE) if v["accept"]} == set(task.genesis.validators)
    assert check_block(block, task.genesis, None, Finalized.from_dict(final[0]).proposal.attestations(),
                       block.header.global_correct).value == "ok"
    stored = await chain.latest_final_block()
    assert stored is not None and Block.from_dict(stored.block) == block
    for v in validators:
        mine = await replicas.latest_final(v.id)
        assert mine is not None and mine.hash == block.hash
        assert counter(v.metrics, "zkpot_tx_accepted") == 2
    assert await task.blobs.get(block.header.model_cid, 1 << 20)  # the global model is published


async def test_validators_that_never_hear_block_finalized_still_follow_the_chain() -> None:
    """Every ``block.finalized`` the producer publishes is lost: block 1 reaches the validators as the certificate
    riding with block 2's proposal, and block 2 with the producer's announcement after its restart."""
    async with Task(clients=1, validators=4) as task:
        chain, replicas = MemoryProducerRepo(), MemoryValidatorRepo()
        validators = [task.validator(i, replicas) for i in range(4)]
        deaf = task.producer(chain, rounds=2, bus=Unheard(task.bus.peer()))  # type: ignore[arg-type]
        services = [*validators, task.prover(), task.trainer(0), deaf]
        for service in services:
            await service.start()
        try:
            tip = await eventually(lambda: _final_at(chain, 2), "block 2 final at the producer")
            for v in validators:
                await eventually(lambda v=v: _final_at(replicas, 1, v.id), f"{v.id[:8]} adopting block 1")
            assert task.payloads(BLOCK_FINALIZED) == []
            await deaf.stop()
            again = task.producer(chain, rounds=2)
            await again.start()
            services[-1] = again
            for v in validators:
                mine = await eventually(lambda v=v: _final_at(replicas, 2, v.id), f"{v.id[:8]} adopting block 2")
                assert mine.hash == tip.hash
        finally:
            for service in services:
                await service.stop()


async def _final_at(store: Any, height: int, validator: str | None = None) -> Any:
    row = await (store.latest_final_block() if validator is None else store.latest_final(validator))
    return row if row is not None and row.height >= height else None
