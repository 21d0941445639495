"""Verifiable aggregation without ezkl: encode/decode on synthetic layouts, and the affine combination law on a
toy affine commitment C(m) = sum_j m_j * s_j * G + C0 built with py_ecc."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from py_ecc import optimized_bn128 as bn
from zkpot.domain.aggregation import fedavg
from zkpot.domain.errors import AggregationError
from zkpot.domain.verifiable import (
    BN254_R,
    HALF_R,
    RULE,
    AggregateLayout,
    CommitmentError,
    TensorLayout,
    aggregate_holds,
    combine,
    decode,
    encode,
    felts,
    format_points,
    integer_weight,
    parse_points,
)

C0_SCALAR = 11
C0 = format_points([bn.multiply(bn.G1, C0_SCALAR)])
LAYOUT = AggregateLayout((TensorLayout("w", (2, 3), 8), TensorLayout("b", (3,), 12, 2)), 9, C0)
SECRETS = [random.Random(1).randrange(1, BN254_R) for _ in range(9)]


def toy_commit(message: list[int], points: int = 1) -> str:
    """An affine commitment per slice of the message: sum_j m_j * s_j * G + C0 (one C0 per point)."""
    size = -(-len(message) // points)
    out = []
    for k in range(points):
        scalar = sum(m * s for m, s in zip(message[k * size:(k + 1) * size], SECRETS[k * size:], strict=False))
        out.append(bn.add(bn.multiply(bn.G1, scalar % BN254_R), bn.multiply(bn.G1, C0_SCALAR)))
    return format_points(out)


def model(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"w": rng.normal(0, 0.5, (2, 3)).astype(np.float32), "b": rng.normal(0, 0.1, 3).astype(np.float32)}


def test_layout_round_trips_through_json_with_no_floats() -> None:
    d = LAYOUT.to_dict()
    text = json.dumps(d)
    assert "." not in text.replace(d["c0"], "")  # ints and strings only
    assert AggregateLayout.from_dict(json.loads(text) | {"future": 1}) == LAYOUT
    assert LAYOUT.rule == RULE


@pytest.mark.parametrize("edit", [{"rule": "other/1"}, {"elements": 10}, {"c0": "00" * 63}, {"tensors": 3}])
def test_a_bad_layout_is_refused(edit: dict[str, object]) -> None:
    with pytest.raises(AggregationError):
        AggregateLayout.from_dict(LAYOUT.to_dict() | edit)


def test_encode_rounds_half_away_from_zero_after_the_float32_multiplier() -> None:
    w = np.array([[1.5, -1.5, 2.5], [-2.5, 0.1 * 256, 0.0]]) / 256
    b = np.array([1.5, -0.75, 3.0]) / 4096
    assert encode(LAYOUT, {"w": w, "b": b}) == [2, -2, 3, -3, 26, 0, 3, -2, 6]


@pytest.mark.parametrize("weights", [{"w": np.zeros((2, 3))}, {"w": np.zeros((3, 2)), "b": np.zeros(3)},
                                     {"w": np.full((2, 3), np.nan), "b": np.zeros(3)}])
def test_encode_refuses_a_model_off_the_layout(weights: dict[str, np.ndarray]) -> None:
    with pytest.raises(AggregationError):
        encode(LAYOUT, weights)


def test_decode_of_a_weighted_sum_is_fedavg_within_quantization_error() -> None:
    models, a = [model(i) for i in range(3)], [3, 5, 7]
    msgs = [encode(LAYOUT, m) for m in models]
    summed = [sum(ai * m[j] for ai, m in zip(a, msgs, strict=True)) for j in range(LAYOUT.elements)]
    got, want = decode(LAYOUT, sum(a), summed), fedavg(models, [float(x) for x in a])
    assert got["w"].dtype == np.float32 and got["b"].shape == (3,)
    np.testing.assert_allclose(got["w"], want["w"], atol=0.5 / 2**8 + 1e-7)
    np.testing.assert_allclose(got["b"], want["b"], atol=0.5 / 2**12 / 2 + 1e-7)


def test_decode_of_one_model_is_its_quantized_value() -> None:
    w = model(4)
    got = decode(LAYOUT, 1, encode(LAYOUT, w))
    np.testing.assert_array_equal(got["w"], np.round(w["w"].astype(np.float64) * 256) / 256)


def test_decode_is_exact_and_deterministic_beyond_float_precision() -> None:
    rng = random.Random(7)
    total = 3 * 2**70 + 1
    summed = [rng.randrange(-2**120, 2**120) for _ in range(LAYOUT.elements)]
    first, second = decode(LAYOUT, total, summed), decode(LAYOUT, total, list(summed))
    assert all(first[k].tobytes() == second[k].tobytes() for k in first)
    dens = [total << 8] * 6 + [(total * 2) << 12] * 3
    want = [np.float32(float(Fraction(s, d))) for s, d in zip(summed, dens, strict=True)]
    assert np.concatenate([first["w"].ravel(), first["b"]]).tolist() == want


def test_decode_has_fixed_vectors() -> None:
    got = decode(LAYOUT, 3, [1, -1, 2**60, 0, 0, 0, 1, 0, 0])
    assert got["w"].ravel().tobytes().hex()[:24] == "abaaaa3aabaaaabaabaaaa58"
    assert got["b"][0] == np.float32(1 / (3 * 2 * 4096))


@pytest.mark.parametrize("total,summed", [(0, [0] * 9), (1, [0] * 8), (1, [HALF_R + 1] + [0] * 8),
                                          (1, [0.5] + [0] * 8), (1, [2**200] + [0] * 8)])
def test_decode_refuses_what_it_cannot_read(total: int, summed: list[int]) -> None:
    with pytest.raises(AggregationError):
        decode(LAYOUT, total, summed)


def test_felts_are_signed_mod_r() -> None:
    assert felts([0, 5, -1, HALF_R, -HALF_R]) == [0, 5, BN254_R - 1, HALF_R, BN254_R - HALF_R]


def test_integer_weights_follow_the_genesis_rule() -> None:
    assert integer_weight(120, 30, "fedavg") == 120
    assert integer_weight(120, 30, "fedavg_acc") == 3600
    for args in [(0, 3, "fedavg"), (5, -1, "fedavg_acc"), (5, 1, "median")]:
        with pytest.raises(AggregationError):
            integer_weight(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize("points", [1, 2])
def test_the_combination_of_member_commitments_is_the_commitment_of_the_sum(points: int) -> None:
    msgs = [encode(LAYOUT, model(i)) for i in range(3)]
    a = [3, 5, 7]
    summed = [sum(ai * m[j] for ai, m in zip(a, msgs, strict=True)) for j in range(LAYOUT.elements)]
    commitments = [toy_commit(m, points) for m in msgs]
    c0 = format_points([bn.multiply(bn.G1, C0_SCALAR)] * points)
    assert combine(commitments, a, c0) == toy_commit(summed, points)
    assert aggregate_holds(commitments, a, c0, toy_commit(summed, points))
    assert combine(commitments, a, c0) == combine(list(commitments), list(a), c0)  # deterministic
    tampered = list(summed)
    tampered[4] += 1
    assert not aggregate_holds(commitments, a, c0, toy_commit(tampered, points))
    assert not aggregate_holds(commitments, [3, 5, 8], c0, toy_commit(summed, points))


def test_zero_weights_leave_c0_and_one_member_is_itself() -> None:
    c = toy_commit(encode(LAYOUT, model(1)))
    assert combine([c, c], [0, 0], C0) == C0
    assert combine([c], [1], C0) == c


def test_identity_round_trips() -> None:
    assert format_points(parse_points("00" * 64)) == "00" * 64
    assert bn.is_inf(parse_points("00" * 64)[0])


OFF_CURVE = (1).to_bytes(32, "big").hex() * 2
BIG_X = (bn.field_modulus + 1).to_bytes(32, "big").hex() + "00" * 32


@pytest.mark.parametrize("bad", [OFF_CURVE, BIG_X, "zz" * 64, "00" * 65, "", C0 + C0])
def test_a_bad_point_is_refused(bad: str) -> None:
    with pytest.raises(CommitmentError):
        combine([C0, bad], [1, 1], C0)


@pytest.mark.parametrize("weights", [[1], [1, -1], [1, 1.5], [True, 1]])
def test_weights_must_be_non_negative_integers_one_per_commitment(weights: list[int]) -> None:
    with pytest.raises(AggregationError):
        combine([C0, C0], weights, C0)


def test_importing_it_keeps_the_recursion_limit() -> None:
    """py_ecc raises it to 100 000 on import, turning a deep JSON document's RecursionError into a segfault."""
    code = ("import sys; before = sys.getrecursionlimit(); import zkpot.domain.verifiable; "
            "assert sys.getrecursionlimit() == before, sys.getrecursionlimit()")
    subprocess.run([sys.executable, "-c", code], check=True, env=os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)})
