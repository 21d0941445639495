"""The load test's report, computed from what the run recorded: throughput, per-round phases, verification
latency, lost or duplicated transactions and resource use.

Throughput is measured inside each round's burst and summed over rounds (a round's txs all arrive at its start,
then the network aggregates and finalizes with no tx to take), so it reads as "while txs are flowing":

- ingested: txs stored by the producer / (last stored - first upload began), from ``producer.txs.received_at``;
- verified: txs with a quorum of valid attestations / (last quorum reached - first upload began), from the events;
- finalized: txs in final blocks / the whole run, every phase included (the sustained end-to-end rate).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from loadtest.accounting import account
from loadtest.collect import DbFacts
from loadtest.driver import RunRecord
from loadtest.stats import histogram_quantile, rate, summary


@dataclasses.dataclass(frozen=True)
class TxTimes:
    """One tx's life in wall-clock seconds: upload began, published, stored by the producer, verified by a quorum."""

    tx_id: str
    round: int
    started: float
    submitted: float
    received: float | None
    verified: float | None


def tx_times(run: RunRecord, db: DbFacts | None, quorum: int) -> list[TxTimes]:
    received = db.received if db else {}
    return [TxTimes(s.tx_id, s.round, s.started, s.submitted, received.get(s.tx_id),
                    run.log.verified_at(s.tx_id, quorum)) for s in run.submissions]


def _burst_rate(times: Sequence[TxTimes], field: str, rounds: Sequence[int]) -> float | None:
    """Σ count / Σ (last ``field`` time - first start), over the rounds' bursts; None if any time is missing."""
    count, seconds = 0, 0.0
    for r in rounds:
        mine = [t for t in times if t.round == r]
        ends = [getattr(t, field) for t in mine]
        if not mine or any(e is None for e in ends):
            return None
        count += len(mine)
        seconds += max(ends) - min(t.started for t in mine)
    return rate(count, 0.0, seconds)


def throughput(run: RunRecord, times: Sequence[TxTimes], finalized: int) -> dict[str, Any]:
    return {
        "submitted_tx_per_s": _burst_rate(times, "submitted", run.rounds),
        "ingested_tx_per_s": _burst_rate(times, "received", run.rounds),
        "verified_tx_per_s": _burst_rate(times, "verified", run.rounds),
        "finalized_tx_per_s": rate(finalized, run.started, run.finished),
        "ingest_latency_s": summary([t.received - t.submitted for t in times if t.received is not None], 3),
        "verify_latency_s": summary([t.verified - t.submitted for t in times if t.verified is not None], 3),
    }


def round_rows(run: RunRecord, times: Sequence[TxTimes], db: DbFacts | None) -> list[dict[str, Any]]:
    rows = []
    for r in run.rounds:
        mine = [t for t in times if t.round == r]
        final = run.log.final_of_round(r)
        producer = (db.rounds.get(r) if db else None) or {}
        opened = producer.get("opened_at") or run.log.opens[r][0]
        verified = [t.verified for t in mine if t.verified is not None]
        first = min((t.started for t in mine), default=None)
        rows.append({
            "round": r,
            "txs": len(mine),
            "included": len(final.view.included) if final else None,
            "rejected": len(final.view.rejected) if final else None,
            "round_s": _r(final.t - opened) if final else None,
            "submit_s": _r(max(t.submitted for t in mine) - first) if mine and first is not None else None,
            "verification_s": _r(max(verified) - first) if verified and first is not None else None,
            "collection_s": producer.get("collection_s"),
            "aggregation_s": producer.get("aggregation_s"),
            "finalization_s": producer.get("finalization_s"),
            "finalized_bytes": final.payload_bytes if final else None,
        })
    return rows


def _r(x: float) -> float:
    return round(x, 3)


def verification(db: DbFacts | None, metrics: dict[str, Any]) -> dict[str, Any]:
    """Per-verdict times from the validators' tables (exact), and the pure proof check from their histograms
    (mean exact; percentiles interpolated within the buckets, as Prometheus's histogram_quantile does)."""
    per_verdict = [s for by_validator in (db.verify_s.values() if db else ()) for s in by_validator.values()]
    total, count = 0.0, 0.0
    buckets: dict[float, float] = {}
    for samples in (m for m in metrics.values() if isinstance(m, dict)):
        total += samples.get("zkpot_verify_seconds_sum", 0.0)
        count += samples.get("zkpot_verify_seconds_count", 0.0)
        for name, value in samples.items():
            if match := BUCKET.fullmatch(name):
                le = float(match[1])
                buckets[le] = buckets.get(le, 0.0) + value
    quantiles = {f"p{q}": _opt(histogram_quantile(q / 100, list(buckets.items()))) for q in (50, 95, 99)}
    return {"verdict_s": summary(per_verdict), "proof_check_mean_s": round(total / count, 4) if count else None,
            "proof_check_s_from_buckets": quantiles, "proof_checks": int(count)}


BUCKET = re.compile(r'zkpot_verify_seconds_bucket\{le="([^"]+)"\}')


def _opt(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def build(run: RunRecord, *, config: dict[str, Any], quorum: int, db: DbFacts | None,
          resources: dict[str, Any], metrics: dict[str, Any]) -> tuple[dict[str, Any], list[TxTimes]]:
    """The JSON report, and the per-tx times the chart draws."""
    submitted = {s.tx_id: s.round for s in run.submissions}
    accounting = account(submitted, (f.view for f in run.log.finals.values()))
    times = tx_times(run, db, quorum)
    report = {
        "config": config,
        "duration_s": _r(run.finished - run.started),
        "transactions": accounting.to_dict() | {
            "dropped_as_duplicate_on_publish": sum(not s.stored_new for s in run.submissions),
            "submit_errors": len(run.errors), "submit_error_samples": [dataclasses.asdict(e) for e in run.errors[:5]]},
        "throughput": throughput(run, times, accounting.included + accounting.rejected),
        "rounds": round_rows(run, times, db),
        "verification": verification(db, metrics),
        "resources": resources,
        "metrics": metrics,
    }
    return report, times
