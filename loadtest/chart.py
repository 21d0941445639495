"""The report as a PNG: round phases, transactions over time, verification latency, resource use per service."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loadtest.report import TxTimes
from loadtest.stats import percentile

PHASES = (("collection_s", "collection (incl. verification)"), ("aggregation_s", "aggregation"),
          ("finalization_s", "finalization"))


def write_chart(path: Path, report: dict[str, Any], times: Sequence[TxTimes], verify_s: Sequence[float]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    cfg = report["config"]
    fig.suptitle(f"ZKPoT load test: {cfg['clients']} clients x {len(report['rounds'])} rounds, "
                 f"{cfg['validators']} validators ({cfg['target']})")
    _phases(axes[0][0], report["rounds"])
    _timeline(axes[0][1], times)
    _latency(axes[1][0], verify_s)
    _resources(axes[1][1], report["resources"])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _phases(ax: Any, rounds: list[dict[str, Any]]) -> None:
    labels = [str(r["round"]) for r in rounds]
    bottom = [0.0] * len(rounds)
    for key, name in PHASES:
        values = [r.get(key) or 0.0 for r in rounds]
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    verified = [r.get("verification_s") or 0.0 for r in rounds]
    ax.scatter(labels, verified, marker="_", s=900, color="black", zorder=3, label="last tx verified (quorum)")
    ax.set(title="Round latency by phase (producer's timings)", xlabel="round", ylabel="seconds")
    ax.legend(fontsize=8, markerscale=0.3, loc="upper left", framealpha=0.9)


def _timeline(ax: Any, times: Sequence[TxTimes]) -> None:
    if not times:
        return
    t0 = min(t.started for t in times)
    for field, name in (("submitted", "submitted"), ("received", "stored by the producer"),
                        ("verified", "verified by a quorum")):
        xs = sorted(v - t0 for t in times if (v := getattr(t, field)) is not None)
        ax.step(xs, range(1, len(xs) + 1), where="post", label=name)
    ax.set(title="Transactions over time", xlabel="seconds since the first upload", ylabel="transactions")
    ax.legend(fontsize=8)


def _latency(ax: Any, verify_s: Sequence[float]) -> None:
    if verify_s:
        ax.hist(verify_s, bins=30)
        for q, style in (("p50", "-"), ("p95", "--"), ("p99", ":")):
            value = percentile(verify_s, float(q[1:])) or 0.0
            ax.axvline(value, color="black", linestyle=style, label=f"{q} {value:.3f} s")
        ax.legend(fontsize=8)
    ax.set(title="Per-verdict verification time (validators)", xlabel="seconds", ylabel="verdicts")


def _resources(ax: Any, resources: dict[str, Any]) -> None:
    names = [n for n, u in resources.items() if u.get("cpu_s") is not None]
    if not names:
        ax.text(0.5, 0.5, "no local processes to measure", ha="center", va="center")
        ax.set_axis_off()
        return
    cpu = [resources[n]["cpu_s"] for n in names]
    bars = ax.barh(names, cpu)
    for bar, n in zip(bars, names, strict=True):
        ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {resources[n]['peak_rss_mb']:.0f} MB",
                va="center", fontsize=7)
    ax.set(title="CPU seconds per process tree (label: peak RSS)", xlabel="CPU seconds")
    ax.tick_params(axis="y", labelsize=7)
