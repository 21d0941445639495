"""The report for people: the headline figures and one row per round (``--json`` prints the whole report)."""

from __future__ import annotations

from typing import Any

from zkpot.cli.ui import out, results_table


def _fmt(value: Any, unit: str = "") -> str:
    return "-" if value is None else f"{value}{unit}"


def headline(report: dict[str, Any]) -> list[str]:
    t, tp, v = report["transactions"], report["throughput"], report["verification"]["verdict_s"]
    check = report["verification"].get("proof_check_s_from_buckets", {})
    return [
        f"transactions: {t['submitted']} submitted, {t['included']} included, {t['rejected']} rejected "
        f"{t['rejected_by_reason'] or ''}, lost {t['lost']}, duplicated {t['duplicated']}, misplaced {t['misplaced']}"
        f"; {t.get('submit_errors', 0)} could not be submitted",
        f"throughput (tx/s): ingested {_fmt(tp['ingested_tx_per_s'])}, verified {_fmt(tp['verified_tx_per_s'])}, "
        f"finalized end to end {_fmt(tp['finalized_tx_per_s'])}",
        f"verification per verdict (s): p50 {_fmt(v['p50'])}, p95 {_fmt(v['p95'])}, p99 {_fmt(v['p99'])} "
        f"over {v['n']} verdicts; proof check alone (histograms): p50 {_fmt(check.get('p50'))}, "
        f"p95 {_fmt(check.get('p95'))}, p99 {_fmt(check.get('p99'))}",
    ]


def print_summary(report: dict[str, Any]) -> None:
    for line in headline(report):
        out.print(line)
    out.print(results_table([{k: _fmt(v) for k, v in row.items()} for row in report["rounds"]]))
    usage = [{"process": name, "cpu s": _fmt(u["cpu_s"]), "peak RSS MB": _fmt(u["peak_rss_mb"])}
             for name, u in report["resources"].items()]
    if usage:
        out.print(results_table(usage))
