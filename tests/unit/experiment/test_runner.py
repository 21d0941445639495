"""The runner on the tiny configuration: one dict with every row, then the doc and the PNGs drawn from it."""

from __future__ import annotations

import dataclasses
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from zkpot.cli.main import main
from zkpot.errors import InputError
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


def test_same_command_same_numbers(result: dict[str, Any]) -> None:
    again = runner.run(tiny())
    for key, row in result["runs"]["digits/iid"]["rows"].items():
        assert again["runs"]["digits/iid"]["rows"][key]["accuracy"] == row["accuracy"], key


def test_network_results_join_the_table(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With ``network_rounds`` the runner calls ``zkpot.experiment.network.run_network`` (a stand-in here: the
    real one drives the devnet) and its rounds become the network row, the markers and a bytes row."""
    calls = []

    def run_network(task, alpha, rounds, clients, epochs, root, progress):  # noqa: ANN001, ANN202, ARG001
        calls.append((task, alpha, rounds, clients, epochs))
        return {"task": task, "clients": clients, "accuracy": [0.5] * rounds, "round_s": [60.0] * rounds,
                "ledger_bytes": [30000] * rounds, "ipfs_bytes": [200000] * rounds, "proof_bytes": 40000,
                "proven_equals_quantized": True, "proven_models": 2 * rounds, "samples": 78}

    monkeypatch.setitem(sys.modules, "zkpot.experiment.network", types.SimpleNamespace(run_network=run_network))
    config = dataclasses.replace(tiny(), rounds=1, noises=(1.0,), network_rounds=2, network_clients=2,
                                 network_epochs=1)
    out = runner.run(config, root=tmp_path, network_dir=tmp_path / "network")
    out["command"] = "zkpot experiment (tiny, network)"
    assert calls == [("digits", None, 2, 2, 1)]
    report.publish(out, tmp_path / "evaluation.md")
    doc = (tmp_path / "evaluation.md").read_text()
    assert ("ZKPoT on the network, real proofs (2 members, 1 local epochs, rounds 1..2; 4 models proven, each "
            "proven count equal to its quantized model's: yes)") in doc
    assert "with the network run's 2 members and epochs" in doc  # the in-process replica beside it
    assert out["costs"]["digits"]["proofs_included"] and out["costs"]["digits"]["proof_bytes"] == 40000
    assert "0.500 (39/78)" in doc and "digits/iid (network, measured)" in doc and "pending" not in doc
    # a later run takes the saved network runs instead of starting the devnet again
    calls.clear()
    again = runner.run(config, root=tmp_path, network_from=tmp_path / "network")
    assert calls == [] and again["network"]["digits/iid"]["accuracy"] == [0.5, 0.5]
    with pytest.raises(InputError, match="network-rounds"):
        runner.run(config, network_from=tmp_path / "nothing-here")
