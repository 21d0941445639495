"""The ValidatorStore and ProducerStore contracts, fed with real signed domain messages: each test runs on the
in-memory twin and on the SQL repository over a real PostgreSQL (conftest.py)."""

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from zkpot.db.errors import DatabaseError, UnknownStatus
from zkpot.domain import Block

from tests.unit.domain.builders import CLIENTS, VALIDATORS, attest, build_chain, make_tx, vote

CHAIN = build_chain(2)
B1, B2 = CHAIN.blocks
ME = VALIDATORS[0].public_hex


def _rival(block: Block) -> Block:
    """Another block at the same height (a re-proposal)."""
    header = dataclasses.replace(block.header, timestamp_ms=block.header.timestamp_ms + 1)
    return dataclasses.replace(block, header=header)


class TestValidatorStore:
    @pytest.fixture
    def repo(self, validator_store):
        return validator_store

    async def test_verdicts_are_stored_once_per_validator(self, repo) -> None:
        tx = B1.txs[0]
        mine, theirs = attest(tx, VALIDATORS[:2])
        assert await repo.add_verdict(mine, tx, verify_s=0.25) is True
        assert await repo.add_verdict(mine, tx, verify_s=9.0) is False
        assert await repo.add_verdict(theirs, tx) is True
        row = await repo.verdict(ME, tx.tx_id)
        assert row is not None
        assert (row.round, row.client, row.commitment, row.valid, row.reason, row.verify_s) == (
            tx.round, tx.client, tx.commitment, True, "ok", 0.25)
        assert row.attestation == mine.to_dict()
        assert await repo.verdict(ME, "00" * 32) is None

    async def test_txs_seen_in_a_round(self, repo) -> None:
        for tx in [*B1.txs, *B2.txs]:
            await repo.add_verdict(attest(tx, VALIDATORS[:1])[0], tx)
        seen = await repo.txs_seen_in_round(ME, 2)
        assert {row.tx_id for row in seen} == {tx.tx_id for tx in B2.txs}
        assert await repo.txs_seen_in_round(VALIDATORS[1].public_hex, 2) == []

    async def test_validator_chain_copy(self, repo) -> None:
        assert await repo.latest_final(ME) is None
        assert await repo.add_block(ME, B1, "voted") is True
        assert await repo.add_block(ME, B1, "refused", "wrong_leader") is False
        assert await repo.set_block_status(ME, B1.hash, "final") is True
        assert await repo.set_block_status(ME, B1.hash, "final") is False
        assert await repo.add_block(ME, B2, "final") is True
        assert await repo.add_block(VALIDATORS[1].public_hex, B2, "refused", "wrong_leader") is True
        tip = await repo.latest_final(ME)
        assert tip is not None and (tip.hash, tip.height, tip.round, tip.block) == (B2.hash, 2, 2, B2.to_dict())
        other = await repo.block(VALIDATORS[1].public_hex, B2.hash)
        assert other is not None and (other.status, other.vote_reason) == ("refused", "wrong_leader")
        assert await repo.latest_final(VALIDATORS[1].public_hex) is None

    async def test_a_validator_keeps_a_refused_proposal_beside_the_final_block_of_its_height(self, repo) -> None:
        rival = _rival(B1)
        assert await repo.add_block(ME, rival, "refused", "bad_tx_root") is True
        assert await repo.add_block(ME, B1, "final") is True
        with pytest.raises(DatabaseError):
            await repo.set_block_status(ME, rival.hash, "final")

    async def test_commitments_used_come_from_final_blocks_only(self, repo) -> None:
        await repo.add_block(ME, B1, "final")
        await repo.add_block(ME, B2, "voted")
        assert await repo.commitments_used(ME) == {tx.commitment for tx in B1.txs}
        await repo.set_block_status(ME, B2.hash, "final")
        assert await repo.commitments_used(ME) == {tx.commitment for tx in [*B1.txs, *B2.txs]}
        assert await repo.commitments_used(VALIDATORS[1].public_hex) == set()

    async def test_validator_votes(self, repo) -> None:
        votes = CHAIN.votes[B1.hash]
        assert [await repo.add_vote(ME, v) for v in votes] == [True] * len(votes)
        assert await repo.add_vote(ME, votes[0]) is False
        stored = await repo.votes_for(ME, B1.hash)
        assert sorted(v.to_dict()["validator"] for v in votes) == [row.voter for row in stored]
        assert all(row.accept and row.vote["block_hash"] == B1.hash for row in stored)
        assert await repo.votes_for(VALIDATORS[1].public_hex, B1.hash) == []

    async def test_an_unknown_block_status_is_refused(self, repo) -> None:
        with pytest.raises(UnknownStatus):
            await repo.add_block(ME, B1, "accepted")

    async def test_a_validator_accepts_one_block_per_height(self, repo) -> None:
        rival = _rival(B1)
        assert await repo.accept_once(ME, 1, B1.hash) == B1.hash
        assert await repo.accept_once(ME, 1, B1.hash) == B1.hash  # a redelivery: the same claim
        assert await repo.accept_once(ME, 1, rival.hash) == B1.hash  # the first claim stands
        assert await repo.accept_once(VALIDATORS[1].public_hex, 1, rival.hash) == rival.hash
        assert await repo.accept_once(ME, 2, B2.hash) == B2.hash

    async def test_blocks_at_a_height_and_evidence_of_equivocation(self, repo) -> None:
        rival = _rival(B1)
        await repo.add_block(ME, B1, "voted")
        await repo.add_block(ME, rival, "refused", "equivocation")
        await repo.add_block(ME, B2, "voted")
        assert [r.hash for r in await repo.blocks_at_height(ME, 1)] == [B1.hash, rival.hash]
        assert await repo.blocks_at_height(VALIDATORS[1].public_hex, 1) == []
        assert await repo.add_evidence(ME, rival, B1.hash) is True
        assert await repo.add_evidence(ME, rival, B1.hash) is False
        assert await repo.add_evidence(VALIDATORS[1].public_hex, rival, B1.hash) is True
        kept = await repo.evidence(ME)
        assert [(e.hash, e.height, e.conflicts_with, e.block) for e in kept] == [
            (rival.hash, 1, B1.hash, rival.to_dict())]

    async def test_rejections_are_logged_once_per_validator(self, repo) -> None:
        refusal = {"subject": "tx", "ref": B1.txs[0].tx_id, "round": 1, "reason": "replayed_commitment"}
        assert await repo.add_rejection(ME, **refusal, detail="seen in block 1") is True
        assert await repo.add_rejection(ME, **refusal, detail="again") is False
        assert await repo.add_rejection(ME, **{**refusal, "round": 2}, detail="x" * 2000) is True
        assert await repo.rejections(ME) == [("tx", B1.txs[0].tx_id, 1, "replayed_commitment"),
                                             ("tx", B1.txs[0].tx_id, 2, "replayed_commitment")]
        assert await repo.rejections(VALIDATORS[1].public_hex) == []


