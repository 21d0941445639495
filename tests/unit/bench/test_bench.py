"""The compare document, chunk counts, the sweep plot and the CLI wiring (no proofs)."""

import json
from pathlib import Path

import pytest
from zkpot.bench.compare import summarize
from zkpot.bench.levers import ALL, LADDER, run_levers
from zkpot.bench.measure import run_measured
from zkpot.bench.plot import plot_sweep
from zkpot.cli.main import parser
from zkpot.zk.fast.spec import chunks_for


def figures(samples: int, prove_s: float, correct: int) -> dict[str, float | int]:
    return {"samples": samples, "prove_s": prove_s, "prove_cpu_s": 2 * prove_s, "verify_s": 0.1,
            "peak_rss_mb": 1000.0, "proof_bytes": 10,
            "setup_s": 1.0, "logrows": 15, "correct": correct}


def test_speedup_is_a_ratio_of_throughputs() -> None:
    doc = summarize(64, figures(64, 80.0, 60), figures(64, 10.0, 60), 60, 60)
    assert doc["speedup"] == 8.0 and doc["speedup_cpu"] == 8.0
    assert doc["counts_equal"] is True
    assert "extrapolated_to_samples" not in doc["baseline"]


def test_a_smaller_baseline_is_extrapolated_and_labelled_as_such() -> None:
    doc = summarize(540, figures(128, 100.0, 120), figures(540, 60.0, 507), 507, 120)
    base = doc["baseline"]
    assert base["prove_s"] == 100.0 and base["samples"] == 128, "the measurement itself is kept as measured"
    assert base["prove_s_extrapolated"] == pytest.approx(100.0 * 540 / 128, abs=0.1)
    assert "not a measurement" in base["note"]
    assert doc["speedup"] == round((540 / 60.0) / (128 / 100.0), 2)
    assert doc["float_correct_baseline_samples"] == 120


def test_counts_must_match_the_float_model_on_both_sides() -> None:
    assert summarize(64, figures(64, 1.0, 59), figures(64, 1.0, 60), 60, 60)["counts_equal"] is False
    assert summarize(64, figures(64, 1.0, 60), figures(64, 1.0, 61), 60, 60)["counts_equal"] is False


def test_chunks_hold_at_most_per_chunk_samples() -> None:
    assert [chunks_for(n, 68) for n in (1, 68, 69, 540)] == [1, 1, 2, 8]


def test_a_lever_that_fails_becomes_a_row_with_its_error() -> None:
    def measure(config: object) -> dict[str, object]:
        if config is LADDER[1]:
            raise RuntimeError("Failed to run setup: out of range\nmore")
        return {"prove_s": 1.0}

    rows = run_levers([LADDER[0].name, LADDER[1].name], 8, measure)
    assert rows[0] == {"lever": LADDER[0].name, "samples": 8, "prove_s": 1.0}
    assert rows[1]["error"] == "Failed to run setup: out of range"
    assert set(ALL) >= {c.name for c in LADDER}


def test_sweep_plot_is_a_png(tmp_path: Path) -> None:
    rows = [{"samples": n, "baseline": figures(n, n * 1.0, 1), "zkpot": figures(n, n / 8, 1)} for n in (16, 64)]
    rows.append({"samples": 540, "zkpot": figures(540, 60.0, 1)})
    out = plot_sweep(rows, tmp_path / "img" / "plot.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_subcommands_join_the_existing_bench_group() -> None:
    p = parser()
    args = p.parse_args(["bench", "compare", "--samples", "64", "--baseline-max-samples", "32", "--json"])
    assert (args.samples, args.baseline_max_samples, args.json, args.workers) == (64, 32, True, 2)
    assert p.parse_args(["bench", "prove"]).bench_cmd == "prove", "the lead's `bench prove` is still there"
    assert p.parse_args(["bench", "sweep"]).samples == "16,32,64,128,270,540"


def test_bad_sample_counts_are_refused_with_one_line() -> None:
    from zkpot.cli.main import main

    assert main(["bench", "compare", "--samples", "0"]) == 2
    assert main(["bench", "levers", "--only", "no such lever"]) == 2


def _answer(x: int) -> int:
    return json.loads(json.dumps(x * 2))


def test_run_measured_returns_the_value_and_the_child_s_own_figures() -> None:
    m = run_measured(_answer, 21)
    assert m.value == 42
    assert m.wall_s >= 0 and m.peak_rss_mb > 10, "a Python process holds more than 10 MB"


def test_markdown_table_shows_figures_and_refusals() -> None:
    from zkpot.bench.report import markdown_table

    table = markdown_table([{"lever": "a", "logrows": 15, "prove_s": 12.345, "verify_s": 0.0512,
                             "counts_equal": False}, {"lever": "b", "error": "out of range"}])
    lines = table.splitlines()
    assert lines[0].startswith("| lever | scales in/param | logrows |") and len(lines) == 4
    assert "| a | – | 15 | – | – | 12.3 |" in lines[2] and "0.0512" in lines[2] and "**no**" in lines[2]
    assert lines[3].startswith("| b | refused: out of range |")


def test_sweep_redraws_from_saved_rows_and_refuses_garbage(tmp_path: Path) -> None:
    from zkpot.cli.main import main

    rows = [{"samples": 16, "baseline": figures(16, 9.0, 1), "zkpot": figures(16, 1.0, 1), "float_correct": 1}]
    saved, out = tmp_path / "rows.json", tmp_path / "plot.png"
    saved.write_text(json.dumps(rows))
    assert main(["bench", "sweep", "--from-json", str(saved), "--out", str(out), "--json"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
    saved.write_text('{"not": "rows"}')
    assert main(["bench", "sweep", "--from-json", str(saved), "--out", str(out)]) == 2
