"""Bad input to the CLI: one `zkpot: error: ...` line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from zkpot.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("zkpot: error: "), err
    return lines[0]


def test_verify_a_missing_proof(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "verify", str(tmp_path / "nope.json"))
    assert code == 2 and "no such proof file" in one_error_line(err)


def test_verify_an_empty_proof(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "empty.json").write_text("")
    code, err = run(capsys, "verify", str(tmp_path / "empty.json"))
    assert code == 2 and "is empty" in one_error_line(err)


def test_verify_against_a_circuit_folder_that_is_not_one(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "p.json").write_text("{}")
    code, err = run(capsys, "verify", str(tmp_path / "p.json"), "--circuit", str(tmp_path))
    assert code == 2 and "no circuit at" in one_error_line(err)


def test_prove_a_missing_model(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "prove", "--model", str(tmp_path / "model.npz"))
    assert code == 2 and "no such model file" in one_error_line(err)


def test_prove_a_model_of_the_wrong_shape(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    np.savez(tmp_path / "m.npz", **{"fc0.weight": np.zeros((8, 64)), "fc0.bias": np.zeros(8)})
    code, err = run(capsys, "prove", "--model", str(tmp_path / "m.npz"))
    assert code == 2 and "does not fit mlp-64-32-10" in one_error_line(err)


def test_prove_a_file_that_is_not_a_model(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "m.npz").write_bytes(b"not a zip")
    code, err = run(capsys, "prove", "--model", str(tmp_path / "m.npz"))
    assert code == 2 and "not a model file" in one_error_line(err)


@pytest.mark.parametrize("arch", ["mlp-3-10", "mlp-64-x-10", "cnn"])
def test_unknown_architecture(capsys, tmp_path: Path, arch: str) -> None:  # noqa: ANN001
    code, err = run(capsys, "train", "--arch", arch, "--out", str(tmp_path / "m.npz"))
    assert code == 2 and "architecture" in one_error_line(err)


def test_train_on_data_of_the_wrong_shape(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    np.savez(tmp_path / "d.npz", X=np.zeros((10, 3)), y=np.zeros(10, dtype=np.int64))
    code, err = run(capsys, "train", "--data", str(tmp_path / "d.npz"), "--out", str(tmp_path / "m.npz"))
    assert code == 2 and "X must have shape" in one_error_line(err)


def test_train_a_client_outside_the_federation(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "train", "--client", "7", "--clients", "4", "--out", str(tmp_path / "m.npz"))
    assert code == 2 and "outside 0..3" in one_error_line(err)


def test_genesis_without_keys(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "genesis", "--keys", str(tmp_path / "public.json"))
    assert code == 2 and "no such public key file" in one_error_line(err)


def test_chain_verify_of_a_folder_without_a_chain(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "chain", "verify", "--dir", str(tmp_path))
    assert code == 2 and "no such genesis file" in one_error_line(err)


def test_serve_without_its_settings(capsys, monkeypatch) -> None:  # noqa: ANN001
    for name in ("ZKPOT_NATS_URL", "ZKPOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    code, err = run(capsys, "serve", "validator")
    assert code == 2 and "missing environment variable" in one_error_line(err)


def test_devnet_down_without_a_devnet(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    code, err = run(capsys, "devnet", "down", "--dir", str(tmp_path))
    assert code == 2 and "no devnet state" in one_error_line(err)