class TestProducerStore:
    @pytest.fixture
    def repo(self, producer_store):
        return producer_store

    async def test_producer_round_lifecycle(self, repo) -> None:
        deadline = datetime(2030, 1, 1, tzinfo=UTC)
        assert await repo.open_round(1, parent="aa" * 32, global_model_cid="bafy-g0", deadline=deadline) is True
        assert await repo.open_round(1, parent="bb" * 32, global_model_cid="x", deadline=deadline) is False
        assert await repo.close_round(1, block_hash=B1.hash, collection_s=30.0, aggregation_s=2.5) is True
        assert await repo.finalize_round(1, finalization_s=1.25) is True
        assert await repo.finalize_round(1, finalization_s=9.0) is False
        assert await repo.close_round(1, block_hash="ff" * 32, collection_s=0, aggregation_s=0) is False
        row = await repo.get_round(1)
        assert row is not None
        assert (row.parent, row.deadline, row.state, row.block_hash) == ("aa" * 32, deadline, "final", B1.hash)
        assert (row.collection_s, row.aggregation_s, row.finalization_s) == (30.0, 2.5, 1.25)
        assert row.closed_at is not None and row.closed_at >= row.opened_at
        await repo.open_round(2, parent=B1.hash, global_model_cid="bafy-g1", deadline=deadline + timedelta(hours=1))
        latest = await repo.latest_round()
        assert latest is not None and (latest.round, latest.state) == (2, "open")
        assert await repo.get_round(3) is None

    async def test_producer_txs_and_attestations(self, repo) -> None:
        late = make_tx(CLIENTS[0], 2, B1.hash, 70)
        assert [await repo.add_tx(tx) for tx in [*B1.txs, late]] == [True] * (len(B1.txs) + 1)
        assert await repo.add_tx(B1.txs[0]) is False
        assert await repo.set_tx_status(B1.txs[0].tx_id, "rejected", "model_commitment_mismatch") is True
        assert await repo.set_tx_status("00" * 32, "included") is False
        rows = await repo.txs_for_round(1)
        assert [row.tx_id for row in rows] == sorted(tx.tx_id for tx in B1.txs)
        assert {row.tx_id: (row.status, row.reason) for row in rows}[B1.txs[0].tx_id] == (
            "rejected", "model_commitment_mismatch")
        assert all(row.tx == tx.to_dict() for row, tx in zip(rows, B1.txs, strict=True))
        for tx in B1.txs:
            assert [await repo.add_attestation(a) for a in CHAIN.attestations[tx.tx_id]] == [True] * 3
        for attestation in attest(late, VALIDATORS):
            await repo.add_attestation(attestation)
        assert await repo.add_attestation(CHAIN.attestations[B1.txs[0].tx_id][0]) is False
        stored = await repo.attestations_for_round(1)
        assert len(stored) == 3 * len(B1.txs)
        assert [(a.tx_id, a.validator) for a in stored] == sorted((a.tx_id, a.validator) for a in stored)
        assert all(a.valid and a.round == 1 for a in stored)

    async def test_an_unknown_tx_status_is_refused(self, repo) -> None:
        with pytest.raises(UnknownStatus):
            await repo.set_tx_status(B1.txs[0].tx_id, "accepted")

    async def test_producer_chain(self, repo) -> None:
        assert await repo.latest_final_block() is None
        assert await repo.add_block(B1) is True
        assert await repo.add_block(B1) is False
        assert await repo.finalize_block(B1.hash) is True
        assert await repo.finalize_block(B1.hash) is False
        await repo.add_block(B2)
        tip = await repo.latest_final_block()
        assert tip is not None and (tip.hash, tip.height, tip.block) == (B1.hash, 1, B1.to_dict())
        proposed = await repo.get_block(B2.hash)
        assert proposed is not None and (proposed.status, proposed.finalized_at) == ("proposed", None)

    async def test_one_live_block_per_height(self, repo) -> None:
        rival = _rival(B1)
        await repo.add_block(B1)
        with pytest.raises(DatabaseError):
            await repo.add_block(rival)
        assert await repo.fail_block(B1.hash) is True
        assert await repo.fail_block(B1.hash) is False
        assert await repo.add_block(rival) is True
        assert await repo.finalize_block(B1.hash) is False

    async def test_producer_rejections_are_logged_once(self, repo) -> None:
        refusal = {"subject": "zkpot.tx.submitted", "ref": B1.txs[0].tx_id, "round": 1, "reason": "bad_signature"}
        assert await repo.add_rejection(**refusal, detail="forged") is True
        assert await repo.add_rejection(**refusal, detail="again") is False
        assert await repo.add_rejection(**{**refusal, "reason": "unknown_client"}, detail="x" * 2000) is True
        assert await repo.rejections() == [("zkpot.tx.submitted", B1.txs[0].tx_id, 1, "bad_signature"),
                                           ("zkpot.tx.submitted", B1.txs[0].tx_id, 1, "unknown_client")]
        assert await repo.txs_for_round(1) == []

    async def test_producer_votes(self, repo) -> None:
        votes = [*CHAIN.votes[B1.hash], *vote(B1, VALIDATORS[3:], accept=False)]
        assert [await repo.add_vote(v) for v in votes] == [True] * 4
        assert await repo.add_vote(votes[0]) is False
        stored = await repo.votes_for(B1.hash)
        assert [row.validator for row in stored] == sorted(v.validator for v in votes)
        assert sum(row.accept for row in stored) == 3
        assert {row.reason for row in stored if not row.accept} == {"wrong_leader"}
        assert await repo.votes_for(B2.hash) == []
