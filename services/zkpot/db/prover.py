"""The prover's job table (``prover.jobs``): queued -> running -> done | failed, with timings.

A job is redelivered after a crash or a nak, so ``start`` may run again on a running or failed job (it counts
the attempt); nothing moves a job out of ``done``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB

from zkpot.db.rows import JobRow
from zkpot.db.sql import Repo
from zkpot.db.tables import jobs


class ProverRepo(Repo):
    async def enqueue(
        self, job_id: str, *, client: str, round: int, model_cid: str, job: Mapping[str, Any] | None = None
    ) -> bool:
        """Store a queued job (``job``: the job message as a JSON-ready dict); False when ``job_id`` is known."""
        values = {"job_id": job_id, "client": client, "round": round, "model_cid": model_cid, "job": dict(job or {})}
        return await self._insert_new(jobs, values)

    async def start(self, job_id: str) -> int | None:
        """Mark the job running and count the attempt; the attempt number, or None when unknown or done."""
        statement = (
            update(jobs)
            .where(jobs.c.job_id == job_id, jobs.c.status != "done")
            .values(status="running", attempts=jobs.c.attempts + 1, started_at=func.now(), error=None)
            .returning(jobs.c.attempts)
        )
        found = await self._scalars(statement)
        return int(found[0]) if found else None

    async def finish(
        self, job_id: str, *, proof_cid: str, tx_id: str, witness_s: float, prove_s: float, peak_rss_mb: float
    ) -> bool:
        """Mark the job done with its results; False when unknown or already done."""
        results = {"proof_cid": proof_cid, "tx_id": tx_id, "witness_s": witness_s, "prove_s": prove_s,
                   "peak_rss_mb": peak_rss_mb}
        return await self._end(job_id, status="done", error=None, **results)

    async def fail(self, job_id: str, error: str) -> bool:
        """Mark the job failed with ``error``; False when unknown or already done."""
        return await self._end(job_id, status="failed", error=error)

    async def set_result(self, job_id: str, result: Mapping[str, Any]) -> bool:
        """Keep the result message beside the job (under ``job["result"]``) so a redelivery re-sends it as is."""
        patch = literal({"result": dict(result)}, JSONB)
        merged = jobs.c.job.op("||", return_type=JSONB)(patch)  # one statement: no lost update between replicas
        return await self._changed(update(jobs).where(jobs.c.job_id == job_id).values(job=merged))

    async def get(self, job_id: str) -> JobRow | None:
        return await self._first(select(jobs).where(jobs.c.job_id == job_id), JobRow)

    async def count_by_status(self) -> dict[str, int]:
        """Jobs per status (for the queue-depth gauge); statuses with no job are absent."""
        query = select(jobs.c.status, func.count()).group_by(jobs.c.status)
        rows = await self._tuples(query)
        return {status: int(count) for status, count in rows}

    async def _end(self, job_id: str, **values: Any) -> bool:
        statement = (
            update(jobs)
            .where(jobs.c.job_id == job_id, jobs.c.status != "done")
            .values(finished_at=func.now(), **values)
        )
        return await self._changed(statement)
