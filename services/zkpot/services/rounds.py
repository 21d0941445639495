"""What a validator checks of a round when no producer is trusted (docs/consensus.md): its cutoff, its survivors,
who may propose in which view, and that the block's global model is the aggregate of exactly its txs.

The validator's durable also carries round openings, mask keys, masked inputs and the other validators'
attestations; this part keeps them in the validator's ``observed`` table (owner: the replica) and answers from
them, so every honest validator that holds the same messages reaches the same verdict.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from zkpot.bus import Delivery
from zkpot.bus.errors import RetryLater
from zkpot.bus.subjects import ROUND_OPEN, TX_ATTESTED
from zkpot.db.stores import ObservedStore
from zkpot.domain import Attestation, Block, BlockHeader, Genesis, Reason, Transaction
from zkpot.domain.consensus import (
    RoundClock,
    Stored,
    aggregatable_txs,
    attested_ids,
    check_tx_set,
    effective_cutoff,
    first_per_member,
    proposer_of_view,
    ranking,
    secagg_params,
    survivors,
)
from zkpot.domain.events import Proposal, RoundOpen
from zkpot.domain.secagg import (
    MaskedInput,
    MaskedVector,
    MaskKeys,
    Reveal,
    SecAggError,
    decode_vector,
    lift,
    unmask,
)
from zkpot.domain.secagg.messages import vector_sha256
from zkpot.domain.verifiable import aggregate_holds, integer_weight
from zkpot.roles import validator as rvalidator
from zkpot.services.masking import decode_secagg

CLOCK_SKEW_MS = 2_000  # a proposal this early for its view by this replica's clock still counts


class RoundKeeper:
    def __init__(self, store: ObservedStore, genesis: Genesis, replica: str,
                 commit: Callable[[Sequence[int]], str], *, clock: Callable[[], float] = time.time) -> None:
        """``commit`` is the proof system's ``commit_message`` (KZG commitment of an integer message)."""
        self.repo, self.genesis, self.me, self.commit, self.clock = store, genesis, replica, commit, clock
        self.layout = rvalidator.aggregate_layout(genesis)
        self.elements = self.layout.elements

    def handles(self, subject: str) -> bool:
        return subject in (ROUND_OPEN, TX_ATTESTED) or subject.startswith("zkpot.secagg.")

    async def on_event(self, msg: Delivery) -> None:
        g, subject = self.genesis, msg.subject
        if subject == ROUND_OPEN:
            opening = RoundOpen.from_dict(msg.payload)
            opening.authorize(g.producers, Reason.UNKNOWN_SIGNER, f"round {opening.round}'s opening")
            kind, round_, sender, ref = "round_open", opening.round, opening.producer, opening.payload_id
        elif subject == TX_ATTESTED:
            att = Attestation.from_dict(msg.payload)
            att.authorize(g.validators, Reason.UNKNOWN_SIGNER, f"attestation {att.attestation_id}")
            kind, round_, sender, ref = "attestation", att.round, att.validator, att.attestation_id
        else:
            kind, message = decode_secagg(g, subject, msg.payload)
            round_, sender, ref = message.round, message.client, message.payload_id
        await self.repo.observe(self.me, kind=kind, round=round_, sender=sender, ref=ref, payload=msg.payload,
                                stored_ms=msg.stored_ms)

    async def keep_tx(self, tx: Transaction, stored_ms: int) -> None:
        """A tx this replica judged: the round's txs a block must hold are found among them."""
        await self.repo.observe(self.me, kind="tx", round=tx.round, sender=tx.client, ref=tx.tx_id,
                                payload=tx.to_dict(), stored_ms=stored_ms)

    async def cutoff(self, round_: int, parent: str) -> int | None:
        """The round's cutoff: the deadline of its first stored opening that builds on ``parent``."""
        for row in await self.repo.observed(self.me, round_, "round_open"):
            opening = RoundOpen.from_dict(row.payload)
            if opening.parent == parent:
                return opening.deadline_ms
        return None

    async def past_cutoff(self, tx: Transaction) -> bool:
        """True when ``tx`` arrives after its round's cutoff (it is then refused: ``deadline_passed``)."""
        cutoff = await self.cutoff(tx.round, tx.parent)
        return cutoff is not None and self.clock() * 1000 > cutoff

    async def judge(self, proposal: Proposal, head: BlockHeader | None, blobs_get: Any) -> Reason:
        """The round-level rules: the proposer's view, the tx set, the aggregate. ``RetryLater`` when the
        proposal is early for its view by this replica's clock (it is judged when the view comes)."""
        block = proposal.block
        round_, parent = block.header.round, block.header.prev_hash
        deadline = await self.cutoff(round_, parent)
        if deadline is None:
            raise RetryLater(f"no opening of round {round_} on {parent[:12]} yet", delay_s=2)
        masked = [Stored(MaskedInput.from_dict(r.payload), r.stored_ms)
                  for r in await self.repo.observed(self.me, round_, "masked_input")]
        cutoff = effective_cutoff(self.genesis, round_, masked, deadline)
        clock = RoundClock(cutoff, self.genesis.grace_s * 1000, self.genesis.view_timeout_s * 1000)
        view = clock.view_at(int(self.clock() * 1000) + CLOCK_SKEW_MS)
        if view is None or view < block.view:
            wait = clock.view_start_ms(block.view) - int(self.clock() * 1000)
            raise RetryLater(f"proposal for view {block.view} before it starts", delay_s=max(1.0, wait / 1000))
        expected = await self._expected(round_, cutoff, proposal)
        if expected and not block.txs and _claims_unopenable(block, expected):  # the txs left out, rightly?
            reason = await self._unopenable(round_, cutoff, proposal, expected, blobs_get)
        else:
            reason = check_tx_set(block.txs, expected)
        if reason is Reason.OK and proposer_of_view(self.genesis, ranking(expected), block.view) != block.proposer:
            reason = Reason.WRONG_PROPOSER
        if reason is Reason.OK and block.header.timestamp_ms != cutoff:
            reason = Reason.WRONG_ROUND
        if reason is not Reason.OK:
            return reason
        return await self._aggregate(block, head, blobs_get)

    async def _survivors(self, round_: int, cutoff: int, proposal: Proposal) -> tuple[dict[str, MaskKeys],
                                                                                     dict[str, MaskedInput]]:
        atts = [Attestation.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "attestation")]
        atts += [a for s in proposal.attested for a in s.attestations]
        keys = [Stored(MaskKeys.from_dict(r.payload), r.stored_ms)
                for r in await self.repo.observed(self.me, round_, "mask_keys")]
        masked = [Stored(MaskedInput.from_dict(r.payload), r.stored_ms)
                  for r in await self.repo.observed(self.me, round_, "masked_input")]
        return survivors(self.genesis, round_, keys, masked, attested_ids(self.genesis, round_, atts), cutoff)

    async def _expected(self, round_: int, cutoff: int, proposal: Proposal) -> list[Transaction]:
        """The aggregatable txs by this replica's messages (and the attestations the proposal carries)."""
        _, inputs = await self._survivors(round_, cutoff, proposal)
        txs = [Transaction.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "tx")]
        return aggregatable_txs(txs + list(proposal.block.txs), inputs)

    async def _unopenable(self, round_: int, cutoff: int, proposal: Proposal, expected: list[Transaction],
                          blobs_get: Any) -> Reason:
        """OK when this replica, unmasking the round from the public messages itself, finds that the survivors'
        sum opens no commitment (the block then rightly leaves the txs out); OMITTED_TX when it opens."""
        keys, inputs = await self._survivors(round_, cutoff, proposal)
        vectors = {}
        for client, m in inputs.items():
            blob = await blobs_get(m.vector_cid, 32 * self.elements + 64)
            if blob is None:
                raise RetryLater(f"masked vector {m.vector_cid} unavailable", delay_s=2)
            vectors[client] = MaskedVector.from_blob(m, blob, self.elements)
        reveals = list(first_per_member(self.genesis, round_, [Stored(Reveal.from_dict(r.payload), r.stored_ms)
                                         for r in await self.repo.observed(self.me, round_, "reveal")]).values())
        try:
            summed = await asyncio.to_thread(unmask, keys, vectors, reveals, secagg_params(self.genesis)[1], round_)
        except SecAggError as e:
            raise RetryLater(f"cannot unmask round {round_} yet: {e.detail}", delay_s=2) from e
        weights = [integer_weight(tx.n_train, tx.correct, self.genesis.aggregation) for tx in expected]
        commitment = await asyncio.to_thread(self.commit, summed)
        if aggregate_holds([tx.commitment for tx in expected], weights, self.layout.c0, commitment):
            return Reason.OMITTED_TX
        return Reason.OK

    async def _aggregate(self, block: Block, head: BlockHeader | None, blobs_get: Any) -> Reason:
        header = block.header
        model = await blobs_get(header.model_cid, 16 * 1024 * 1024)
        summed = commitment = None
        if block.txs:
            blob = await blobs_get(header.aggregate_cid, 32 * self.elements + 64) if header.aggregate_cid else None
            if blob is not None and vector_sha256(blob) == header.aggregate_sha256:
                summed = lift(decode_vector(blob, self.elements))
                commitment = await asyncio.to_thread(self.commit, summed)
        return await asyncio.to_thread(rvalidator.judge_aggregate, self.genesis, head, block, summed, commitment,
                                       model)



def _claims_unopenable(block: Block, expected: list[Transaction]) -> bool:
    """The empty block lists every aggregatable tx as ``aggregate_unopenable``."""
    claimed = {r.tx_id for r in block.rejected if r.reason == Reason.AGGREGATE_UNOPENABLE}
    return claimed == {tx.tx_id for tx in expected}
