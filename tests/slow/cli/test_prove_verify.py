"""`zkpot train | prove | verify` end to end with the default (fast) pipeline: exit codes and one-line verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from zkpot.cli.main import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def proved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    assert main(["train", "--client", "1", "--clients", "4", "--epochs", "10", "--out", str(d / "m.npz")]) == 0
    assert main(["prove", "--model", str(d / "m.npz"), "--out", str(d / "proof.json")]) == 0
    return d


def test_a_real_proof_verifies(proved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["verify", str(proved / "proof.json"), "--json"]) == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["valid"] is True and verdict["samples"] == 78 and 0 <= verdict["correct"] <= 78


@pytest.mark.parametrize(("content", "reason"), [(b"{not json", "malformed"), (b'{"format": "x"}', "malformed")])
def test_a_corrupt_proof_is_invalid_in_one_line(proved: Path, capsys: pytest.CaptureFixture[str], content: bytes,
                                                reason: str) -> None:
    (proved / "bad.json").write_bytes(content)
    capsys.readouterr()
    assert main(["verify", str(proved / "bad.json")]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"INVALID ({reason})"), lines


def test_a_tampered_proof_is_invalid(proved: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = json.loads((proved / "proof.json").read_text())
    chunk = bundle["chunks"][0]
    chunk["proof"][200] ^= 1
    chunk["hex_proof"] = "0x" + bytes(chunk["proof"]).hex()
    (proved / "tampered.json").write_text(json.dumps(bundle))
    capsys.readouterr()
    assert main(["verify", str(proved / "tampered.json")]) == 1
    assert capsys.readouterr().out.startswith("INVALID (proof_invalid)")
