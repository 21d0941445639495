"""The validator service on the in-memory bus and store: what it attests, what it refuses and why, what it votes,
and a replica restarted over its store picking up where it stopped."""

from __future__ import annotations

import dataclasses
import json
import random

from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_VOTE, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.memory import MemoryValidatorRepo
from zkpot.domain import Reason, SigningKey, Transaction, sha256_hex
from zkpot.domain.events import Finalized
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
