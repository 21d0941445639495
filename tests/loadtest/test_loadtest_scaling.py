"""The scaling table from saved reports: steady rounds averaged, one Markdown row per run, and a chart."""

import json
from pathlib import Path

from loadtest.scaling import chart, main, markdown, row


def report(validators: int, clients: int, round_s: list[float]) -> dict:
    rounds = [{"round": i + 1, "round_s": s, "verification_s": s / 2, "collection_s": s / 2, "aggregation_s": s / 4,
               "finalization_s": s / 4, "finalized_bytes": 2048 * clients} for i, s in enumerate(round_s)]
    return {"config": {"validators": validators, "clients": clients, "loadavg_before": [3.5, 3.0, 2.0]},
            "throughput": {"ingested_tx_per_s": 20.0, "verified_tx_per_s": 4.0 / validators,
                           "finalized_tx_per_s": 1.0},
            "verification": {"verdict_s": {"p50": 0.1, "p95": 0.2, "p99": 0.3}},
            "transactions": {"ok": True}, "rounds": rounds}


def test_the_first_round_is_left_out_when_there_are_others() -> None:
    r = row(report(4, 10, [40.0, 8.0, 12.0]))
    assert r["round_s"] == 10.0 and r["aggregation_s"] == 2.5
    assert (r["validators"], r["clients"], r["rounds"], r["finalized_kb"], r["loadavg"]) == (4, 10, 3, 20.0, 3.5)
    assert row(report(4, 200, [300.0]))["round_s"] == 300.0  # a single round is all there is


def test_markdown_has_a_header_and_one_line_per_run() -> None:
    lines = markdown([row(report(1, 10, [6.0])), row(report(4, 10, [7.0]))]).splitlines()
    assert lines[0].startswith("| validators | clients | rounds |") and len(lines) == 4
    assert lines[2].startswith("| 1 | 10 | 1 |")


def test_main_reads_reports_and_draws(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    files = []
    for v, c in ((1, 10), (4, 10), (4, 50)):
        files.append(tmp_path / f"{v}-{c}.json")
        files[-1].write_text(json.dumps(report(v, c, [9.0, 6.0])))
    assert main([*map(str, files), "--chart", str(tmp_path / "s.png")]) == 0
    out = capsys.readouterr().out
    assert out.count("\n| 4 |") == 2 and (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert chart([row(report(4, 10, [5.0]))], tmp_path / "one.png").exists()
