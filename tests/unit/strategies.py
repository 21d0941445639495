"""Hypothesis strategies for fuzzing decoders: hostile JSON values and mutations of valid inputs.

Every fuzz test runs under ``FUZZ`` (no deadline, no example database in the checkout) with its own
``max_examples``, small enough that all of them together take a few seconds.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def nested(depth: int) -> Any:
    value: Any = 0
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


SCALARS = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=2**62, max_value=2**80)
    | st.integers(max_value=-1) | st.floats() | st.text(max_size=20)
    | st.sampled_from(["", "ab" * 32, "AB" * 32, "a" * 63, "b" * 128, "c" * 129, "d" * 257, "e" * 513, "f" * 40_000,
                       "\x00", "é" * 10, '"', "\\", "0x12", "bafy-\n"])
)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=6)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=6), max_leaves=16)


def wild(max_depth: int) -> st.SearchStrategy[Any]:
    """Hostile JSON-like values: ``JSON``, nestings up to ``max_depth`` deep, long lists of keys."""
    return (JSON | st.integers(min_value=1, max_value=max_depth).map(nested)
            | st.integers(min_value=0, max_value=2_000).map(lambda n: ["ab" * 32] * n))


WILD = wild(3_000)  # deeper than json.dumps goes: for decoders given Python objects
WILD_TEXT = wild(500)  # what json.dumps can still write: for decoders given bytes


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside a JSON value (dict keys, list indices), the value itself included."""
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out.extend(paths(child, (*prefix, i)))
    return out


@st.composite
def mutated(draw: st.DrawFn, valid: dict[str, Any], values: st.SearchStrategy[Any] = WILD) -> Any:
    """``valid`` with one place replaced by one of ``values``, or removed."""
    doc = copy.deepcopy(valid)
    where = draw(st.sampled_from(paths(doc)))
    if not where:
        return draw(values)
    parent = doc
    for step in where[:-1]:
        parent = parent[step]
    if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
        del parent[where[-1]]
    else:
        parent[where[-1]] = draw(values)
    return doc


def flipped(data: bytes) -> st.SearchStrategy[bytes]:
    """``data`` with a few bytes changed, cut short or extended."""
    edits = st.lists(st.tuples(st.integers(0, max(len(data) - 1, 0)), st.integers(0, 255)), min_size=1, max_size=4)

    def apply(edit: list[tuple[int, int]], cut: int, tail: bytes) -> bytes:
        out = bytearray(data)
        for i, b in edit:
            out[i] = b
        return bytes(out[:cut]) + tail

    return st.builds(apply, edits, st.integers(0, len(data)), st.binary(max_size=8))
