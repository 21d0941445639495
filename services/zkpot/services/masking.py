"""A member's secure aggregation (docs/consensus.md, section 2): keys, shares, masked vector, reveal.

The trainer hands over the round (``on_round``) and, once its transaction is out, its weights (``on_submitted``);
this part follows the other members' keys, shares and masked inputs and the validators' attestations through its
own durable, keeps them in the trainer's database, and a driver moves the member through the phases by the round's
cutoff D:

1. at the round's opening: publish this round's mask keys;
2. once its tx is submitted (or D is near): seal its Shamir shares to the neighbours that advertised keys;
3. once a quorum attested its tx and its neighbours' shares are in (or D is near), before D: publish its masked
   vector ``a_u * m_u + masks`` (a blob) and the signed message naming it;
4. after D + grace / 2: reveal its shares of the survivors' seeds and of the dropped members' mask keys.

The member's round secrets are derived from its signing seed and the round (HKDF, then a ChaCha20 stream), so a
restarted trainer derives the same keys and shares and never publishes two different bundles; what it published
is kept (kind ``own_*``) and republished as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from zkpot.bus import Bus, Delivery, Subscription
from zkpot.bus.parties import TRAINER_SECAGG
from zkpot.bus.subjects import SECAGG_KEYS, SECAGG_MASKED, SECAGG_REVEAL, SECAGG_SHARES, TX_ATTESTED, secagg_subject
from zkpot.db.stores import TrainerStore
from zkpot.domain import Attestation, BoxKeyPair, Genesis, Reason, SigningKey, Transaction, open_sealed
from zkpot.domain.consensus import (
    Stored,
    attested_ids,
    effective_cutoff,
    first_per_member,
    secagg_params,
    survivors,
)
from zkpot.domain.encoding import canonical
from zkpot.domain.errors import Unauthorized
from zkpot.domain.secagg import (
    MaskedInput,
    MaskKeys,
    Member,
    Reveal,
    SecAggError,
    ShareBundle,
    encode_vector,
    neighbours,
)
from zkpot.domain.secagg.crypto import derive
from zkpot.domain.secagg.prg import SeededRandomness
from zkpot.domain.verifiable import encode, integer_weight
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.ml.model import Arch, Weights, weights_from_bytes
from zkpot.roles.validator import aggregate_layout
from zkpot.services.blobs import Blobs
from zkpot.services.runtime import cancel

log = logging.getLogger("zkpot.masking")
POLL_S = 0.5
MASK_MARGIN_MS = 2_000  # mask with the shares that came, this long before the cutoff
MAX_MODEL_BYTES = 16 * 1024 * 1024
# the stored kind and the message class of each secure-aggregation subject
KINDS: dict[str, tuple[str, Any]] = {SECAGG_KEYS: ("mask_keys", MaskKeys), SECAGG_SHARES: ("share_bundle", ShareBundle),
                                     SECAGG_MASKED: ("masked_input", MaskedInput), SECAGG_REVEAL: ("reveal", Reveal)}


class MaskingMember:
    def __init__(self, bus: Bus, store: TrainerStore, blobs: Blobs, genesis: Genesis, key: SigningKey, index: int,
                 metrics: Metrics, *, clock: Callable[[], float] = time.time) -> None:
        self.bus, self.repo, self.blobs, self.genesis, self.key = bus, store, blobs, genesis, key
        self.me, self.member = key.public_hex, str(index)
        self.metrics, self.clock = metrics, clock
        self.degree, self.threshold = secagg_params(genesis)
        self.layout = aggregate_layout(genesis)
        self.arch = Arch(tuple(int(n) for n in genesis.arch["layers"]))
        self._weights: dict[int, Weights] = {}  # the round's own model, opened once
        self._members: dict[int, Member] = {}
        self._wake = asyncio.Event()
        self._sub: Subscription | None = None
        self._driver: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._sub = await self.bus.subscribe(TRAINER_SECAGG, f"trainer-{self.member}-secagg", self.on_event,
                                             metrics=self.metrics)
        self._driver = asyncio.create_task(self._drive())

    async def stop(self) -> None:
        await cancel(self._driver)
        if self._sub:
            await self._sub.stop()

    def tasks(self) -> list[asyncio.Future[Any]]:
        assert self._sub is not None and self._driver is not None, "start() first"
        return [asyncio.ensure_future(self._sub.wait()), self._driver]

    # --- what the trainer hands over ---------------------------------------------------------------------------

    async def on_round(self, round_: int, parent: str, deadline_ms: int, stored_ms: int) -> None:
        """The round opened (its first valid opening): keep it, publish this round's keys."""
        await self.repo.observe(self.me, kind="round_open", round=round_, sender="", ref=f"round-{round_}",
                                payload={"parent": parent, "deadline_ms": deadline_ms}, stored_ms=stored_ms)
        await self._publish_once(round_, "own_keys", "keys", self._member(round_, parent).keys())
        self._wake.set()

    async def on_submitted(self, tx: Transaction, sealed_model_cid: str) -> None:
        """The member's tx is out: keep it (and where its self-sealed model is) so the masked vector can be made,
        after a restart too."""
        await self.repo.observe(self.me, kind="own_tx", round=tx.round, sender=self.me, ref=tx.tx_id,
                                payload={"tx": tx.to_dict(), "model_cid": sealed_model_cid},
                                stored_ms=int(self.clock() * 1000))
        self._wake.set()

    # --- what it follows ---------------------------------------------------------------------------------------

    async def on_event(self, msg: Delivery) -> None:
        if msg.subject == TX_ATTESTED:
            att = Attestation.from_dict(msg.payload)
            att.authorize(self.genesis.validators, Reason.UNKNOWN_SIGNER, f"attestation {att.attestation_id}")
            await self.repo.observe(self.me, kind="attestation", round=att.round, sender=att.validator,
                                    ref=att.attestation_id, payload=msg.payload, stored_ms=msg.stored_ms)
        else:
            kind, message = decode_secagg(self.genesis, msg.subject, msg.payload)
            if isinstance(message, ShareBundle) and message.share_for(self.me) is None:
                return  # not one of this member's neighbours' bundles for it
            await self.repo.observe(self.me, kind=kind, round=message.round, sender=message.client,
                                    ref=message.payload_id, payload=msg.payload, stored_ms=msg.stored_ms)
        self._wake.set()

    # --- the driver --------------------------------------------------------------------------------------------

    async def _drive(self) -> None:
        while True:
            round_ = await self.repo.latest_observed_round(self.me, "round_open")
            if round_ is not None:
                try:
                    await self._advance(round_)
                except SecAggError as e:  # recorded and counted; the round goes on without this member
                    self.metrics["zkpot_secagg_refusals"].labels(str(e.reason)).inc()
                    log.warning("secure aggregation step refused", extra={"round": round_, "reason": str(e.reason),
                                                                          "detail": e.detail})
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def _advance(self, round_: int) -> None:
        openings = await self.repo.observed(self.me, round_, "round_open")
        if not openings:
            return
        opening = openings[0]
        cutoff, now = int(opening.payload["deadline_ms"]), int(self.clock() * 1000)
        member = self._member(round_, str(opening.payload["parent"]))
        own = {k: await self.repo.observed(self.me, round_, k) for k in ("own_bundle", "own_masked", "own_reveal")}
        keys = await self._stored(round_, "mask_keys", MaskKeys)
        own_tx = await self.repo.observed(self.me, round_, "own_tx")
        if not own["own_bundle"]:
            if not own_tx and now < cutoff - MASK_MARGIN_MS:
                return  # share once the tx is out (or the cutoff is near): every neighbour has advertised by then
            peers = first_per_member(self.genesis, round_, keys)
            await self._publish_once(round_, "own_bundle", "shares", member.share(peers, self.threshold))
            return
        bundle = ShareBundle.from_dict(own["own_bundle"][0].payload)
        member.share({v: k for v, k in first_per_member(self.genesis, round_, keys).items()
                      if bundle.share_for(v) is not None}, self.threshold)  # the same bundle: restores the state
        bundles = first_per_member(self.genesis, round_, await self._stored(round_, "share_bundle", ShareBundle))
        if not own["own_masked"]:
            if own_tx:
                await self._mask(round_, member, own_tx[0].payload, bundle, bundles, cutoff, now)
            return
        masked_input = MaskedInput.from_dict(own["own_masked"][0].payload)
        cutoff = effective_cutoff(self.genesis, round_, await self._stored(round_, "masked_input", MaskedInput),
                                  cutoff)
        if not own["own_reveal"] and now >= cutoff + self.genesis.grace_s * 500:
            member.mask([0] * self.layout.elements, {v: bundles[v] for v in masked_input.neighbours})
            try:
                await self._reveal(round_, member, keys, bundles, cutoff)
            except SecAggError:
                await self._reveal_nothing(round_)
                raise

    async def _mask(self, round_: int, member: Member, own_tx: dict[str, Any], bundle: ShareBundle,
                    bundles: dict[str, ShareBundle], cutoff: int, now: int) -> None:
        if now >= cutoff:
            return
        tx = Transaction.from_dict(own_tx["tx"])
        atts = [Attestation.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "attestation")]
        if tx.tx_id not in attested_ids(self.genesis, round_, atts):
            return
        waiting = [s.recipient for s in bundle.shares if s.recipient not in bundles]
        if waiting and now < cutoff - MASK_MARGIN_MS:
            return
        if round_ not in self._weights:
            sealed = await self.blobs.get(str(own_tx["model_cid"]), MAX_MODEL_BYTES)
            self._weights = {round_: weights_from_bytes(self.arch, open_sealed(sealed, own_box(self.key)))}
        weights, tx_id = self._weights[round_], tx.tx_id
        a = integer_weight(tx.n_train, tx.correct, self.genesis.aggregation)
        x = await asyncio.to_thread(lambda: [a * v for v in encode(self.layout, weights)])
        y, _ = await asyncio.to_thread(member.mask, x, bundles)
        blob = encode_vector(self.outgoing(y))
        cid = await self.blobs.put(BlobKind.MASKED, blob, round=round_)
        await self._publish_once(round_, "own_masked", "masked", member.masked_input(tx_id, blob, cid))
        self.metrics["zkpot_secagg_bytes"].labels("masked").inc(len(blob))
        log.info("masked vector published", extra={"round": round_, "bytes": len(blob), "waiting": len(waiting)})

    def outgoing(self, masked: list[int]) -> list[int]:
        """The masked vector this member publishes: its own (an honest member); a lying one
        (``services.byzantine.GarbageMasker``) changes it."""
        return masked

    async def _reveal(self, round_: int, member: Member, keys: list[Stored], bundles: dict[str, ShareBundle],
                      cutoff: int) -> None:
        atts = [Attestation.from_dict(r.payload) for r in await self.repo.observed(self.me, round_, "attestation")]
        masked = await self._stored(round_, "masked_input", MaskedInput)
        _, alive = survivors(self.genesis, round_, keys, masked, attested_ids(self.genesis, round_, atts), cutoff)
        if self.me not in alive:
            log.warning("not among the round's survivors: revealing nothing", extra={"round": round_})
            await self._reveal_nothing(round_)
            return
        dropped = [v for v in bundles if v not in alive]
        await self._publish_once(round_, "own_reveal", "reveal", member.reveal(bundles, list(alive), dropped))
        log.info("revealed", extra={"round": round_, "survivors": len(alive), "dropped": len(dropped)})

    async def _reveal_nothing(self, round_: int) -> None:
        """Record that this member reveals nothing this round (it is not a survivor, or an honest member must not)."""
        await self.repo.observe(self.me, kind="own_reveal", round=round_, sender=self.me, ref="none", payload={},
                                stored_ms=0)

    # --- helpers -----------------------------------------------------------------------------------------------

    def _member(self, round_: int, parent: str) -> Member:
        if round_ not in self._members:
            seed = derive(bytes.fromhex(self.key.seed_hex), b"secagg-member", round_.to_bytes(8, "big"),
                          bytes.fromhex(parent))
            hood = neighbours(list(self.genesis.clients), self.me, self.degree, bytes.fromhex(parent))
            self._members = {round_: Member(self.key, round_, hood, SeededRandomness(seed))}  # one round at a time
        return self._members[round_]

    async def _stored(self, round_: int, kind: str, cls: Any) -> list[Stored]:
        return [Stored(cls.from_dict(r.payload), r.stored_ms) for r in await self.repo.observed(self.me, round_, kind)]

    async def _publish_once(self, round_: int, own: str, phase: str, message: Any) -> None:
        """Publish ``message`` and keep it as this member's ``own`` message of the round (republished as it was)."""
        kept = await self.repo.observed(self.me, round_, own)
        payload = kept[0].payload if kept else message.to_dict()
        if not kept:
            await self.repo.observe(self.me, kind=own, round=round_, sender=self.me, ref=message.payload_id,
                                    payload=payload, stored_ms=int(self.clock() * 1000))
        await self.bus.publish(secagg_subject(phase, self.member), payload, kept[0].ref if kept else message.payload_id)
        if phase != "masked":
            self.metrics["zkpot_secagg_bytes"].labels(phase).inc(len(canonical(payload)))


