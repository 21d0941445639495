"""What the services recorded about the run: the database rows (read-only) and the zkpot_* metrics they export.

- ``producer.txs.received_at``: when the producer stored each tx (ingestion);
- ``producer.rounds``: collection_s, aggregation_s, finalization_s per round, as the producer timed them;
- ``validator.verdicts.verify_s``: each validator's time to judge each tx (fetch the proof, verify it, check rules).
"""

from __future__ import annotations

import asyncio
import dataclasses
import urllib.error
import urllib.request
from collections.abc import Collection
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select
from zkpot.db.engine import create_engine
from zkpot.db.tables import producer_rounds, txs, verdicts

ROUND_FIELDS = ("opened_at", "closed_at", "collection_s", "aggregation_s", "finalization_s", "state")


@dataclasses.dataclass
class DbFacts:
    received: dict[str, float]  # tx id -> epoch seconds the producer stored it
    rounds: dict[int, dict[str, Any]]  # round -> ROUND_FIELDS (times as epoch seconds)
    verify_s: dict[str, dict[str, float]]  # tx id -> validator -> verify_s


async def read_db(url: str, tx_ids: Collection[str], rounds: Collection[int]) -> DbFacts:
    engine = create_engine(url, application_name="zkpot-loadtest")
    try:
        async with engine.connect() as conn:
            got = await conn.execute(select(txs.c.tx_id, txs.c.received_at).where(txs.c.tx_id.in_(list(tx_ids))))
            received = {t: at.timestamp() for t, at in got}
            cols = [producer_rounds.c.round, *(producer_rounds.c[f] for f in ROUND_FIELDS)]
            by_round = await conn.execute(select(*cols).where(producer_rounds.c.round.in_(list(rounds))))
            round_rows = {int(row[0]): dict(zip(ROUND_FIELDS, map(_plain, row[1:]), strict=True)) for row in by_round}
            judged = await conn.execute(select(verdicts.c.tx_id, verdicts.c.validator, verdicts.c.verify_s)
                                        .where(verdicts.c.tx_id.in_(list(tx_ids))))
            verify: dict[str, dict[str, float]] = {}
            for tx_id, validator, seconds in judged.tuples():
                if seconds is not None:
                    verify.setdefault(tx_id, {})[validator] = float(seconds)
    finally:
        await engine.dispose()
    return DbFacts(received, round_rows, verify)


def _plain(value: Any) -> Any:
    return value.timestamp() if hasattr(value, "timestamp") else value


KEEP_BUCKETS = ("zkpot_verify_seconds_bucket",)  # the proof-check latency's percentiles come from these


def parse_metrics(text: str) -> dict[str, float]:
    """zkpot_* samples of a /metrics page ({name{labels}: value}), without _created and without histogram buckets
    other than ``KEEP_BUCKETS``."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if not s.name.startswith("zkpot_") or s.name.endswith("_created"):
                continue
            if s.name.endswith("_bucket") and s.name not in KEEP_BUCKETS:
                continue
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[s.name + (f"{{{labels}}}" if labels else "")] = float(s.value)
    return out


def _fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return str(resp.read().decode())


async def scrape_all(urls: dict[str, str]) -> dict[str, dict[str, float] | str]:
    """Every service's metrics; an unreachable one gives its error text instead."""
    async def one(url: str) -> dict[str, float] | str:
        try:
            return parse_metrics(await asyncio.to_thread(_fetch, url))
        except (OSError, urllib.error.URLError, ValueError) as e:
            return f"unreachable: {e}"

    results = await asyncio.gather(*(one(u) for u in urls.values()))
    return dict(zip(urls, results, strict=True))


FINALIZED = "zkpot_blocks_finalized_total"


async def scrape_settled(urls: dict[str, str], finals: int, *, wait_s: float = 15.0,
                         every_s: float = 0.5) -> dict[str, dict[str, float] | str]:
    """Every service's metrics once each that counts final blocks counts the ``finals`` the run saw.

    A producer publishes ``block.finalized`` before it records the block final and counts it, so a scrape taken
    the moment the driver sees the announcement can read one block short. Waits at most ``wait_s``, then returns
    what it has (an unreachable service or one still short then shows in the report as it is).
    """
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        metrics = await scrape_all(urls)
        behind = [name for name, m in metrics.items() if isinstance(m, dict) and FINALIZED in m
                  and m[FINALIZED] < finals]
        if not behind or asyncio.get_running_loop().time() >= deadline:
            return metrics
        await asyncio.sleep(every_s)
