"""The block producer on the in-memory bus and store, with the validators played by the test: which txs its block
keeps and why it drops the others, and a producer restarted over its store resuming its round."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from zkpot.bus import Delivery
from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, BLOCK_VOTE, ROUND_OPEN, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryProducerRepo
from zkpot.domain import Attestation, Reason, SigningKey, Transaction
from zkpot.domain.events import Finalized, Proposal
from zkpot.domain.validation import check_certificate
from zkpot.storage.cid import normalize_cid

from .support import Task, Unheard, counter, eventually


async def _proposed(task: Task, count: int = 1) -> Proposal:
    found = await eventually(lambda: len(task.payloads(BLOCK_PROPOSED)) >= count and task.payloads(BLOCK_PROPOSED),
                             "a proposal")
    return Proposal.from_dict(found[-1])


async def _round_txs(task: Task, parent: str) -> tuple[Transaction, ...]:
    """Round 1 of four members: an honest one, one whose sealed model is not the proven one, one the validators
    refused, one whose sealed model is gone from the store."""
    w = task.weights
    honest = await task.tx(0, 1, parent, w(1))
    mismatch = await task.tx(1, 1, parent, w(2), sealed=w(3))
    refused = await task.tx(2, 1, parent, w(4))
    gone = await task.tx(3, 1, parent, w(5))
    del task.store.blobs[normalize_cid(gone.model_cid)]
    return honest, mismatch, refused, gone


async def test_the_block_keeps_the_verified_txs_and_names_why_it_dropped_the_others() -> None:
    async with Task(clients=4) as task:
        producer = task.producer(rounds=1)
        await producer.start()
        try:
            opened = await eventually(lambda: task.payloads(ROUND_OPEN), "round 1 open")
            honest, mismatch, refused, gone = await _round_txs(task, opened[0]["parent"])
            for tx in (honest, mismatch, refused, gone):
                await task.submit(tx)
                await task.attest(tx, range(3), Reason.PROOF_INVALID if tx is refused else Reason.OK)
            proposal = await _proposed(task)
            await task.vote(proposal.block, range(3))
            final = Finalized.from_dict((await eventually(lambda: task.payloads(BLOCK_FINALIZED), "final"))[0])
        finally:
            await producer.stop()
    block = final.block
    assert block == proposal.block and [tx.tx_id for tx in block.txs] == [honest.tx_id]
    assert block.header.leader_tx == honest.tx_id and block.header.accepted == 1
    assert {r.tx_id: r.reason for r in block.rejected} == {mismatch.tx_id: "model_commitment_mismatch",
                                                           refused.tx_id: "proof_invalid",
                                                           gone.tx_id: "model_unavailable"}
    assert {tx.tx_id for tx in block.txs} == set(proposal.attestations())
    assert len(final.votes) == 3 and all(v.accept for v in final.votes)
    for reason in ("model_commitment_mismatch", "proof_invalid", "model_unavailable"):
        assert counter(producer.metrics, "zkpot_tx_rejected", reason=reason) == 1
    rows = {row.tx_id: (row.status, row.reason) for row in await producer.repo.txs_for_round(1)}
    assert rows[honest.tx_id] == ("included", None) and rows[mismatch.tx_id] == ("rejected",
                                                                                  "model_commitment_mismatch")


async def test_attestations_from_outside_the_validator_set_or_badly_signed_are_not_counted() -> None:
    async with Task(clients=1) as task:
        producer = task.producer()
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        outsider = SigningKey.generate()
        stranger = Attestation(tx.tx_id, 1, outsider.public_hex, True, Reason.OK).sign(outsider)
        impostor = dataclasses.replace(task.attestations(tx, range(1))[0], signature=outsider.sign(b"x"))
        for a in (stranger, impostor, *task.attestations(tx, range(1, 2))):
            await producer.on_attestation(Delivery(TX_ATTESTED, a.to_dict(), 1, None, 0, raw=None))  # type: ignore[arg-type]
        assert [row.validator for row in await producer.repo.attestations_for_round(1)] == [
            task.keys.validators[1].public_hex]


async def test_a_restarted_producer_proposes_the_stored_block_again_and_finalizes_it() -> None:
    async with Task(clients=1) as task:
        store = MemoryProducerRepo()
        first = task.producer(store, rounds=2)
        await first.start()
        opened = await eventually(lambda: task.payloads(ROUND_OPEN), "round 1 open")
        tx = await task.tx(0, 1, opened[0]["parent"], task.weights(1))
        await task.submit(tx)
        await task.attest(tx, range(3))
        proposal = await _proposed(task)
        await first.stop()  # killed while waiting for votes

        again = task.producer(store, rounds=2)
        await again.start()
        try:
            await task.vote(proposal.block, range(3))
            final = await eventually(lambda: task.payloads(BLOCK_FINALIZED), "final")
            assert Finalized.from_dict(final[0]).block.hash == proposal.block.hash  # not rebuilt
            second = await eventually(lambda: [p for p in task.payloads(ROUND_OPEN) if p["round"] == 2], "round 2")
            assert second[0]["parent"] == proposal.block.hash
        finally:
            await again.stop()
        row = await store.get_round(1)
        assert row is not None and row.state == "final" and row.block_hash == proposal.block.hash



async def test_forged_txs_are_not_stored_and_do_not_end_collection() -> None:
    async with Task(clients=2) as task:
        producer = task.producer(rounds=1)
        await producer.start()
        try:
            parent = (await eventually(lambda: task.payloads(ROUND_OPEN), "round 1 open"))[0]["parent"]
            honest, other = await task.tx(0, 1, parent, task.weights(1)), await task.tx(1, 1, parent, task.weights(2))
            outsider = SigningKey.generate()
            garbled = dataclasses.replace(await task.tx(1, 1, parent, task.weights(4)), signature=outsider.sign(b"x"))
            in_its_name = dataclasses.replace(await task.tx(1, 1, parent, task.weights(3)), n_train=1)
            in_its_name = dataclasses.replace(in_its_name, signature=outsider.sign(in_its_name.signing_payload()))
            stranger = dataclasses.replace(in_its_name, client=outsider.public_hex).sign(outsider)
            forged = (garbled, in_its_name, stranger)
            for tx in (honest, *forged):
                await task.submit(tx, msg_id=f"m-{len(task.payloads(TX_SUBMITTED))}")
                await task.attest(tx, range(3), Reason.OK if tx is honest else Reason.BAD_SIGNATURE)
            await eventually(lambda: _stored_attestations(producer, 4 * 3), "the attestations stored")
            await asyncio.sleep(0.2)  # a collection ended by the forged txs would propose now
            assert task.payloads(BLOCK_PROPOSED) == []
            assert [row.tx_id for row in await producer.repo.txs_for_round(1)] == [honest.tx_id]
            await task.submit(other)  # member 1's own tx
            await task.attest(other, range(3))
            proposal = await _proposed(task)
        finally:
            await producer.stop()
    assert {tx.tx_id for tx in proposal.block.txs} == {honest.tx_id, other.tx_id}
    assert proposal.block.rejected == ()
    assert sorted(await producer.repo.rejections()) == sorted(
        (TX_SUBMITTED, tx.tx_id, 1, r) for tx, r in zip(forged, ("bad_signature", "bad_signature", "unknown_client"),
                                                        strict=True))
    assert counter(producer.metrics, "zkpot_tx_rejected", reason="bad_signature") == 2
    assert counter(producer.metrics, "zkpot_tx_rejected", reason="unknown_client") == 1


async def _stored_attestations(producer: Any, count: int) -> bool:
    return len(await producer.repo.attestations_for_round(1)) >= count


async def _final_height(store: MemoryProducerRepo, height: int) -> bool:
    row = await store.latest_final_block()
    return row is not None and row.height >= height


async def _proposal_of(task: Task, round_: int) -> Proposal:
    """Play one member and the validators' attestations through ``round_``; the proposal."""
    opened = await eventually(lambda: [p for p in task.payloads(ROUND_OPEN) if p["round"] == round_], "round open")
    tx = await task.tx(0, round_, opened[0]["parent"], task.weights(round_))
    await task.submit(tx)
    await task.attest(tx, range(3))
    return await _proposed(task, round_)


