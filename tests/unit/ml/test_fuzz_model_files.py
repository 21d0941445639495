"""weights_from_bytes returns weights of the architecture or raises InputError, whatever bytes it is given.

Inputs tried per run: 200 random byte strings + 300 mutations of a real model file + 150 crafted .npz files
(random member names, .npy versions, dtypes, shapes, orders and data lengths) = 650.
"""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.lib import format as npy
from zkpot.errors import InputError
from zkpot.ml.model import Arch, init_weights, weights_from_bytes, weights_to_bytes

from ..strategies import FUZZ, flipped

ARCH = Arch()
SHAPES = ARCH.shapes()
VALID = weights_to_bytes(init_weights(ARCH, 1))


def loads_or_refuses(data: bytes) -> None:
    try:
        weights = weights_from_bytes(ARCH, data)
    except InputError:
        return
    assert {k: v.shape for k, v in weights.items()} == SHAPES
    assert all(v.dtype == np.float32 and np.all(np.isfinite(v)) for v in weights.values())


@settings(FUZZ, max_examples=200)
@given(st.binary(max_size=2048) | st.binary(max_size=64).map(lambda tail: b"PK\x03\x04" + tail))
def test_random_bytes(data: bytes) -> None:
    loads_or_refuses(data)


@settings(FUZZ, max_examples=300)
@given(flipped(VALID))
def test_mutated_model_files(data: bytes) -> None:
    loads_or_refuses(data)


NAMES = st.sampled_from([*SHAPES, "extra", "fc0.weight/../x", ""])
SHAPE = st.sampled_from(list(SHAPES.values())) | st.lists(st.integers(0, 2**40), max_size=3).map(tuple)
DESCR = st.sampled_from(["<f4", ">f4", "<f8", "|O", "<i4", "|u1", "<f2", "|b1"])


@st.composite
def npy_member(draw: st.DrawFn) -> bytes:
    buf = io.BytesIO()
    header = {"descr": draw(DESCR), "fortran_order": draw(st.booleans()), "shape": draw(SHAPE)}
    write = npy.write_array_header_2_0 if draw(st.booleans()) else npy.write_array_header_1_0
    write(buf, header)
    buf.write(draw(st.binary(max_size=64) | st.integers(0, 9000).map(bytes)))
    return buf.getvalue()


@st.composite
def crafted_npz(draw: st.DrawFn) -> bytes:
    names = draw(st.lists(NAMES, min_size=0, max_size=6))
    buf = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]))
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name in names:
            zf.writestr(f"{name}.npy" if draw(st.booleans()) or not name else name, draw(npy_member()))
    return buf.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name")
@settings(FUZZ, max_examples=150)
@given(crafted_npz())
def test_crafted_npz_files(data: bytes) -> None:
    loads_or_refuses(data)
