"""The runner on the tiny configuration: one dict with every row, then the doc and the PNGs drawn from it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from zkpot.cli.main import main
from zkpot.experiment import labels, report, runner
from zkpot.experiment.config import ExperimentConfig, tiny

ROWS = ("zkpot", "centralized", "fl_dp_0.5", "fl_dp_1.0", "pofl_1.0", "byz_defended", "byz_plain")


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    out = runner.run(tiny())
    out["command"] = "zkpot experiment (tiny)"
    return out


def test_result_shape(result: dict[str, Any]) -> None:
    assert list(result["runs"]) == ["digits/iid"] and result["network"] == {}
    run = result["runs"]["digits/iid"]
    assert tuple(run["rows"]) == ROWS
    for row in run["rows"].values():
        assert len(row["accuracy"]) == len(row["full"]) == 2
        assert all(0.0 <= a <= 1.0 for a in row["accuracy"])
    assert run["rows"]["fl_dp_1.0"]["epsilon_max"] > 0
    assert set(result["costs"]["digits"]) >= {"ledger_bytes", "ipfs_bytes", "model_in_block_bytes"}
    json.dumps(result)  # JSON-able as it is
    assert ExperimentConfig.from_dict(result["config"]) == tiny()


def test_doc_and_pngs(result: dict[str, Any], tmp_path: Path) -> None:
    written = report.publish(result, tmp_path / "evaluation.md")
    doc = (tmp_path / "evaluation.md").read_text()
    for key in ROWS:
        assert labels.long(key, 2) in doc
    for key in ("zkpot", "byz_defended"):
        assert "proofs replaced by their outcome" in labels.long(key, 2)
    assert "pending" in doc and "zkpot experiment (tiny)" in doc
    pngs = sorted(p.name for p in written if p.suffix == ".png")
    assert pngs == ["evaluation-bytes.png", "evaluation-byzantine.png", "evaluation-digits-iid.png"]
    assert all((tmp_path / "img" / p).read_bytes().startswith(b"\x89PNG") for p in pngs)


def test_cli_redraws_from_json(result: dict[str, Any], tmp_path: Path) -> None:
    runner.save(result, tmp_path / "run.json")
    assert main(["experiment", "--from-json", str(tmp_path / "run.json"), "--out", str(tmp_path / "e.md")]) == 0
    assert "| digits | IID | ZKPoT (proofs replaced" in (tmp_path / "e.md").read_text()


def test_bad_input_says_what_to_do(tmp_path: Path) -> None:
    assert main(["experiment", "--tasks", "cifar", "--out", str(tmp_path / "e.md")]) == 2
    assert main(["experiment", "--from-json", str(tmp_path / "missing.json")]) == 2
    (tmp_path / "other.json").write_text('{"blocks": []}')
    assert main(["experiment", "--from-json", str(tmp_path / "other.json")]) == 2
