"""`python -m loadtest scaling REPORT.json ...`: the scaling table (Markdown) and chart from saved reports.

Each report is one run's JSON (``--out`` keeps them). Rows are ordered by validators, then clients; a round's
phases are averaged over the run's rounds after the first when there are several (the first pays one-off costs:
the producer's worker process starting, caches warming), else taken from its only round.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PHASES = ("verification_s", "collection_s", "aggregation_s", "finalization_s", "round_s")


def steady_rounds(report: dict[str, Any]) -> list[dict[str, Any]]:
    rounds = report["rounds"]
    return rounds[1:] if len(rounds) > 1 else rounds


def row(report: dict[str, Any]) -> dict[str, Any]:
    cfg, tp, v = report["config"], report["throughput"], report["verification"]["verdict_s"]
    steady = steady_rounds(report)
    mean = {p: _mean([r[p] for r in steady if r.get(p) is not None]) for p in PHASES}
    return {"validators": cfg["validators"], "clients": cfg["clients"], "rounds": len(report["rounds"]),
            **mean, "ingested_tx_per_s": tp["ingested_tx_per_s"], "verified_tx_per_s": tp["verified_tx_per_s"],
            "finalized_tx_per_s": tp["finalized_tx_per_s"], "verdict_p50_s": v["p50"], "verdict_p95_s": v["p95"],
            "verdict_p99_s": v["p99"], "ok": report["transactions"]["ok"],
            "finalized_kb": round(max(r["finalized_bytes"] or 0 for r in report["rounds"]) / 1024, 1),
            "loadavg": cfg.get("loadavg_before", [None])[0]}


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def markdown(rows: list[dict[str, Any]]) -> str:
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join("-" if r[k] is None else str(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    by_clients = sorted((r for r in rows if r["validators"] == 4), key=lambda r: r["clients"])
    labels = [str(r["clients"]) for r in by_clients]
    bottom = [0.0] * len(by_clients)
    for phase in ("collection_s", "aggregation_s", "finalization_s"):
        values = [r[phase] or 0.0 for r in by_clients]
        left.bar(labels, values, bottom=bottom, label=phase.removesuffix("_s"))
        bottom = [b + x for b, x in zip(bottom, values, strict=True)]
    left.set(title="Round latency by phase, 4 validators", xlabel="clients", ylabel="seconds")
    left.legend()
    by_validators = sorted((r for r in rows if r["clients"] == min(x["clients"] for x in rows)),
                           key=lambda r: r["validators"])
    xs = [str(r["validators"]) for r in by_validators]
    right.bar(xs, [r["verified_tx_per_s"] or 0.0 for r in by_validators])
    right.set(title=f"Txs verified by a quorum per second, {by_validators[0]['clients']} clients",
              xlabel="validators (quorum 1, 2, 3)", ylabel="tx/s")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest scaling", description=__doc__)
    p.add_argument("reports", type=Path, nargs="+")
    p.add_argument("--chart", type=Path, help="also draw the scaling chart here")
    args = p.parse_args(list(argv))
    rows = sorted((row(json.loads(f.read_text())) for f in args.reports),
                  key=lambda r: (r["validators"], r["clients"]))
    print(markdown(rows))
    if args.chart:
        print(f"\nchart: {chart(rows, args.chart)}")
    return 0
