"""The validator service on the in-memory bus and store: what it attests, what it refuses and why, what it votes,
and a replica restarted over its store picking up where it stopped."""

from __future__ import annotations

import dataclasses
import json
import random
from typing import Any

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, BLOCK_VOTE, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryValidatorRepo
from zkpot.domain import Reason, SigningKey, Transaction, sha256_hex
from zkpot.domain.events import Certificate, Finalized
from zkpot.ml.model import count_correct, weights_to_bytes
from zkpot.services.validator import Validator

from .support import Task, counter, eventually


def _attested(task: Task, tx: Transaction) -> dict[str, str]:
    """validator -> reason of every attestation published on ``tx``."""
    return {a["validator"]: a["reason"] for a in task.payloads(TX_ATTESTED) if a["tx_id"] == tx.tx_id}


def _flipped(proof: bytes) -> bytes:
    doc = json.loads(proof)
    doc["mac"] = ("1" if doc["mac"][0] == "0" else "0") + doc["mac"][1:]
    return json.dumps(doc).encode()


async def _judge(task: Task, validator: Validator, tx: Transaction) -> str:
    await validator.on_tx(tx.to_dict())
    return _attested(task, tx)[validator.id]


async def test_a_valid_tx_is_attested_and_its_verdict_stored() -> None:
    async with Task() as task:
        v = task.validator(0)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        assert await _judge(task, v, tx) == Reason.OK
        verdict = await v.repo.verdict(v.id, tx.tx_id)
        assert verdict is not None and verdict.valid and verdict.commitment == tx.commitment
        assert counter(v.metrics, "zkpot_tx_accepted") == 1


async def test_each_broken_tx_is_refused_with_its_reason() -> None:
    async with Task(clients=3) as task:
        v, parent, w = task.validator(0), task.genesis.genesis_hash, task.weights
        honest = await task.tx(0, 1, parent, w(1))
        tampered = await task.tx(1, 1, parent, w(2), proof=_flipped(task.system.prove(w(2)).proof))
        claim = await task.tx(1, 1, parent, w(3), correct=task.system.prove(w(3)).correct + 1)
        forged = await task.tx(2, 1, parent, w(4))
        forged = dataclasses.replace(forged, signature=SigningKey.generate().sign(forged.signing_payload()))
        second = await task.tx(0, 1, parent, w(5))  # honest's member again
        assert [await _judge(task, v, tx) for tx in (honest, tampered, claim, forged, second)] == [
            Reason.OK, Reason.PROOF_INVALID, Reason.CLAIM_MISMATCH, Reason.BAD_SIGNATURE, Reason.DUPLICATE_CLIENT_TX]
        stored = {row.tx_id: row.reason for row in await v.repo.txs_seen_in_round(v.id, 1)}
        assert stored == {tx.tx_id: _attested(task, tx)[v.id] for tx in (honest, tampered, claim, forged, second)}
        for reason in ("proof_invalid", "claim_mismatch", "bad_signature", "duplicate_client_tx"):
            assert counter(v.metrics, "zkpot_tx_rejected", reason=reason) == 1


async def test_after_a_final_block_a_replay_and_a_reused_commitment_are_refused() -> None:
    async with Task() as task:
        v, w = task.validator(0), task.weights(1)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, w)
        assert await _judge(task, v, tx) == Reason.OK
        final = await task.finalized([tx])
        await v.on_finalized(final)
        tip = await v.repo.latest_final(v.id)
        assert tip is not None and tip.hash == final.block.hash

        await v.on_tx(tx.to_dict())  # the round-1 tx replayed in round 2
        assert await v.repo.rejections(v.id) == [(TX_SUBMITTED, tx.tx_id, 2, "wrong_round")]
        reused = await task.tx(1, 2, final.block.hash, w)  # another member, the round-1 commitment
        assert await _judge(task, v, reused) == Reason.REUSED_COMMITMENT
        assert len(task.payloads(TX_ATTESTED)) == 2  # the replay got no new attestation


