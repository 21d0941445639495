"""The block-producer's state (schema ``producer``): rounds, received txs and attestations, the canonical chain.

Round: open -> proposed -> final (a failed proposal leaves it proposed until the next one). Block: proposed ->
final | failed; one proposed-or-final block per height, so a failed proposal frees its height.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Update, func, select, update

from zkpot.db.observed import ObservedMixin
from zkpot.db.rows import AttestationRow, ProducerBlockRow, ProducerRoundRow, ProducerVoteRow, TxRow
from zkpot.db.sql import check_one_of
from zkpot.db.tables import (
    TX_STATUSES,
    attestations,
    producer_blocks,
    producer_observed,
    producer_rejections,
    producer_rounds,
    producer_votes,
    txs,
)
from zkpot.domain.messages import Attestation, Block, Transaction, Vote

_rounds = producer_rounds.c
_blocks = producer_blocks.c


class ProducerRepo(ObservedMixin):
    observed_table = producer_observed

    async def open_round(self, round: int, *, parent: str, global_model_cid: str, deadline: datetime) -> bool:
        """Record ``round`` as open (``deadline`` must be timezone-aware); False when already recorded."""
        values = {"round": round, "parent": parent, "global_model_cid": global_model_cid, "deadline": deadline}
        return await self._insert_new(producer_rounds, values)

    async def close_round(self, round: int, *, block_hash: str, collection_s: float, aggregation_s: float) -> bool:
        """Record the proposal that closes collection; again after a failed proposal. False once final."""
        values = {"state": "proposed", "block_hash": block_hash, "closed_at": func.now(),
                  "collection_s": collection_s, "aggregation_s": aggregation_s}
        return await self._changed(_round_not_final(round).values(**values))

    async def finalize_round(self, round: int, *, finalization_s: float) -> bool:
        """Mark the round final; False when unknown or already final."""
        return await self._changed(_round_not_final(round).values(state="final", finalization_s=finalization_s))

    async def get_round(self, round: int) -> ProducerRoundRow | None:
        return await self._first(select(producer_rounds).where(_rounds.round == round), ProducerRoundRow)

    async def latest_round(self) -> ProducerRoundRow | None:
        """The highest round recorded (where a restarted producer resumes), or None before the first."""
        query = select(producer_rounds).order_by(_rounds.round.desc()).limit(1)
        return await self._first(query, ProducerRoundRow)

    async def add_tx(self, tx: Transaction) -> bool:
        """Store a received tx as pending; False when its tx id is already stored."""
        values = {"tx_id": tx.tx_id, "round": tx.round, "client": tx.client, "tx": tx.to_dict()}
        return await self._insert_new(txs, values)

    async def set_tx_status(self, tx_id: str, status: str, reason: str | None = None) -> bool:
        """Mark a tx ``included`` or ``rejected`` (with the reason code); False when the tx is not stored."""
        check_one_of("tx status", status, TX_STATUSES)
        return await self._changed(update(txs).where(txs.c.tx_id == tx_id).values(status=status, reason=reason))

    async def txs_for_round(self, round: int) -> list[TxRow]:
        """The round's txs in tx-id order (the order blocks list them in)."""
        return await self._all(select(txs).where(txs.c.round == round).order_by(txs.c.tx_id), TxRow)

    async def add_attestation(self, attestation: Attestation) -> bool:
        """Store a validator's attestation; False when that validator's attestation of the tx is stored."""
        values = {"tx_id": attestation.tx_id, "validator": attestation.validator, "round": attestation.round,
                  "valid": attestation.valid, "reason": attestation.reason, "attestation": attestation.to_dict()}
        return await self._insert_new(attestations, values)

    async def attestations_for_round(self, round: int) -> list[AttestationRow]:
        """Every attestation received for a tx of ``round``, ordered by tx id then validator."""
        query = (select(attestations).where(attestations.c.round == round)
                 .order_by(attestations.c.tx_id, attestations.c.validator))
        return await self._all(query, AttestationRow)

    async def add_block(self, block: Block) -> bool:
        """Store a proposed block; False when its hash is stored. A second live block at the same height is
        refused by the database (``DatabaseError``): fail the previous proposal first."""
        header = block.header
        values = {"hash": block.hash, "height": header.height, "round": header.round, "block": block.to_dict()}
        return await self._insert_new(producer_blocks, values)

    async def finalize_block(self, block_hash: str) -> bool:
        """Mark a proposed block final; False when not stored or not proposed."""
        return await self._changed(_proposed(block_hash).values(status="final", finalized_at=func.now()))

    async def fail_block(self, block_hash: str) -> bool:
        """Give up a proposed block (no quorum), freeing its height; False when not stored or not proposed."""
        return await self._changed(_proposed(block_hash).values(status="failed"))

    async def get_block(self, block_hash: str) -> ProducerBlockRow | None:
        return await self._first(select(producer_blocks).where(_blocks.hash == block_hash), ProducerBlockRow)

    async def latest_final_block(self) -> ProducerBlockRow | None:
        """The chain's tip, or None before the first block after genesis is final."""
        query = select(producer_blocks).where(_blocks.status == "final").order_by(_blocks.height.desc()).limit(1)
        return await self._first(query, ProducerBlockRow)

    async def add_vote(self, vote: Vote) -> bool:
        """Store a validator's vote; False when that validator's vote on the block is stored."""
        values = {"block_hash": vote.block_hash, "validator": vote.validator, "accept": vote.accept,
                  "reason": vote.reason, "vote": vote.to_dict()}
        return await self._insert_new(producer_votes, values)

    async def votes_for(self, block_hash: str) -> list[ProducerVoteRow]:
        query = (select(producer_votes).where(producer_votes.c.block_hash == block_hash)
                 .order_by(producer_votes.c.validator))
        return await self._all(query, ProducerVoteRow)

    async def add_rejection(self, *, subject: str, ref: str, round: int, reason: str, detail: str) -> bool:
        """Record a message dropped before it was stored (a tx with a bad signature or from outside the
        registry); False when the same refusal was recorded already (a redelivery)."""
        values = {"subject": subject, "ref": ref, "round": round, "reason": reason, "detail": detail[:500]}
        return await self._insert_new(producer_rejections, values)

    async def rejections(self) -> list[tuple[str, str, int, str]]:
        """(subject, ref, round, reason) of every recorded refusal, oldest first."""
        c = producer_rejections.c
        query = select(c.subject, c.ref, c.round, c.reason).order_by(c.created_at, c.ref)
        return [tuple(r) for r in await self._tuples(query)]  # type: ignore[misc]


def _round_not_final(round: int) -> Update:
    return update(producer_rounds).where(_rounds.round == round, _rounds.state != "final")


def _proposed(block_hash: str) -> Update:
    return update(producer_blocks).where(_blocks.hash == block_hash, _blocks.status == "proposed")
