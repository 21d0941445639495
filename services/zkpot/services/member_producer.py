"""A member's block producer (docs/consensus.md, section 3): no producer is trusted, each member runs one.

It follows the round through its own durable and keeps everything in its ``observed`` table (``owner``: its key):
round openings, txs, attestations, votes, proposals, finals, and the members' mask keys, masked inputs and
reveals. A driver then, for the round after its final tip:

1. opens the round if no valid opening is stored (every producer may; the first stored is the round's);
2. after the cutoff D and the grace, computes the survivors, the aggregatable txs and their ranking, and in each
   view that is its own (``consensus.proposer_of_view``) builds the round's block: it unmasks the survivors' sum S
   from the public reveals, decodes the global model, stores both, and proposes — the same header every honest
   proposer builds;
3. finalizes any proposal of the height that a quorum of validators accepted (publishing ``block.finalized``).

Nothing it holds opens a member's model: it sees masked vectors and the sum only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from zkpot.bus import Bus, Delivery, Subscription
from zkpot.bus.parties import MEMBER_PRODUCER
from zkpot.bus.subjects import (
    BLOCK_FINALIZED,
    BLOCK_PROPOSED,
    BLOCK_VOTE,
    ROUND_OPEN,
    TX_ATTESTED,
    TX_SUBMITTED,
    finalized_id,
)
from zkpot.db.stores import ObservedStore
from zkpot.domain import Attestation, Block, Genesis, Reason, SigningKey, Transaction, Vote, sha256_hex
from zkpot.domain.consensus import (
    RoundClock,
    Stored,
    aggregatable_txs,
    attested_ids,
    effective_cutoff,
    first_per_member,
    ranking,
    secagg_params,
    survivors,
    views_of,
)
from zkpot.domain.errors import Unauthorized
from zkpot.domain.events import NO_CERTIFICATE, Certificate, Finalized, Proposal, RoundOpen
from zkpot.domain.secagg import (
    MaskedInput,
    MaskedVector,
    MaskKeys,
    Reveal,
    SecAggError,
    encode_vector,
    to_field,
    unmask,
)
from zkpot.domain.validation import check_certificate
from zkpot.domain.verifiable import aggregate_holds, integer_weight
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, count_correct, weights_from_bytes, weights_to_bytes
from zkpot.roles import producer as rproducer
from zkpot.roles.proposer import Aggregate, dropouts, global_weights, make_block, unopenable
from zkpot.roles.validator import aggregate_layout
from zkpot.services.blobs import Blobs
from zkpot.services.masking import decode_secagg
from zkpot.services.runtime import cancel
from zkpot.task import initial_model_bytes
from zkpot.zk.system import ProofSystem

log = logging.getLogger("zkpot.member-producer")
POLL_S = 0.5
MAX_MODEL_BYTES = 16 * 1024 * 1024


class MemberProducer:
    def __init__(self, bus: Bus, store: ObservedStore, blobs: Blobs, genesis: Genesis, system: ProofSystem,
                 key: SigningKey, index: int, rounds: int, metrics: Metrics, *,
                 clock: Callable[[], float] = time.time) -> None:
        if index >= len(genesis.producers) or genesis.producers[index] != key.public_hex:
            raise InputError(f"this producer's key is not member {index}'s producer in genesis")
        self.bus, self.repo, self.blobs, self.genesis, self.system = bus, store, blobs, genesis, system
        self.key, self.me, self.member, self.rounds = key, key.public_hex, str(index), rounds
        self.metrics, self.clock = metrics, clock
        self.arch = Arch(tuple(int(n) for n in genesis.arch["layers"]))
        self.threshold = secagg_params(genesis)[1]
        self._test = zdata.public_test_set(genesis.samples, genesis.task)
        self._built: dict[tuple[int, frozenset[str]], Block] = {}  # (round, its txs) -> its block, built once
        self._times: dict[str, float] = {}  # block hash -> when this producer proposed it (the phase metrics)
        self._collected: set[int] = set()  # rounds whose collection phase is counted
        self._wake = asyncio.Event()
        self._sub: Subscription | None = None
        self._driver: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        cid = await self.blobs.put(BlobKind.GLOBAL, initial_model_bytes(self.arch))
        if cid != self.genesis.initial_model_cid:
            raise InputError(f"the initial model's CID {cid} differs from genesis {self.genesis.initial_model_cid}")
        self._sub = await self.bus.subscribe(MEMBER_PRODUCER, f"producer-{self.member}", self.on_event,
                                             metrics=self.metrics)
        self._driver = asyncio.create_task(self._drive())

    async def stop(self) -> None:
        await cancel(self._driver)
        if self._sub:
            await self._sub.stop()

    async def done(self) -> None:
        assert self._sub is not None and self._driver is not None, "start() first"
        finished, _ = await asyncio.wait([asyncio.ensure_future(self._sub.wait()), self._driver],
                                         return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            task.result()
        await asyncio.Event().wait()  # serves until told to stop, even after its last round

    # --- what it keeps -----------------------------------------------------------------------------------------

    async def on_event(self, msg: Delivery) -> None:
        kind, round_, sender, ref = self._judge(msg)
        await self.repo.observe(self.me, kind=kind, round=round_, sender=sender, ref=ref, payload=msg.payload,
                                stored_ms=msg.stored_ms)
        self._wake.set()

    def _judge(self, msg: Delivery) -> tuple[str, int, str, str]:
        """(kind, round, sender, ref) of a message worth keeping; ``Unauthorized`` / ``MalformedMessage`` else."""
        g, subject = self.genesis, msg.subject
        if subject == ROUND_OPEN:
            opening = RoundOpen.from_dict(msg.payload)
            opening.authorize(g.producers, Reason.UNKNOWN_SIGNER, f"round {opening.round}'s opening")
            return "round_open", opening.round, opening.producer, opening.payload_id
        if subject == TX_SUBMITTED:
            tx = Transaction.from_dict(msg.payload)
            reason = rproducer.admit(g, tx)
            if reason is not Reason.OK:
                raise Unauthorized(reason, f"tx {tx.tx_id}")
            return "tx", tx.round, tx.client, tx.tx_id
        if subject in (TX_ATTESTED, BLOCK_VOTE):
            signed: Attestation | Vote = (Attestation if subject == TX_ATTESTED else Vote).from_dict(msg.payload)
            signed.authorize(g.validators, Reason.UNKNOWN_SIGNER, f"{subject} {signed.payload_id}")
            if isinstance(signed, Vote):
                return "vote", signed.height, signed.validator, signed.vote_id
            return "attestation", signed.round, signed.validator, signed.attestation_id
        if subject == BLOCK_PROPOSED:
            block = Proposal.from_dict(msg.payload).block
            if block.proposer not in g.producers or not block.signature_valid():
                raise Unauthorized(Reason.BAD_PRODUCER, f"proposal {block.hash}")
            return "proposal", block.header.height, block.proposer, f"{block.hash}-{block.view}"
        if subject == BLOCK_FINALIZED:
            final = Finalized.from_dict(msg.payload)
            if check_certificate(final.block.hash, final.block.header.height, list(final.votes), g) is not Reason.OK:
                raise Unauthorized(Reason.BAD_CERTIFICATE, f"final {final.block.hash}")
            return "final", final.block.header.height, final.block.signer, final.block.hash
        kind, message = decode_secagg(g, subject, msg.payload)
        return kind, message.round, message.client, message.payload_id

    # --- the driver --------------------------------------------------------------------------------------------

    async def _drive(self) -> None:
        while True:
            head = await self._head()
            if self.rounds and head is not None and head.header.round >= self.rounds:
                return
            try:
                await self._step(head)
            except SecAggError as e:
                self.metrics["zkpot_secagg_refusals"].labels(str(e.reason)).inc()
                log.warning("cannot unmask yet", extra={"reason": str(e.reason), "detail": e.detail})
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def _head(self) -> Block | None:
        height = await self.repo.latest_observed_round(self.me, "final")
        if height is None:
            return None
        rows = await self.repo.observed(self.me, height, "final")
        return Finalized.from_dict(rows[0].payload).block

    async def _step(self, head: Block | None) -> None:
        height = head.header.height + 1 if head else 1
        if await self._finalize(height):
            return
        round_ = head.header.round + 1 if head else 1
        parent = head.hash if head else self.genesis.genesis_hash
        opening = await self._opening(round_, parent, head)
        cutoff = effective_cutoff(self.genesis, round_, await self._stored(round_, "masked_input", MaskedInput),
                                  opening.deadline_ms)
        clock = RoundClock(cutoff, self.genesis.grace_s * 1000, self.genesis.view_timeout_s * 1000)
        view = clock.view_at(int(self.clock() * 1000))
        if view is None:
            return
        opened = opening.deadline_ms - self.genesis.round_deadline_s * 1000
        if round_ not in self._collected:  # once a round: from its opening to its cutoff
            self._collected.add(round_)
            self.metrics["zkpot_round_phase_seconds"].labels("collection").observe(max(0, cutoff - opened) / 1000)
        txs, ranked = await self._aggregatable(round_, cutoff)
        for k in views_of(self.genesis, ranked, self.me, view):
            if not await self.repo.observed(self.me, height, f"own_proposal_{k}"):
                await self._propose(round_, head, opening, cutoff, txs, k)

    async def _opening(self, round_: int, parent: str, head: Block | None) -> RoundOpen:
        """The round's opening (the first stored that builds on this tip); publishes this producer's if none."""
        for row in await self.repo.observed(self.me, round_, "round_open"):
            opening = RoundOpen.from_dict(row.payload)
            if opening.parent == parent:
                return opening
        model = head.header.model_cid if head else self.genesis.initial_model_cid
        deadline = int(self.clock() * 1000) + self.genesis.round_deadline_s * 1000
        mine = RoundOpen(round_, parent, model, deadline, self.me).sign(self.key)
        await self.bus.publish(ROUND_OPEN, mine.to_dict(), f"round-{round_}-{self.member}")
        self.metrics["zkpot_current_round"].set(round_)
        log.info("opened the round", extra={"round": round_, "deadline_ms": deadline})
        return mine

    async def _aggregatable(self, round_: int, cutoff: int) -> tuple[list[Transaction], list[Transaction]]:
        txs = [Transaction.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "tx")]
        atts = [Attestation.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "attestation")]
        keys, inputs = await self._survivors(round_, cutoff, attested_ids(self.genesis, round_, atts))
        included = aggregatable_txs(txs, inputs)
        return included, ranking(included)

    async def _survivors(self, round_: int, cutoff: int, attested: set[str]) -> tuple[dict[str, MaskKeys],
                                                                                        dict[str, MaskedInput]]:
        keys = await self._stored(round_, "mask_keys", MaskKeys)
        masked = await self._stored(round_, "masked_input", MaskedInput)
        return survivors(self.genesis, round_, keys, masked, attested, cutoff)

    async def _stored(self, round_: int, kind: str, cls: Any) -> list[Stored]:
        return [Stored(cls.from_dict(r.payload), r.stored_ms) for r in await self.repo.observed(self.me, round_, kind)]

    # --- proposing ---------------------------------------------------------------------------------------------

    async def _propose(self, round_: int, head: Block | None, opening: RoundOpen, cutoff: int,
                       txs: list[Transaction], view: int) -> None:
        block = await self.tamper(await self._build(round_, head, cutoff, txs, view), head)
        if block is None:
            return
        atts: dict[str, list[Attestation]] = {}
        for row in await self.repo.observed(self.me, round_, "attestation"):
            att = Attestation.from_dict(row.payload)
            atts.setdefault(att.tx_id, []).append(att)
        parent = NO_CERTIFICATE
        if head is not None:
            parent = Certificate(head.hash, head.header.height, tuple(await self._accepting(head)))
        proposal = Proposal.of(block, atts, parent)
        await self.bus.publish(BLOCK_PROPOSED, proposal.to_dict(), f"proposed-{block.hash}-{view}")
        await self.repo.observe(self.me, kind=f"own_proposal_{view}", round=block.header.height, sender=self.me,
                                ref=block.hash, payload={}, stored_ms=int(self.clock() * 1000))
        self.metrics["zkpot_proposals"].labels(str(view)).inc()
        self._times.setdefault(block.hash, time.monotonic())
        log.info("proposed", extra={"round": round_, "view": view, "block": block.hash, "txs": len(block.txs)})

    async def tamper(self, block: Block, head: Block | None) -> Block | None:
        """What this producer proposes of the round's block: the block itself (an honest producer); a lying one
        (``services.byzantine``) changes it, or proposes nothing (None)."""
        return block

    async def _build(self, round_: int, head: Block | None, cutoff: int, txs: list[Transaction],
                     view: int) -> Block:
        header = head.header if head else None
        key = (round_, frozenset(t.tx_id for t in txs))
        built = self._built.get(key)
        if built is None:
            atts = [Attestation.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "attestation")]
            every = [Transaction.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "tx")]
            attested = attested_ids(self.genesis, round_, atts)
            valid = list(first_per_member(self.genesis, round_,
                                          [Stored(t, 0) for t in every if t.tx_id in attested]).values())
            aggregate = await self._aggregate(round_, cutoff, attested, txs) if txs else None
            rejected = dropouts(valid, txs)
            if aggregate is not None and not _opens(self.genesis, txs, aggregate):
                log.error("the round's aggregate opens no commitment: a member masked with garbage; the model "
                          "carries over", extra={"round": round_})
                rejected = unopenable(valid, txs)
                txs, aggregate = [], None
            initial = 0 if header or txs else count_correct(self.arch, weights_from_bytes(
                self.arch, initial_model_bytes(self.arch)), self._test)
            built = make_block(self.genesis, header, round_, cutoff, txs, rejected, aggregate, self.key, 0, initial)
            self._built = {key: built}
        return Block.create(built.header, built.txs, built.rejected, self.key, view=view)

    async def _aggregate(self, round_: int, cutoff: int, attested: set[str], txs: list[Transaction]) -> Aggregate:
        """Unmask the survivors' sum from the public reveals, decode the global model, store both."""
        keys, inputs = await self._survivors(round_, cutoff, attested)
        vectors = {c: MaskedVector.from_blob(m, await self.blobs.get(m.vector_cid, 32 * self.arch.n_params() + 64),
                                             self.arch.n_params()) for c, m in inputs.items()}
        reveals = list(first_per_member(self.genesis, round_, await self._stored(round_, "reveal", Reveal)).values())
        started = time.monotonic()
        summed = await asyncio.to_thread(_unmask, keys, vectors, reveals, self.threshold, round_)
        total, weights = global_weights(self.genesis, txs, summed)
        blob = encode_vector(to_field(summed))
        model = weights_to_bytes(weights)
        cid = await self.blobs.put(BlobKind.AGGREGATE, blob, round=round_)
        model_cid = await self.blobs.put(BlobKind.GLOBAL, model, round=round_)
        commitment = await asyncio.to_thread(self.system.commit_message, summed)
        correct = count_correct(self.arch, weights, self._test)
        self.metrics["zkpot_round_phase_seconds"].labels("aggregation").observe(time.monotonic() - started)
        log.info("aggregated", extra={"round": round_, "members": len(txs), "total": total, "correct": correct})
        return Aggregate(cid, sha256_hex(blob), commitment, total, model_cid, sha256_hex(model), correct)

    # --- finality ----------------------------------------------------------------------------------------------

    async def _finalize(self, height: int) -> bool:
        """Announce the height's block once a quorum accepted it; True when the height is final."""
        votes = [Vote.from_dict(r.payload) for r in await self.repo.observed(self.me, height, "vote")]
        for block_hash in sorted({v.block_hash for v in votes if v.accept}):
            if check_certificate(block_hash, height, votes, self.genesis) is not Reason.OK:
                continue
            proposals = [r for r in await self.repo.observed(self.me, height, "proposal")
                         if r.ref.startswith(block_hash)]
            if not proposals:
                continue  # the votes came before the proposal: it is on its way
            proposal = Proposal.from_dict(proposals[0].payload)
            quorum = tuple(v for v in votes if v.block_hash == block_hash and v.accept and v.height == height)
            final = Finalized(proposal, quorum)
            await self.bus.publish(BLOCK_FINALIZED, final.to_dict(), finalized_id(block_hash))
            if await self.repo.observe(self.me, kind="final", round=height, sender=proposal.block.signer,
                                       ref=block_hash, payload=final.to_dict(), stored_ms=int(self.clock() * 1000)):
                self._record_final(proposal.block)
                if block_hash in self._times:  # this producer proposed it: from its proposal to final
                    self.metrics["zkpot_round_phase_seconds"].labels("finalization").observe(
                        time.monotonic() - self._times.pop(block_hash))
            return True
        return False

    async def _accepting(self, block: Block) -> list[Vote]:
        votes = [Vote.from_dict(r.payload) for r in await self.repo.observed(self.me, block.header.height, "vote")]
        return [v for v in votes if v.block_hash == block.hash and v.accept]

    def _record_final(self, block: Block) -> None:
        h, m = block.header, self.metrics
        m["zkpot_blocks_finalized"].inc()
        m["zkpot_chain_height"].set(h.height)
        m["zkpot_global_accuracy"].set(h.global_correct / max(1, h.global_samples))
        m["zkpot_leader_accuracy"].set(h.leader_correct / max(1, h.samples))
        m["zkpot_round_txs"].labels("accepted").set(h.accepted)
        m["zkpot_round_txs"].labels("rejected").set(h.rejected)
        log.info("block final", extra={"height": h.height, "round": h.round, "block": block.hash,
                                       "proposer": block.signer[:12], "view": block.view,
                                       "global_correct": h.global_correct})


def _opens(genesis: Genesis, txs: list[Transaction], aggregate: Aggregate) -> bool:
    weights = [integer_weight(tx.n_train, tx.correct, genesis.aggregation) for tx in txs]
    return aggregate_holds([tx.commitment for tx in txs], weights, aggregate_layout(genesis).c0,
                           aggregate.commitment)


def _unmask(keys: dict[str, MaskKeys], vectors: dict[str, MaskedVector], reveals: list[Reveal], threshold: int,
            round_: int) -> list[int]:
    return unmask(keys, vectors, reveals, threshold, round_)