def own_box(key: SigningKey) -> BoxKeyPair:
    """The member's own sealed-box key, derived from its signing seed: with secure aggregation it seals its model
    to itself (to resume after a restart), since no aggregator may open it."""
    return BoxKeyPair(derive(bytes.fromhex(key.seed_hex), b"own-model-box"))


def decode_secagg(genesis: Genesis, subject: str, payload: dict[str, Any]) -> tuple[str, Any]:
    """(stored kind, message) of a secure-aggregation message, signed by a genesis member on its own subject
    (``Unauthorized`` / ``MalformedMessage`` else)."""
    kind, cls = next(v for k, v in KINDS.items() if subject.startswith(k[:-1]))
    message = cls.from_dict(payload)
    check_sender(genesis, message, subject)
    return kind, message


def check_sender(genesis: Genesis, message: Any, subject: str) -> None:
    """A secure-aggregation message is signed by a genesis member and came on that member's own subject."""
    message.authorize(genesis.clients, Reason.UNKNOWN_CLIENT, f"{type(message).__name__} {message.payload_id}")
    member = str(genesis.clients.index(message.client))
    if subject.rsplit(".", 1)[-1] != member:
        raise Unauthorized(Reason.WRONG_SUBJECT, f"member {member}'s {type(message).__name__} came on {subject}")
