"""The trainer: one per federation member. Trains on the member's private data when a round opens, hands the proof
job to a prover, and signs and submits the ZKPoT transaction when the proof is back.

The model goes to IPFS twice, both times encrypted: sealed to the aggregator (what the transaction names) and sealed
to the member's prover (what the proof job names). The member's signing key never leaves the trainer.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time

from zkpot.bus import Bus, Delivery, Subscription
from zkpot.bus.errors import RetryLater
from zkpot.bus.subjects import ROUND_OPEN, TX_SUBMITTED, proof_done_subject, prove_subject
from zkpot.db.stores import TrainerStore
from zkpot.db.trainer import TrainedRound
from zkpot.domain import Genesis, MalformedMessage, Reason, SigningKey, seal
from zkpot.domain.errors import Unauthorized
from zkpot.domain.events import ProofDone, ProveJob, RoundOpen
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, count_correct, weights_from_bytes, weights_to_bytes
from zkpot.roles import client as rclient
from zkpot.services.blobs import Blobs
from zkpot.services.masking import MaskingMember, own_box
from zkpot.storage.errors import StorageError, StorageUnavailable

log = logging.getLogger("zkpot.trainer")
MAX_MODEL_BYTES = 16 * 1024 * 1024


class Trainer:
    def __init__(self, bus: Bus, store: TrainerStore, blobs: Blobs, genesis: Genesis, key: SigningKey, index: int,
                 shard: zdata.Dataset, prover_box_key: str, epochs: int, metrics: Metrics,
                 masking: MaskingMember | None = None) -> None:
        """``masking``: the member's secure aggregation, which a genesis with per-member producers needs (the
        model is then sealed to the member's own key, and only its masked vector reaches anyone else)."""
        if index >= len(genesis.clients) or genesis.clients[index] != key.public_hex:
            raise InputError(f"this trainer's key is not client {index} of the genesis registry")
        self.bus, self.repo, self.blobs, self.genesis, self.key, self.index = bus, store, blobs, genesis, key, index
        self.shard, self.prover_box_key, self.epochs = shard, prover_box_key, epochs
        self.arch = Arch(tuple(int(n) for n in genesis.arch["layers"]))
        self.metrics = metrics
        if bool(genesis.producers) != (masking is not None):
            raise InputError("secure aggregation is what a genesis with per-member producers needs, and only it")
        self.masking = masking
        self._box = own_box(key) if masking else None
        self._subs: list[Subscription] = []
        self._test = zdata.public_test_set(genesis.samples, genesis.task)

    @property
    def member(self) -> str:
        return str(self.index)

    async def start(self) -> None:
        durable = f"trainer-{self.index}"
        self._subs = [
            await self.bus.subscribe(ROUND_OPEN, durable + "-rounds", self.on_round_open, ack_wait_s=120,
                                     metrics=self.metrics),
            await self.bus.subscribe(proof_done_subject(self.member), durable + "-proofs", self.on_proof,
                                     metrics=self.metrics),
        ]
        if self.masking:
            await self.masking.start()

    async def stop(self) -> None:
        if self.masking:
            await self.masking.stop()
        await asyncio.gather(*(s.stop() for s in self._subs))

    async def done(self) -> None:
        waits = [asyncio.ensure_future(s.wait()) for s in self._subs] + (self.masking.tasks() if self.masking else [])
        finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            task.result()

    async def on_round_open(self, msg: Delivery) -> None:
        event = RoundOpen.from_dict(msg.payload)
        openers = self.genesis.producers or (self.genesis.producer,)
        event.authorize(openers, Reason.UNKNOWN_SIGNER, f"round {event.round}'s opening")
        self.metrics["zkpot_current_round"].set(event.round)
        if self.masking:
            await self.masking.on_round(event.round, event.parent, event.deadline_ms, msg.stored_ms)
        known = await self.repo.get_round(self.key.public_hex, event.round)
        if known is not None and known.job:
            # trained already (a redelivery after a crash): hand the same job over again; its msg id dedupes it
            await self.bus.publish(prove_subject(self.member), known.job, ProveJob.from_dict(known.job).job_id)
            return
        if event.deadline_ms < time.time() * 1000:
            log.warning("round already past its deadline; not joining", extra={"round": event.round})
            return
        async with msg.heartbeats(20):
            await self._train_and_hand_over(event)

    async def _train_and_hand_over(self, event: RoundOpen) -> None:
        global_bytes = await self._fetch(event.global_model_cid)
        start = weights_from_bytes(self.arch, global_bytes)
        t = time.perf_counter()
        weights = await asyncio.to_thread(rclient.local_update, self.arch, start, self.shard, epochs=self.epochs,
                                          seed=event.round * 1000 + self.index)
        train_s = time.perf_counter() - t
        correct = count_correct(self.arch, weights, self._test)
        self.metrics["zkpot_train_seconds"].observe(train_s)
        self.metrics["zkpot_local_accuracy"].set(correct / len(self._test))
        sealed = rclient.seal_model(self.genesis, weights, len(self.shard),
                                    self._box.public_hex if self._box else None)
        model_cid = await self._put(BlobKind.MODEL, sealed.sealed, event.round)
        for_prover = await self._put(BlobKind.MODEL, seal(weights_to_bytes(weights), self.prover_box_key),
                                     event.round)
        job = ProveJob(job_id=job_id(self.key.public_hex, event.round), client=self.key.public_hex,
                       member=self.member, round=event.round, parent=event.parent, weights_cid=for_prover
                       ).sign(self.key)
        await self.repo.record_round(TrainedRound(
            client=self.key.public_hex, round=event.round, parent=event.parent,
            global_model_cid=event.global_model_cid, status="proving", model_cid=model_cid,
            model_sha256=hashlib.sha256(sealed.sealed).hexdigest(), n_train=sealed.n_train, float_correct=correct,
            train_s=round(train_s, 3), job_id=job.job_id, job=job.to_dict()))
        await self.bus.publish(prove_subject(self.member), job.to_dict(), job.job_id)
        self.metrics["zkpot_rounds_joined"].inc()
        log.info("trained and queued a proof", extra={"round": event.round, "float_correct": correct,
                                                       "train_s": round(train_s, 2)})

    async def on_proof(self, msg: Delivery) -> None:
        done = ProofDone.from_dict(msg.payload)
        done.authorize(self.genesis.provers, Reason.UNKNOWN_SIGNER, f"proof result {done.job_id}")
        if done.client != self.key.public_hex:
            raise Unauthorized(Reason.WRONG_SUBJECT, f"proof result {done.job_id} is another member's")
        row = await self.repo.get_round(self.key.public_hex, done.round)
        if row is None or row.model_cid is None or row.job_id != done.job_id:
            raise MalformedMessage(f"proof for a job this trainer did not queue ({done.job_id})")
        proof = await self._fetch(done.proof_cid)
        sealed = await self._fetch(row.model_cid)
        tx = rclient.make_tx(self.key, done.round, row.parent, commitment=done.commitment, correct=done.correct,
                             samples=done.samples, proof=proof, proof_cid=done.proof_cid,
                             model=rclient.SealedModel(sealed, row.n_train or 0), model_cid=row.model_cid,
                             now_ms=done.finished_ms)
        if self.masking:  # kept before it goes out, so a restart still masks for it
            await self.masking.on_submitted(tx, row.model_cid)
        await self.bus.publish(TX_SUBMITTED, tx.to_dict(), tx.tx_id)
        await self.repo.set_status(self.key.public_hex, done.round, "submitted")
        log.info("submitted transaction", extra={"round": done.round, "tx": tx.tx_id, "correct": done.correct})

    async def _fetch(self, cid: str) -> bytes:
        try:
            return await self.blobs.get(cid, MAX_MODEL_BYTES)
        except StorageError as e:
            if isinstance(e, StorageUnavailable):
                raise RetryLater(f"gateway unavailable: {e}") from e
            raise MalformedMessage(f"blob {cid}: {e}") from e

    async def _put(self, kind: BlobKind, data: bytes, round_: int) -> str:
        try:
            return await self.blobs.put(kind, data, round=round_)
        except StorageError as e:
            raise RetryLater(f"gateway could not store a {kind} blob: {e}") from e


def job_id(client: str, round_: int) -> str:
    """One proof job per member per round, whatever the redeliveries: the id the server dedupes on."""
    return hashlib.sha256(f"prove|{client}|{round_}".encode()).hexdigest()
