"""Verifiable aggregation: the global model's weight commitment follows from the members' proof commitments.

A member's proof exposes a KZG commitment C(m) to its quantized weights m (``zkpot.zk.commitment``). ezkl puts a
constant blind in the unusable rows, so the commitment is affine in the message: C(m) = L(m) + C0 with
C0 = C(0) != identity. Hence for integer weights a_i:

    sum_i a_i * C(m_i) - (sum_i a_i - 1) * C0 == C(sum_i a_i * m_i)

so anyone holding the members' commitments, their integer weights and C0 checks the aggregator's summed message
with one commitment and a few curve operations, never seeing the members' weights.

Pure: numpy and py_ecc (BN254 G1) only; computing a commitment (``zk.*.aggregate``) is the proof system's part.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from zkpot.domain.aggregation import FEDAVG, FEDAVG_ACC
from zkpot.domain.errors import AggregationError

# py_ecc raises the interpreter's recursion limit to 100 000 when imported: a deeply nested JSON document from the
# wire then overflows the C stack (a segfault) instead of raising RecursionError. Keep the limit as it was; py_ecc's
# recursive scalar multiplication needs one frame per scalar bit (254).
_RECURSION_LIMIT = sys.getrecursionlimit()
from py_ecc import optimized_bn128 as bn  # noqa: E402

sys.setrecursionlimit(_RECURSION_LIMIT)

RULE = "kzg-affine/1"
POINT_BYTES = 64
BN254_R = bn.curve_order  # the scalar field the message elements live in
BN254_P = bn.field_modulus  # the base field the points' coordinates live in
_LAYOUT_FORMAT = "zkpot-aggregate-layout/1"
# A message element is a felt: v and v + k*r commit alike, so only |v| <= HALF_R is read back, one value per felt
HALF_R = BN254_R // 2

Point = Any  # py_ecc's Jacobian triple of FQ; its own hints are too loose to name here


class CommitmentError(AggregationError):
    """A commitment is not canonical hex of BN254 G1 points (wrong length, coordinate out of range, off the curve)."""


@dataclass(frozen=True)
class TensorLayout:
    """One tensor of the message: ``name`` with ``shape``, flattened row-major, each value v of the graph's tensor
    (the model's value times ``multiplier``) quantized at 2**``scale``."""

    name: str
    shape: tuple[int, ...]
    scale: int
    multiplier: int = 1

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


@dataclass(frozen=True)
class AggregateLayout:
    """How a proof system's committed message is made from a model, and its zero-message commitment ``c0``.

    ``elements`` is the message length (the sum of the tensor sizes); ``c0`` the canonical hex of C(0) (64 bytes
    per point); ``rule`` names the combination law (``RULE``). JSON-able ints and strings only: genesis stores it.
    """

    tensors: tuple[TensorLayout, ...]
    elements: int
    c0: str
    rule: str = RULE

    def __post_init__(self) -> None:
        if self.rule != RULE:
            raise AggregationError(f"unknown aggregation rule {self.rule!r}; this node knows {RULE!r}")
        if sum(t.size for t in self.tensors) != self.elements:
            raise AggregationError(f"layout tensors hold {sum(t.size for t in self.tensors)} elements, "
                                   f"not {self.elements}")
        if any(t.scale < 0 or t.multiplier < 1 for t in self.tensors):
            raise AggregationError("every tensor needs scale >= 0 and multiplier >= 1")
        parse_points(self.c0)

    def to_dict(self) -> dict[str, Any]:
        return {"format": _LAYOUT_FORMAT, "rule": self.rule, "elements": self.elements, "c0": self.c0,
                "tensors": [{"name": t.name, "shape": list(t.shape), "scale": t.scale, "multiplier": t.multiplier}
                            for t in self.tensors]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AggregateLayout:
        """The layout ``to_dict`` wrote; unknown keys are ignored."""
        try:
            tensors = tuple(TensorLayout(str(t["name"]), tuple(int(n) for n in t["shape"]), int(t["scale"]),
                                         int(t["multiplier"])) for t in d["tensors"])
            return cls(tensors, int(d["elements"]), str(d["c0"]), str(d["rule"]))
        except (KeyError, TypeError, ValueError) as e:
            if isinstance(e, AggregationError):
                raise
            raise AggregationError(f"not an aggregate layout: {e!r}") from e


def encode(layout: AggregateLayout, weights: Mapping[str, np.ndarray]) -> list[int]:
    """The signed integer message of a model, as the circuit quantizes it.

    Each value is taken as float32, multiplied by its tensor's multiplier in float32 (as the graph export does),
    then q = round-half-away-from-zero(float64(v) * 2**scale) (Rust's ``f64::round``, what ezkl uses).
    """
    if set(weights) != {t.name for t in layout.tensors}:
        raise AggregationError(f"model has tensors {sorted(weights)}, the layout {[t.name for t in layout.tensors]}")
    out: list[int] = []
    for t in layout.tensors:
        a = np.asarray(weights[t.name])
        if a.shape != t.shape:
            raise AggregationError(f"tensor {t.name!r} has shape {a.shape}, the layout {t.shape}")
        v = (a.astype(np.float32) * np.float32(t.multiplier)).astype(np.float64).ravel() * 2.0**t.scale
        if not np.all(np.isfinite(v)) or np.max(np.abs(v), initial=0.0) >= 2.0**62:
            raise AggregationError(f"tensor {t.name!r} holds values the message cannot carry (inf, nan or huge)")
        out += (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64).tolist()
    return out


def decode(layout: AggregateLayout, total: int, summed: Sequence[int]) -> dict[str, np.ndarray]:
    """The global model from the summed message sum_i a_i * m_i and ``total`` = sum_i a_i, as float32.

    Rule (deterministic on every IEEE-754 machine, exact for any size of integers): each element is
    ``np.float32(s / (total * 2**scale * multiplier))`` where ``/`` is Python's int / int true division, which is
    correctly rounded to the nearest float64 (ties to even) however large s is; the cast to float32 then rounds to
    nearest even again. A result beyond float32's range is refused, not turned into inf.

    Elements must be canonical (``check_message``): an aggregator could otherwise add r to one and keep the
    commitment while changing the model.
    """
    if total < 1:
        raise AggregationError(f"total weight must be a positive integer, not {total}")
    if len(summed) != layout.elements:
        raise AggregationError(f"summed message has {len(summed)} elements, the layout {layout.elements}")
    check_message(summed)
    out: dict[str, np.ndarray] = {}
    start = 0
    for t in layout.tensors:
        den = (total * t.multiplier) << t.scale
        try:
            vals = [int(s) / den for s in summed[start:start + t.size]]
        except OverflowError as e:
            raise AggregationError(f"tensor {t.name!r}: a summed element is beyond float range") from e
        with np.errstate(over="ignore"):
            arr = np.array(vals, dtype=np.float64).astype(np.float32)
        if not np.all(np.isfinite(arr)):
            raise AggregationError(f"tensor {t.name!r}: the averaged value is beyond float32 range")
        out[t.name] = arr.reshape(t.shape)
        start += t.size
    return out


def check_message(message: Sequence[int]) -> None:
    """Refuse a message that is not one canonical felt per element: integers with |v| <= HALF_R."""
    for i, v in enumerate(message):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise AggregationError(f"message element {i} is {type(v).__name__}, not an integer")
        if abs(int(v)) > HALF_R:
            raise AggregationError(f"message element {i} lies outside the field's signed range (|v| > (r - 1) / 2)")


def felts(message: Sequence[int]) -> list[int]:
    """The field elements of a canonical message: v mod r (negative v -> r - |v|)."""
    check_message(message)
    return [int(v) % BN254_R for v in message]


def integer_weight(n_train: int, correct: int, rule: str) -> int:
    """A member's integer aggregation weight: ``fedavg`` -> n_train; ``fedavg_acc`` -> n_train * correct.

    Proportional to ``aggregation.aggregation_weights`` (which divides by the round's common sample count), so the
    normalized weights, and the global model, are the same.
    """
    if n_train < 1 or correct < 0:
        raise AggregationError(f"need n_train >= 1 and correct >= 0, not {n_train} and {correct}")
    if rule == FEDAVG:
        return int(n_train)
    if rule == FEDAVG_ACC:
        return int(n_train) * int(correct)
    raise AggregationError(f"unknown aggregation rule {rule!r}; expected one of {(FEDAVG, FEDAVG_ACC)}")


def combine(commitments: Sequence[str], weights: Sequence[int], c0: str) -> str:
    """Canonical hex of sum_i a_i * C_i - (sum_i a_i - 1) * C0, point by point for multi-point commitments."""
    if len(commitments) != len(weights) or not commitments:
        raise AggregationError(f"{len(commitments)} commitments but {len(weights)} weights")
    if any(isinstance(a, bool) or not isinstance(a, int | np.integer) or a < 0 for a in weights):
        raise AggregationError("aggregation weights must be non-negative integers")
    base = parse_points(c0)
    points = [parse_points(c) for c in commitments]
    if any(len(p) != len(base) for p in points):
        raise CommitmentError(f"every commitment needs {len(base)} point(s), like c0")
    blind = sum(int(a) for a in weights) - 1  # small: multiply by it, then negate (-1 when every weight is 0)
    out = []
    for k, c0_point in enumerate(base):
        acc = bn.neg(bn.multiply(c0_point, blind % BN254_R))
        for a, p in zip(weights, points, strict=True):
            acc = bn.add(acc, bn.multiply(p[k], int(a) % BN254_R))
        out.append(acc)
    return format_points(out)


def aggregate_holds(commitments: Sequence[str], weights: Sequence[int], c0: str, commitment_of_sum: str) -> bool:
    """Whether ``commitment_of_sum`` commits to sum_i a_i * m_i given each C_i commits to m_i (malformed
    commitments raise ``CommitmentError``)."""
    expected = parse_points(combine(commitments, weights, c0))
    got = parse_points(commitment_of_sum)
    return len(got) == len(expected) and all(bn.eq(a, b) for a, b in zip(got, expected, strict=True))


def parse_points(text: str) -> list[Point]:
    """Canonical hex (x then y, 32 bytes big-endian each, per point; 64 zero bytes = identity) -> G1 points."""
    try:
        raw = bytes.fromhex(text)
    except (TypeError, ValueError) as e:
        raise CommitmentError("a commitment is hex text") from e
    if not raw or len(raw) % POINT_BYTES:
        raise CommitmentError(f"a commitment is a positive multiple of {POINT_BYTES} bytes, not {len(raw)}")
    points = []
    for i in range(0, len(raw), POINT_BYTES):
        x, y = int.from_bytes(raw[i:i + 32], "big"), int.from_bytes(raw[i + 32:i + 64], "big")
        if x == y == 0:
            points.append(bn.Z1)
            continue
        if x >= BN254_P or y >= BN254_P:
            raise CommitmentError(f"point {i // POINT_BYTES}: a coordinate is not below the field modulus")
        p = (bn.FQ(x), bn.FQ(y), bn.FQ.one())
        if not bn.is_on_curve(p, bn.b):
            raise CommitmentError(f"point {i // POINT_BYTES} is not on the BN254 curve")
        points.append(p)
    return points


def format_points(points: Sequence[Point]) -> str:
    """G1 points -> canonical hex (the inverse of ``parse_points``)."""
    out = bytearray()
    for p in points:
        if bn.is_inf(p):
            out += bytes(POINT_BYTES)
            continue
        x, y = bn.normalize(p)
        out += int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big")
    return out.hex()