async def test_forged_proposals_are_refused_with_their_reason() -> None:
    async with Task() as task:
        v = task.validator(0)
        wrong_leader = (await task.finalized([], leader_client=task.keys.clients[0].public_hex,
                                             leader_tx="ab" * 32, leader_correct=task.genesis.samples)).proposal
        rng = random.Random(5)
        garbage = {k: w * 0 + rng.uniform(-3, 3) for k, w in task.weights(5).items()}
        data = weights_to_bytes(garbage)
        cid = await task.blobs.put("global", data)
        real = count_correct(task.arch, garbage, task.test_set)
        claimed = real + 1 if real < task.genesis.samples else real - 1
        garbage_model = (await task.finalized([], model_cid=cid, model_sha256=sha256_hex(data),
                                              global_correct=claimed)).proposal
        for proposal in (wrong_leader, garbage_model):
            await v.on_proposal(proposal)
        votes = {p["block_hash"]: (p["accept"], p["reason"]) for p in task.payloads(BLOCK_VOTE)}
        assert votes == {wrong_leader.block.hash: (False, "wrong_leader"),
                         garbage_model.block.hash: (False, "global_accuracy_mismatch")}
        for proposal in (wrong_leader, garbage_model):
            row = await v.repo.block(v.id, proposal.block.hash)
            assert row is not None and row.status == "refused"


async def test_a_good_proposal_is_voted_for_and_a_quorum_makes_it_final() -> None:
    async with Task() as task:
        v = task.validator(0)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        await v.on_tx(tx.to_dict())
        final = await task.finalized([tx])
        await v.on_proposal(final.proposal)
        assert [(p["accept"], p["reason"]) for p in task.payloads(BLOCK_VOTE)] == [(True, "ok")]
        forged = Finalized(final.proposal, final.votes[:2])  # short of the quorum of 3
        await v.on_finalized(forged)
        assert await v.repo.latest_final(v.id) is None
        assert await v.repo.rejections(v.id) == [(BLOCK_FINALIZED, final.block.hash, 1, "no_quorum")]
        await v.on_finalized(final)
        row = await v.repo.latest_final(v.id)
        assert row is not None and row.hash == final.block.hash
        assert counter(v.metrics, "zkpot_blocks_finalized") == 1


async def test_a_restarted_replica_repeats_its_verdicts_and_resumes_its_chain() -> None:
    async with Task() as task:
        store = MemoryValidatorRepo()
        first = task.validator(0, store)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        await first.start()
        await task.submit(tx)
        await eventually(lambda: _attested(task, tx), "the first attestation")
        await first.stop()

        again = task.validator(0, store)  # a new process over the same database
        checks = again.checker.verifier
        await again.on_tx(tx.to_dict())  # a redelivery: the same signed verdict, not a second judgement
        assert checks.checks == 0 and len(await store.txs_seen_in_round(again.id, 1)) == 1
        assert _attested(task, tx) == {again.id: "ok"}

        final = await task.finalized([tx])
        await again.on_finalized(final)
        third = task.validator(0, store)
        fresh = await task.tx(1, 2, final.block.hash, task.weights(2))
        await third.on_tx(fresh.to_dict())  # its open round comes from its stored chain: round 2 on block 1
        assert _attested(task, fresh) == {third.id: "ok"}


async def test_replicas_sharing_a_store_keep_their_own_state() -> None:
    async with Task() as task:
        store = MemoryValidatorRepo()
        a, b = task.validator(0, store), task.validator(1, store)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        await a.on_tx(tx.to_dict())
        assert await store.verdict(b.id, tx.tx_id) is None
        await b.on_tx(tx.to_dict())
        assert _attested(task, tx) == {a.id: "ok", b.id: "ok"}


# --- one accepting vote per height, evidence, catching up from certificates -------------------------------------


async def _tip(v: Validator) -> str | None:
    row = await v.repo.latest_final(v.id)
    return row.hash if row else None


def _votes(task: Task, block_hash: str) -> list[tuple[bool, str]]:
    return [(p["accept"], p["reason"]) for p in task.payloads(BLOCK_VOTE) if p["block_hash"] == block_hash]


async def _voted_block_one(task: Task, v: Validator) -> Finalized:
    """Block 1 (one valid tx) proposed, judged and voted for by ``v``; its bundle as the producer would finalize it."""
    tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
    await v.on_tx(tx.to_dict())
    final = await task.finalized([tx])
    await v.on_proposal(final.proposal)
    assert _votes(task, final.block.hash) == [(True, "ok")]
    return final


async def _child(task: Task, parent: Finalized, certificate: Certificate | None = None, **header: Any) -> Finalized:
    """Block 2 (empty) on ``parent``, its proposal carrying ``certificate`` (default: the parent's own)."""
    child = await task.finalized([], prev=parent.block.header, **header)
    proposal = dataclasses.replace(child.proposal, parent=certificate or parent.certificate)
    return dataclasses.replace(child, proposal=proposal)