async def _round(task: Task, round_: int) -> Proposal:
    """``_proposal_of`` and a quorum's votes for it."""
    proposal = await _proposal_of(task, round_)
    await task.vote(proposal.block, range(3))
    return proposal


async def test_a_lost_finality_announcement_rides_with_the_next_proposal_and_a_restart_repeats_it() -> None:
    async with Task(clients=1) as task:
        store = MemoryProducerRepo()
        first = task.producer(store, rounds=2, bus=Unheard(task.bus.peer()))  # type: ignore[arg-type]
        await first.start()
        try:
            one = await _round(task, 1)
            two = await _round(task, 2)  # round 2 opened: the producer holds block 1 final
            await eventually(lambda: _final_height(store, 2), "block 2 final in the producer's store")
        finally:
            await first.stop()
        assert task.payloads(BLOCK_FINALIZED) == []
        cert = two.parent
        assert (cert.block_hash, cert.height) == (one.block.hash, 1)
        assert check_certificate(cert.block_hash, cert.height, list(cert.votes), task.genesis) is Reason.OK

        again = task.producer(store, rounds=2)  # restarted: announces its final tip again
        await again.start()
        await again.stop()
        final = Finalized.from_dict((await eventually(lambda: task.payloads(BLOCK_FINALIZED), "announced"))[0])
        assert final.block == two.block and final.proposal.parent == cert
        assert check_certificate(two.block.hash, 2, list(final.votes), task.genesis) is Reason.OK


async def test_accepting_votes_that_name_another_height_do_not_finalize() -> None:
    async with Task(clients=1) as task:
        producer = task.producer(rounds=1)
        await producer.start()
        try:
            block = (await _proposal_of(task, 1)).block
            skewed = dataclasses.replace(task.votes(block, range(1))[0], height=2).sign(task.keys.validators[0])
            await task.bus.publish(BLOCK_VOTE, skewed.to_dict(), skewed.vote_id)
            await task.vote(block, range(1, 3))  # with the skewed one, a certificate no validator would accept
            await eventually(lambda: _stored_votes(producer, block.hash, 3), "the votes stored")
            await asyncio.sleep(0.2)
            assert task.payloads(BLOCK_FINALIZED) == []
            await task.vote(block, range(3, 4))
            final = Finalized.from_dict((await eventually(lambda: task.payloads(BLOCK_FINALIZED), "final"))[0])
        finally:
            await producer.stop()
    assert {(v.validator, v.height) for v in final.votes} == {(k.public_hex, 1) for k in task.keys.validators[1:]}


async def _stored_votes(producer: Any, block_hash: str, count: int) -> bool:
    return len(await producer.repo.votes_for(block_hash)) >= count
