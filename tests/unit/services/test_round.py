"""One round across the four services on the in-memory bus and stores: trainers train, the prover proves, the
trainers submit, the validators attest, the producer builds and proposes the block, the validators vote, and the
block is final everywhere."""

from __future__ import annotations

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_VOTE, PROVE_JOBS, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryProducerRepo, MemoryValidatorRepo
from zkpot.domain import Block, Transaction, check_block
from zkpot.domain.events import Finalized

from .support import Task, counter, eventually


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