async def test_a_second_block_at_one_height_is_kept_as_evidence_and_gets_no_accepting_vote() -> None:
    async with Task() as task:
        v = task.validator(0)
        first = await _voted_block_one(task, v)
        rival = await task.finalized(list(first.block.txs), timestamp_ms=6)  # the producer signs another block 1
        for _ in range(2):  # a redelivery changes nothing and crashes nothing
            await v.on_proposal(rival.proposal)
            await v.on_proposal(first.proposal)
        assert _votes(task, rival.block.hash) == [(False, "equivocation")]  # deduplicated by vote id
        assert _votes(task, first.block.hash) == [(True, "ok")]
        kept = await v.repo.evidence(v.id)
        assert [(e.hash, e.height, e.conflicts_with) for e in kept] == [(rival.block.hash, 1, first.block.hash)]
        assert await v.repo.rejections(v.id) == [(BLOCK_PROPOSED, rival.block.hash, 1, "equivocation")]
        assert counter(v.metrics, "zkpot_block_votes", reason="equivocation") == 1
        assert counter(v.metrics, "zkpot_tx_rejected", reason="equivocation") == 1
        await v.on_finalized(first)
        await v.on_finalized(rival)  # a second final block at height 1: recorded, not applied, no crash
        assert await _tip(v) == first.block.hash
        assert (BLOCK_FINALIZED, rival.block.hash, 1, "equivocation") in await v.repo.rejections(v.id)


async def test_a_restarted_replica_does_not_vote_twice_at_a_height() -> None:
    async with Task() as task:
        store = MemoryValidatorRepo()
        first = await _voted_block_one(task, task.validator(0, store))
        rival = await task.finalized(list(first.block.txs), timestamp_ms=6)
        again = task.validator(0, store)
        await again.on_proposal(rival.proposal)
        assert _votes(task, rival.block.hash) == [(False, "equivocation")]


async def test_a_replica_that_missed_block_finalized_catches_up_from_the_next_proposal() -> None:
    async with Task() as task:
        v = task.validator(0)
        one = await _voted_block_one(task, v)  # its block.finalized never reaches the replica
        two = await _child(task, one)
        await v.on_proposal(two.proposal)
        assert await _tip(v) == one.block.hash
        assert _votes(task, two.block.hash) == [(True, "ok")]
        await v.on_finalized(one)  # the late announcement changes nothing
        await v.on_finalized(two)
        assert await _tip(v) == two.block.hash
        assert counter(v.metrics, "zkpot_blocks_finalized") == 2


async def test_a_proposal_whose_parent_certificate_does_not_check_is_refused() -> None:
    async with Task() as task:
        v = task.validator(0)
        one = await _voted_block_one(task, v)
        cert = one.certificate
        short = await _child(task, one, dataclasses.replace(cert, votes=cert.votes[:2]))
        elsewhere = await _child(task, one, dataclasses.replace(cert, block_hash="ab" * 32), timestamp_ms=7)
        assert short.block.hash != elsewhere.block.hash
        for bad in (short, elsewhere):
            await v.on_proposal(bad.proposal)
            assert _votes(task, bad.block.hash) == [(False, "bad_certificate")]
        assert await _tip(v) is None


async def test_a_final_block_beyond_a_gap_is_adopted_with_the_parent_its_quorum_implies() -> None:
    async with Task() as task:
        v = task.validator(0)
        one = await _voted_block_one(task, v)
        two = await _child(task, one)
        await v.on_finalized(two)  # neither block 1's announcement nor block 2's proposal reached it
        assert await _tip(v) == two.block.hash
        first = await v.repo.block(v.id, one.block.hash)
        assert first is not None and first.status == "final"


async def test_a_final_block_this_replica_cannot_link_is_recorded_not_retried_forever() -> None:
    async with Task() as task:
        v = task.validator(0)
        tx = await task.tx(0, 1, task.genesis.genesis_hash, task.weights(1))
        one = await task.finalized([tx])  # never seen by this replica
        two = await _child(task, one)
        await v.on_finalized(two)
        assert await _tip(v) is None
        assert await v.repo.rejections(v.id) == [(BLOCK_FINALIZED, two.block.hash, 2, "chain_gap")]
        await v.on_proposal(two.proposal)
        assert _votes(task, two.block.hash) == [(False, "chain_gap")]
        await v.on_finalized(one)  # once block 1 arrives, block 2's announcement applies
        await v.on_finalized(two)
        assert await _tip(v) == two.block.hash
