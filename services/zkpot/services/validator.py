"""A validator replica: verifies every transaction and every proposed block, signs attestations and votes, and
keeps its own copy of the chain (it adopts a block as final only with a quorum certificate it checked itself).

Its open round is derived from its own chain (the round after its last final block), so a restarted replica needs
nothing but its database and its durable consumer to pick up where it stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from zkpot.bus import Bus, Delivery, Subscription
from zkpot.bus.errors import RetryLater
from zkpot.bus.parties import validator_consumers
from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, BLOCK_VOTE, TX_ATTESTED, TX_SUBMITTED
from zkpot.db.stores import ValidatorStore
from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    Genesis,
    MalformedMessage,
    ProofChecker,
    Reason,
    RoundView,
    SigningKey,
    Transaction,
    Vote,
    check_tx,
    check_votes,
)
from zkpot.domain.events import Finalized, Proposal
from zkpot.domain.validation import check_certificate
from zkpot.errors import InputError
from zkpot.metrics import Metrics
from zkpot.roles import validator as rvalidator
from zkpot.services.blobs import Blobs
from zkpot.services.rounds import RoundKeeper
from zkpot.storage.errors import BlobNotFound, StorageError, StorageUnavailable
from zkpot.zk.common import MAX_PROOF_BYTES

log = logging.getLogger("zkpot.validator")
MAX_MODEL_BYTES = 16 * 1024 * 1024


# refusals of a proposal, not of its block: the same block from its view's proposer is judged again
PER_PROPOSAL = frozenset({Reason.WRONG_PROPOSER, Reason.BAD_PRODUCER, Reason.BAD_PRODUCER_SIGNATURE})


class TimedChecker:
    """The proof checker, timing each verification into the verify-latency histogram."""

    def __init__(self, verifier: ProofChecker, metrics: Any) -> None:
        self.verifier, self.metrics = verifier, metrics

    def check(self, proof: bytes) -> Any:
        t = time.perf_counter()
        try:
            return self.verifier.check(proof)
        finally:
            self.metrics["zkpot_verify_seconds"].observe(time.perf_counter() - t)


class Validator:
    def __init__(self, bus: Bus, store: ValidatorStore, blobs: Blobs, genesis: Genesis, key: SigningKey,
                 verifier: ProofChecker, metrics: Metrics,
                 commit: Callable[[Sequence[int]], str] | None = None) -> None:
        """``commit`` (the proof system's ``commit_message``) checks aggregates: a genesis with per-member
        producers needs it (docs/consensus.md)."""
        if key.public_hex not in genesis.validators:
            raise MalformedMessage("this validator's key is not in the genesis validator set")
        self.bus, self.repo, self.blobs, self.genesis, self.key = bus, store, blobs, genesis, key
        self.id = key.public_hex
        if genesis.producers and commit is None:
            raise InputError("a genesis with per-member producers needs the aggregate check (commit)")
        self.rounds = RoundKeeper(store, genesis, self.id, commit) if genesis.producers and commit else None
        self.metrics = metrics
        self.checker = TimedChecker(verifier, self.metrics)
        self._sub: Subscription | None = None

    async def start(self) -> None:
        await self._update_chain_metrics()
        index = self.genesis.validators.index(self.id)
        (consumer,) = validator_consumers(index, secagg=self.rounds is not None)
        self._sub = await self.bus.subscribe(consumer.filters, consumer.durable, self.on_event, ack_wait_s=30,
                                            metrics=self.metrics)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.stop()

    async def done(self) -> None:
        assert self._sub is not None, "start() first"
        await self._sub.wait()

    async def on_event(self, msg: Delivery) -> None:
        try:
            if msg.subject == TX_SUBMITTED:
                await self.on_tx(msg.payload, msg.stored_ms)
            elif msg.subject == BLOCK_PROPOSED:
                await self.on_proposal(Proposal.from_dict(msg.payload))
            elif msg.subject == BLOCK_FINALIZED:
                await self.on_finalized(Finalized.from_dict(msg.payload))
            elif self.rounds is not None and self.rounds.handles(msg.subject):
                await self.rounds.on_event(msg)
        except MalformedMessage as e:  # recorded here, then the bus terms the message
            await self._reject(msg.subject, msg.msg_id or "", 0, getattr(e, "reason", Reason.MALFORMED), str(e))
            raise

    async def _reject(self, subject: str, ref: str, round_: int, reason: Reason | str, detail: str) -> None:
        await self.repo.add_rejection(self.id, subject=subject, ref=ref, round=round_, reason=str(reason),
                                      detail=detail)
        log.warning("rejected", extra={"subject": subject, "ref": ref, "reason": str(reason), "detail": detail})

    # --- transactions ------------------------------------------------------------------------------------------

    async def on_tx(self, payload: dict[str, Any], stored_ms: int = 0) -> None:
        self.metrics["zkpot_tx_received"].inc()
        try:
            tx = Transaction.from_dict(payload)
        except MalformedMessage:
            self._count(Reason.MALFORMED)
            raise
        known = await self.repo.verdict(self.id, tx.tx_id)
        view = await self._view()
        if known is not None and tx.round != view.round:  # an old tx replayed into a later round
            self._count(Reason.WRONG_ROUND)
            await self._reject(TX_SUBMITTED, tx.tx_id, view.round, Reason.WRONG_ROUND, "replay of a judged tx")
            return
        if known is not None:  # judged before a crash or redelivery: say the same thing again
            await self._publish_attestation(Attestation.from_dict(known.attestation))
            return
        t = time.perf_counter()
        reason = check_tx(tx, self.genesis, view, None, self.checker)
        if reason is Reason.MALFORMED and self.rounds is not None and await self.rounds.past_cutoff(tx):
            reason = Reason.DEADLINE_PASSED  # no attestation after the cutoff: the round's tx set is closed
        if reason is Reason.MALFORMED:  # every rule but the proof passed: now fetch and verify it
            proof = await self._fetch(tx.proof_cid, MAX_PROOF_BYTES)
            reason = await asyncio.to_thread(check_tx, tx, self.genesis, view, proof, self.checker)
        if self.rounds is not None and reason is Reason.OK:
            await self.rounds.keep_tx(tx, stored_ms)
        attestation = Attestation(tx.tx_id, tx.round, self.id, reason is Reason.OK, reason).sign(self.key)
        await self.repo.add_verdict(attestation, tx, round(time.perf_counter() - t, 4))
        self._count(reason)
        log.info("attested", extra={"tx": tx.tx_id, "round": tx.round, "reason": str(reason)})
        await self._publish_attestation(attestation)

    def _count(self, reason: Reason) -> None:
        if reason is Reason.OK:
            self.metrics["zkpot_tx_accepted"].inc()
        else:
            self.metrics["zkpot_tx_rejected"].labels(str(reason)).inc()

    async def _publish_attestation(self, attestation: Attestation) -> None:
        await self.bus.publish(TX_ATTESTED, attestation.to_dict(), attestation.attestation_id)

    async def _view(self) -> RoundView:
        head = await self._head()
        round_ = head.round + 1 if head else 1
        parent = head.block_hash if head else self.genesis.genesis_hash
        seen = [v for v in await self.repo.txs_seen_in_round(self.id, round_) if v.valid]
        used = await self.repo.commitments_used(self.id)
        return RoundView(round_, parent, {v.client for v in seen}, used | {v.commitment for v in seen})

    async def _head(self) -> BlockHeader | None:
        row = await self.repo.latest_final(self.id)
        return Block.from_dict(row.block).header if row else None

    async def _fetch(self, cid: str, max_size: int) -> bytes | None:
        """The blob, None when it definitively cannot be had (a rule then fails), RetryLater on a passing fault."""
        try:
            return await self.blobs.get(cid, max_size)
        except BlobNotFound:
            return None
        except StorageError as e:
            if isinstance(e, StorageUnavailable):
                raise RetryLater(f"gateway unavailable: {e}") from e
            return None

    # --- blocks ------------------------------------------------------------------------------------------------

    async def on_proposal(self, proposal: Proposal) -> None:
        block = proposal.block
        stored = await self.repo.block(self.id, block.hash)
        if stored is not None and stored.vote_reason not in PER_PROPOSAL:  # judged before: the same vote again
            await self._publish_vote(self._vote(block, Reason(stored.vote_reason or Reason.OK)))
            return
        head = await self._head()
        if block.header.height <= (head.height if head else 0):
            await self._keep_evidence(block)
            log.info("ignoring a proposal below the final head", extra={"height": block.header.height})
            return
        reason = await self._catch_up(proposal, head)
        if reason is Reason.OK:
            reason = await self._judge(block, proposal, await self._head())
        await self._keep_evidence(block)
        if reason is Reason.OK and await self.repo.accept_once(self.id, block.header.height, block.hash) != block.hash:
            reason = Reason.EQUIVOCATION  # this replica already voted to accept another block at this height
        status = "voted" if reason is Reason.OK else "refused"
        if stored is None:
            await self.repo.add_block(self.id, block, status, str(reason))
        elif status == "voted":  # refused before as another's proposal of the same block; now its proposer's
            await self.repo.set_block_status(self.id, block.hash, status)
        self.metrics["zkpot_block_votes"].labels(str(reason)).inc()
        log.info("voted", extra={"block": block.hash, "height": block.header.height, "reason": str(reason)})
        await self._publish_vote(self._vote(block, reason))

    async def _catch_up(self, proposal: Proposal, head: BlockHeader | None) -> Reason:
        """When this replica's tip is not the proposed block's parent, finalize the parent from the certificate
        the proposal carries (the parent's finalization never reached this replica); OK when the parent is the
        tip, or BAD_CERTIFICATE / CHAIN_GAP."""
        block, cert = proposal.block, proposal.parent
        parent = block.header.prev_hash
        if parent == self._tip_hash(head) or block.header.height <= 1:
            return Reason.OK  # nothing to catch up (judging checks the link)
        if cert.block_hash != parent or cert.height + 1 != block.header.height:
            return Reason.BAD_CERTIFICATE
        reason = check_certificate(parent, cert.height, list(cert.votes), self.genesis)
        return await self._adopt(parent) if reason is Reason.OK else reason

    async def _adopt(self, block_hash: str) -> Reason:
        """Finalize ``block_hash``, which a quorum certified, with the ancestors it implies (an honest validator
        accepts a block only on its final parent) down to this replica's tip, all blocks this replica voted for;
        CHAIN_GAP when they do not link (a block missing, refused or below the tip), OK and nothing done when
        ``block_hash`` is the tip."""
        head = await self._head()
        tip, floor = self._tip_hash(head), head.height if head else 0
        chain: list[str] = []
        cursor, above = block_hash, None
        while cursor != tip:
            row = await self.repo.block(self.id, cursor)
            if row is None or row.status != "voted" or row.height <= floor or (above and row.height != above - 1):
                return Reason.CHAIN_GAP
            chain.append(row.hash)
            cursor, above = Block.from_dict(row.block).header.prev_hash, row.height
        for found in reversed(chain):
            await self.repo.set_block_status(self.id, found, "final")
            self.metrics["zkpot_blocks_finalized"].inc()
            log.info("adopted a certified block", extra={"block": found})
        await self._update_chain_metrics()
        return Reason.OK

    def _tip_hash(self, head: BlockHeader | None) -> str:
        return head.block_hash if head else self.genesis.genesis_hash

    async def _keep_evidence(self, block: Block) -> None:
        """A producer-signed block at a height where this replica holds another is evidence of equivocation:
        kept (once), recorded as a rejection and counted; a block the producer did not sign proves nothing."""
        if block.header.producer != self.genesis.producer or not block.signature_valid():
            return
        held = await self.repo.blocks_at_height(self.id, block.header.height)
        rivals = [r.hash for r in held if r.hash != block.hash]
        if rivals and await self.repo.add_evidence(self.id, block, rivals[0]):
            self._count(Reason.EQUIVOCATION)
            await self._reject(BLOCK_PROPOSED, block.hash, block.header.round, Reason.EQUIVOCATION,
                               f"height {block.header.height} also holds {rivals[0]}")

    async def _judge(self, block: Block, proposal: Proposal, head: BlockHeader | None) -> Reason:
        model = await self._fetch(block.header.model_cid, MAX_MODEL_BYTES)
        used = await self.repo.commitments_used(self.id)
        reason = await asyncio.to_thread(rvalidator.judge_block, self.genesis, head, block, proposal.attestations(),
                                         model, used)
        if reason is Reason.OK and self.rounds is not None:
            reason = await self.rounds.judge(proposal, head, self._fetch)
        return reason

    def _vote(self, block: Block, reason: Reason) -> Vote:
        return rvalidator.vote(self.key, block, reason)

    async def _publish_vote(self, vote: Vote) -> None:
        await self.repo.add_vote(self.id, vote)
        await self.bus.publish(BLOCK_VOTE, vote.to_dict(), vote.vote_id)

    async def on_finalized(self, final: Finalized) -> None:
        """Adopt a block a quorum finalized: one this replica voted for at once (with the voted ancestors its
        quorum implies), another after judging it on its parent (itself implied final by that quorum)."""
        block = final.block
        stored = await self.repo.block(self.id, block.hash)
        if stored is not None and stored.status == "final":
            return
        certificate = check_votes(block.hash, list(final.votes), self.genesis)
        if certificate is not Reason.OK:
            await self._reject(BLOCK_FINALIZED, block.hash, block.header.round, certificate, "no valid quorum")
            return
        head = await self._head()
        if head is not None and block.header.height <= head.height:
            await self._keep_evidence(block)
            await self._reject(BLOCK_FINALIZED, block.hash, block.header.round, Reason.EQUIVOCATION,
                               f"another block is final at height {block.header.height}")
            return
        if stored is not None and stored.status == "voted":
            reason = await self._adopt(block.hash)
        else:
            reason = await self._adopt(block.header.prev_hash)
            if reason is Reason.OK:
                reason = await self._judge_final(final, stored is None)
        if reason is Reason.CHAIN_GAP:
            await self._reject(BLOCK_FINALIZED, block.hash, block.header.round, reason,
                               "the final block does not link to this replica's chain")

    async def _judge_final(self, final: Finalized, new: bool) -> Reason:
        """Judge a final block this replica refused or never saw, now on its final parent; adopt it if it holds."""
        block = final.block
        reason = await self._judge(block, final.proposal, await self._head())
        if reason is not Reason.OK:
            log.error("a quorum finalized a block this replica refuses", extra={"block": block.hash})
            await self._reject(BLOCK_FINALIZED, block.hash, block.header.round, reason, "final block breaks a rule")
            return reason
        if new:
            await self.repo.add_block(self.id, block, "final", str(reason))
        else:
            await self.repo.set_block_status(self.id, block.hash, "final")
        self.metrics["zkpot_blocks_finalized"].inc()
        await self._update_chain_metrics()
        return reason

    async def _update_chain_metrics(self) -> None:
        head = await self._head()
        if head is None:
            self.metrics["zkpot_current_round"].set(1)
            return
        self.metrics["zkpot_chain_height"].set(head.height)
        self.metrics["zkpot_current_round"].set(head.round + 1)
        self.metrics["zkpot_global_accuracy"].set(head.global_correct / max(1, head.global_samples))
        self.metrics["zkpot_leader_accuracy"].set(head.leader_correct / max(1, head.samples))
