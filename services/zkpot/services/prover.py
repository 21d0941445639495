"""The prover: takes proof jobs from the JetStream work queue, proves in a long-lived worker process (the proving
key stays hot in the page cache and off the event loop), uploads the proof and reports the result to the member.

Provers belong to a member's trust domain (they see its weights). By default one shared pool serves every member
(durable ``provers`` on every member's jobs), a choice for demos and load tests; with ``member`` a prover is that
member's own: it reads only the durable ``prover-<m>`` filtered to its member's jobs and refuses any other job.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from zkpot.bus import Bus, Delivery, Subscription, track_queue_depth
from zkpot.bus.errors import RetryLater
from zkpot.bus.parties import PROVER_POOL_DURABLE, prover_consumers
from zkpot.bus.subjects import proof_done_subject, prove_subject
from zkpot.db.stores import ProverStore
from zkpot.domain import BoxKeyPair, Genesis, MalformedMessage, Reason, SigningKey, open_sealed
from zkpot.domain.errors import SealError, Unauthorized
from zkpot.domain.events import ProofDone, ProveJob
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.ml.model import weights_from_bytes
from zkpot.pool import spawn_pool
from zkpot.services.blobs import Blobs
from zkpot.storage.errors import StorageError, StorageUnavailable
from zkpot.zk.system import ProofResult, ProofSystem, prove_job

log = logging.getLogger("zkpot.prover")
DURABLE = PROVER_POOL_DURABLE
ACK_WAIT_S = 60.0
MAX_DELIVER = 5


class Prover:
    def __init__(self, bus: Bus, store: ProverStore, blobs: Blobs, genesis: Genesis, circuit: ProofSystem,
                 key: BoxKeyPair, signer: SigningKey, workers: int, metrics: Metrics, *,
                 pool: Callable[[int], Executor] = spawn_pool, member: str | None = None) -> None:
        """``key`` opens the members' sealed weights, ``signer`` (one of genesis' provers) signs the results;
        ``pool(workers)`` makes the executor proofs run in (default: spawned worker processes); ``member`` (a
        client index) makes this that member's own prover (None: the shared pool)."""
        if signer.public_hex not in genesis.provers:
            raise InputError("this prover's signing key is not one of the genesis provers")
        if member is not None and not (member.isdigit() and int(member) < len(genesis.clients)
                                       and str(int(member)) == member):
            raise InputError(f"prover member {member!r} is not a genesis member's index")
        (self.consumer,) = prover_consumers(member)
        self.member = member
        self.bus, self.repo, self.blobs, self.circuit, self.key = bus, store, blobs, circuit, key
        self.genesis, self.signer = genesis, signer
        self.metrics = metrics
        self.workers = workers
        self._make_pool = pool
        self.pool: Executor | None = None
        self._sub: Subscription | None = None
        self._depth: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.pool = self._make_pool(self.workers)
        c = self.consumer
        self._sub = await self.bus.subscribe(c.filters[0], c.durable, self.on_job, queue=True, ack_wait_s=ACK_WAIT_S,
                                             concurrency=self.workers, max_deliver=MAX_DELIVER, retry_delay_s=5,
                                             metrics=self.metrics)
        self._depth = asyncio.create_task(track_queue_depth(self.bus, self.metrics, c.durable))

    async def stop(self) -> None:
        if self._depth:
            self._depth.cancel()
        if self._sub is not None:
            await self._sub.stop()  # the proof in flight finishes and is acked
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def done(self) -> None:
        assert self._sub is not None, "start() first"
        await self._sub.wait()

    async def on_job(self, msg: Delivery) -> None:
        job = ProveJob.from_dict(msg.payload)
        self._authorize(job, msg.subject)
        await self.repo.enqueue(job.job_id, client=job.client, round=job.round, model_cid=job.weights_cid,
                                job=job.to_dict())
        row = await self.repo.get(job.job_id)
        if row is not None and row.status == "done" and row.job.get("result"):
            await self._report(ProofDone.from_dict(row.job["result"]))  # redelivered after we reported: dedup'd
            return
        await self.repo.start(job.job_id)
        weights = await self._weights(job)
        self.metrics["zkpot_prover_busy"].inc()
        try:
            async with msg.heartbeats(ACK_WAIT_S / 3):
                result = await self._prove(job, weights)
        finally:
            self.metrics["zkpot_prover_busy"].dec()
        proof_cid = await self._upload(result.proof, job.round)
        done = ProofDone(job_id=job.job_id, client=job.client, round=job.round, proof_cid=proof_cid,
                         commitment=result.commitment, correct=result.correct, samples=result.samples,
                         finished_ms=int(time.time() * 1000),
                         prove_ms=int(1000 * (result.timings["prove_s"] + result.timings["witness_s"])),
                         prover=self.signer.public_hex).sign(self.signer)
        await self.repo.finish(job.job_id, proof_cid=proof_cid, tx_id="", witness_s=result.timings["witness_s"],
                               prove_s=result.timings["prove_s"], peak_rss_mb=result.timings["peak_rss_mb"])
        await self.repo.set_result(job.job_id, done.to_dict())
        await self._report(done)

    def _authorize(self, job: ProveJob, subject: str) -> None:
        """Prove only for a genesis member, on its own signed request, arriving on its own member's subject (and,
        for a member's own prover, only for that member)."""
        job.authorize(self.genesis.clients, Reason.UNKNOWN_CLIENT, f"job {job.job_id}")
        member = str(self.genesis.clients.index(job.client))
        if job.member != member or subject != prove_subject(member):
            raise Unauthorized(Reason.WRONG_SUBJECT, f"job {job.job_id} of member {member} came as {job.member} "
                                                     f"on {subject}")
        if self.member is not None and member != self.member:
            raise Unauthorized(Reason.WRONG_SUBJECT, f"job {job.job_id} of member {member} came to the prover of "
                                                     f"member {self.member}")

    async def _report(self, done: ProofDone) -> None:
        job = await self.repo.get(done.job_id)
        member = job.job["member"] if job else "0"
        await self.bus.publish(proof_done_subject(member), done.to_dict(), f"proof-{done.job_id}")

    async def _weights(self, job: ProveJob) -> dict[str, Any]:
        try:
            sealed = await self.blobs.get(job.weights_cid, 16 * 1024 * 1024)
        except StorageError as e:
            if isinstance(e, StorageUnavailable):
                raise RetryLater(f"gateway unavailable: {e}") from e
            await self.repo.fail(job.job_id, str(e))
            raise MalformedMessage(f"job {job.job_id}: weights blob unavailable: {e}") from e
        try:
            return weights_from_bytes(self.circuit.arch, open_sealed(sealed, self.key))
        except (SealError, InputError) as e:  # sealed to another prover's key, or not weights: record, count, drop
            owner = "the shared pool" if self.member is None else f"member {self.member}'s prover"
            await self.repo.fail(job.job_id, f"weights cannot be opened by {owner} (sealed to another prover's "
                                             f"key, or not this model's weights): {e}")
            self.metrics["zkpot_prove_jobs"].labels("failed").inc()
            raise MalformedMessage(f"job {job.job_id}: weights cannot be opened: {e}") from e

    async def _prove(self, job: ProveJob, weights: dict[str, Any]) -> ProofResult:
        loop = asyncio.get_running_loop()
        t = time.perf_counter()
        try:
            result: ProofResult = await loop.run_in_executor(self.pool, prove_job, (self.circuit, weights))
        except Exception as e:  # a crashed worker or an ezkl error: record it, let the bus retry
            await self.repo.fail(job.job_id, f"{type(e).__name__}: {e}")
            self.metrics["zkpot_prove_jobs"].labels("failed").inc()
            if self.pool is not None and getattr(self.pool, "_broken", False):
                self.pool = self._make_pool(self.workers)
            raise RetryLater(f"proof of job {job.job_id} failed: {e}", delay_s=5) from e
        elapsed = time.perf_counter() - t
        self.metrics["zkpot_proof_seconds"].observe(elapsed)
        self.metrics["zkpot_witness_seconds"].observe(result.timings["witness_s"])
        self.metrics["zkpot_prove_jobs"].labels("done").inc()
        log.info("proved", extra={"job": job.job_id, "round": job.round, "correct": result.correct,
                                  "prove_s": round(elapsed, 2), "peak_rss_mb": result.timings["peak_rss_mb"]})
        return result

    async def _upload(self, proof: bytes, round_: int) -> str:
        try:
            return await self.blobs.put(BlobKind.PROOF, proof, round=round_)
        except StorageError as e:
            raise RetryLater(f"gateway could not store the proof: {e}") from e
