"""Model files from peers: checked against the architecture before any array is allocated."""

from __future__ import annotations

import io
import pickle
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy
from zkpot.errors import InputError
from zkpot.ml.model import Arch, init_weights, load_weights, max_model_bytes, weights_from_bytes, weights_to_bytes

ARCH = Arch()
WEIGHTS = init_weights(ARCH, 1)
HUGE = (1_000_000, 1_000_000)  # 4 TB of float32


def npy_bytes(array: np.ndarray | None = None, header: dict | None = None, data: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    if header is not None:
        npy.write_array_header_1_0(buf, header)
        buf.write(data or b"")
    else:
        np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def npz(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def valid_members() -> dict[str, bytes]:
    return {f"{k}.npy": npy_bytes(v) for k, v in WEIGHTS.items()}


def with_member(name: str, data: bytes) -> bytes:
    return npz({**valid_members(), name: data})


def assert_same(weights: dict[str, np.ndarray]) -> None:
    assert set(weights) == set(WEIGHTS)
    assert all(np.array_equal(weights[k], WEIGHTS[k]) and weights[k].flags.writeable for k in WEIGHTS)


@pytest.mark.parametrize("writer", [
    lambda: weights_to_bytes(WEIGHTS),
    lambda: npz(valid_members(), zipfile.ZIP_DEFLATED),
    lambda: npz({f"{k}.npy": npy_bytes(np.asfortranarray(v)) for k, v in WEIGHTS.items()}),
], ids=["ours", "compressed", "fortran-order"])
def test_valid_model_files_load(writer: Callable[[], bytes]) -> None:
    assert_same(weights_from_bytes(ARCH, writer()))


def test_the_size_limit_leaves_room_for_a_real_file() -> None:
    assert len(weights_to_bytes(WEIGHTS)) < max_model_bytes(ARCH) < 8 * 4 * ARCH.n_params()


BIAS = "fc0.bias.npy"
BAD = {
    "not a zip": (b"PK\x03\x04 garbage", "not a model file"),
    "empty": (b"", "not a model file"),
    "missing member": (npz({k: v for k, v in valid_members().items() if k != BIAS}), "does not fit"),
    "extra member": (with_member("extra.npy", npy_bytes(np.zeros(1, "<f4"))), "does not fit"),
    "not .npy": (npz({**{k: v for k, v in valid_members().items() if k != BIAS}, "fc0.bias": b""}), "does not fit"),
    "float64": (with_member(BIAS, npy_bytes(WEIGHTS["fc0.bias"].astype("<f8"))), "expected float32"),
    "big-endian": (with_member(BIAS, npy_bytes(WEIGHTS["fc0.bias"].astype(">f4"))), "expected float32"),
    "wrong shape": (with_member(BIAS, npy_bytes(np.zeros(33, "<f4"))), "expected float32 \\(32,\\)"),
    "object pickle": (with_member(BIAS, npy_bytes(np.array([object()] * 32, dtype=object))), "expected float32"),
    "truncated data": (with_member(BIAS, npy_bytes(header={"descr": "<f4", "fortran_order": False,
                                                           "shape": (32,)}, data=b"\0" * 100)), "100 bytes"),
    "trailing data": (with_member(BIAS, npy_bytes(WEIGHTS["fc0.bias"]) + b"\0"), "129 bytes"),
    "not npy": (with_member(BIAS, b"\x93NUMPY\x09\x00junk"), "format version"),
    "huge shape": (with_member(BIAS, npy_bytes(header={"descr": "<f4", "fortran_order": False, "shape": HUGE})),
                   "expected float32"),
    "nan": (with_member(BIAS, npy_bytes(np.full(32, np.nan, "<f4"))), "NaN"),
}


@pytest.mark.parametrize(("data", "why"), BAD.values(), ids=BAD.keys())
def test_bad_model_files_are_refused_with_one_line(data: bytes, why: str) -> None:
    with pytest.raises(InputError, match=why) as caught:
        weights_from_bytes(ARCH, data)
    assert "\n" not in str(caught.value)


def test_a_pickle_is_never_unpickled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled"))
    with pytest.raises(InputError):
        weights_from_bytes(ARCH, BAD["object pickle"][0])


def peak_bytes(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(InputError):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_tiny_file_declaring_a_huge_shape_allocates_nothing_like_it() -> None:
    fake = {"descr": "<f4", "fortran_order": False, "shape": HUGE}
    members = {f"{k}.npy": npy_bytes(header={**fake, "shape": HUGE}) for k in WEIGHTS}
    data = npz(members)
    assert len(data) < 2_000
    assert peak_bytes(lambda: weights_from_bytes(ARCH, data)) < 1_000_000  # declared: 4 * 10**12 bytes a member


def test_a_zip_bomb_is_refused_by_its_declared_size_before_inflating() -> None:
    bomb = npz({**valid_members(), BIAS: b"\0" * 20_000_000}, zipfile.ZIP_DEFLATED)
    assert len(bomb) < max_model_bytes(ARCH)
    assert peak_bytes(lambda: weights_from_bytes(ARCH, bomb)) < 1_000_000


def test_a_file_over_the_size_limit_is_refused_before_parsing() -> None:
    with pytest.raises(InputError, match="exceeds"):
        weights_from_bytes(ARCH, weights_to_bytes(WEIGHTS) + b"\0" * max_model_bytes(ARCH))


def test_load_weights_refuses_a_huge_file_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.npz"
    with path.open("wb") as f:
        f.truncate(10 * 1024**3)  # sparse: nothing is written
    assert peak_bytes(lambda: load_weights(ARCH, path)) < 1_000_000
    path.write_bytes(weights_to_bytes(WEIGHTS))
    assert_same(load_weights(ARCH, path))
