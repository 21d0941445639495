"""One validator replica's state (schema ``validator``): its verdicts, its copy of the chain and the votes seen.

Several replicas may share the schema; every row is keyed by the replica's public key (``validator``). A
replica may store several blocks at one height (a refused proposal, then the one it accepts), but at most one
of them is ever final, which a partial unique index enforces, and it votes to accept at most one of them
(``accepted``, keyed (validator, height)). A second producer-signed block at a height is kept as ``evidence``.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert

from zkpot.db.observed import ObservedMixin
from zkpot.db.rows import EvidenceRow, ValidatorBlockRow, ValidatorVoteRow, VerdictRow
from zkpot.db.sql import check_one_of
from zkpot.db.tables import (
    VALIDATOR_BLOCK_STATUSES,
    validator_accepted,
    validator_blocks,
    validator_evidence,
    validator_observed,
    validator_rejections,
    validator_votes,
    verdicts,
)
from zkpot.domain.messages import Attestation, Block, Transaction, Vote

_blocks = validator_blocks.c


class ValidatorRepo(ObservedMixin):
    observed_table = validator_observed

    async def add_verdict(self, attestation: Attestation, tx: Transaction, verify_s: float | None = None) -> bool:
        """Store this replica's signed verdict on ``tx``; False when it already judged that tx."""
        values = {"validator": attestation.validator, "tx_id": attestation.tx_id, "round": attestation.round,
                  "client": tx.client, "commitment": tx.commitment, "valid": attestation.valid,
                  "reason": attestation.reason, "verify_s": verify_s, "attestation": attestation.to_dict()}
        return await self._insert_new(verdicts, values)

    async def verdict(self, validator: str, tx_id: str) -> VerdictRow | None:
        query = select(verdicts).where(verdicts.c.validator == validator, verdicts.c.tx_id == tx_id)
        return await self._first(query, VerdictRow)

    async def txs_seen_in_round(self, validator: str, round: int) -> list[VerdictRow]:
        """Every tx this replica judged in ``round``, oldest first (for the one-tx-per-client and the
        one-commitment-per-round checks)."""
        query = (select(verdicts).where(verdicts.c.validator == validator, verdicts.c.round == round)
                 .order_by(verdicts.c.created_at, verdicts.c.tx_id))
        return await self._all(query, VerdictRow)

    async def add_block(self, validator: str, block: Block, status: str, vote_reason: str | None = None) -> bool:
        """Store a block this replica judged (``voted``, ``refused`` or ``final``); False when already stored."""
        check_one_of("block status", status, VALIDATOR_BLOCK_STATUSES)
        header = block.header
        values = {"validator": validator, "hash": block.hash, "height": header.height, "round": header.round,
                  "block": block.to_dict(), "status": status, "vote_reason": vote_reason}
        return await self._insert_new(validator_blocks, values)

    async def set_block_status(self, validator: str, block_hash: str, status: str) -> bool:
        """Move a stored block to ``status``; False when not stored or already there."""
        check_one_of("block status", status, VALIDATOR_BLOCK_STATUSES)
        statement = (update(validator_blocks)
                     .where(_blocks.validator == validator, _blocks.hash == block_hash, _blocks.status != status)
                     .values(status=status))
        return await self._changed(statement)

    async def blocks_at_height(self, validator: str, height: int) -> list[ValidatorBlockRow]:
        """Every block this replica stored at ``height``, oldest first."""
        query = (select(validator_blocks).where(_blocks.validator == validator, _blocks.height == height)
                 .order_by(_blocks.created_at, _blocks.hash))
        return await self._all(query, ValidatorBlockRow)

    async def accept_once(self, validator: str, height: int, block_hash: str) -> str:
        """Record that this replica votes to accept ``block_hash`` at ``height`` unless it already accepts a
        block there; the hash it accepts at ``height`` (``block_hash`` itself when new or repeated)."""
        table = validator_accepted
        key = (table.c.validator == validator, table.c.height == height)
        claim = (insert(table).values(validator=validator, height=height, block_hash=block_hash)
                 .on_conflict_do_nothing(index_elements=[table.c.validator, table.c.height]))
        async with self._transaction() as conn:
            await conn.execute(claim)
            return str((await conn.execute(select(table.c.block_hash).where(*key))).scalar_one())

    async def add_evidence(self, validator: str, block: Block, conflicts_with: str) -> bool:
        """Keep a producer-signed ``block`` that shares its height with ``conflicts_with``; False when kept."""
        values = {"validator": validator, "hash": block.hash, "height": block.header.height,
                  "conflicts_with": conflicts_with, "block": block.to_dict()}
        return await self._insert_new(validator_evidence, values)

    async def evidence(self, validator: str) -> list[EvidenceRow]:
        """This replica's evidence of equivocation, by height then arrival."""
        c = validator_evidence.c
        query = (select(validator_evidence).where(c.validator == validator)
                 .order_by(c.height, c.created_at, c.hash))
        return await self._all(query, EvidenceRow)

    async def block(self, validator: str, block_hash: str) -> ValidatorBlockRow | None:
        query = select(validator_blocks).where(_blocks.validator == validator, _blocks.hash == block_hash)
        return await self._first(query, ValidatorBlockRow)

    async def latest_final(self, validator: str) -> ValidatorBlockRow | None:
        """The tip of this replica's chain: its final block of greatest height, or None before the first."""
        query = (select(validator_blocks).where(_blocks.validator == validator, _blocks.status == "final")
                 .order_by(_blocks.height.desc()).limit(1))
        return await self._first(query, ValidatorBlockRow)

    async def commitments_used(self, validator: str) -> set[str]:
        """Every weight commitment of a tx included in one of this replica's final blocks."""
        txs = func.jsonb_array_elements(_blocks.block["txs"], type_=JSONB)
        query = select(txs["commitment"].astext).where(_blocks.validator == validator, _blocks.status == "final")
        return set(await self._scalars(query))

    async def add_vote(self, validator: str, vote: Vote) -> bool:
        """Store a vote this replica saw (its own or a peer's); False when already stored."""
        values = {"validator": validator, "block_hash": vote.block_hash, "voter": vote.validator,
                  "accept": vote.accept, "vote": vote.to_dict()}
        return await self._insert_new(validator_votes, values)

    async def votes_for(self, validator: str, block_hash: str) -> list[ValidatorVoteRow]:
        query = (select(validator_votes)
                 .where(validator_votes.c.validator == validator, validator_votes.c.block_hash == block_hash)
                 .order_by(validator_votes.c.voter))
        return await self._all(query, ValidatorVoteRow)

    async def add_rejection(self, validator: str, *, subject: str, ref: str, round: int, reason: str,
                            detail: str) -> bool:
        """Record a refusal that is not a verdict on a fresh tx (a replay, a malformed message, a forged finality
        claim); False when the same refusal was recorded already (a redelivery)."""
        values = {"validator": validator, "subject": subject, "ref": ref, "round": round, "reason": reason,
                  "detail": detail[:500]}
        return await self._insert_new(validator_rejections, values)

    async def rejections(self, validator: str) -> list[tuple[str, str, int, str]]:
        """(subject, ref, round, reason) of every recorded refusal, oldest first."""
        query = (select(validator_rejections.c.subject, validator_rejections.c.ref, validator_rejections.c.round,
                        validator_rejections.c.reason)
                 .where(validator_rejections.c.validator == validator).order_by(validator_rejections.c.created_at))
        return [tuple(r) for r in await self._tuples(query)]  # type: ignore[misc]
