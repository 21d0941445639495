"""codec.decode returns the JSON object in its input or raises Undecodable, whatever bytes it is given.

Inputs tried per run: 300 random byte strings + 150 JSON texts + 200 mutations of a real block payload
+ 100 deep nestings = 750.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from zkpot.bus.codec import MAX_JSON_DEPTH, Undecodable, decode, encode
from zkpot.domain.events import Proposal

from ..domain.builders import build_chain
from ..strategies import FUZZ, JSON, flipped

CHAIN = build_chain(1)
BLOCK_PAYLOAD = encode(Proposal.of(CHAIN.blocks[0], CHAIN.attestations).to_dict())


def decodes_or_refuses(data: bytes) -> None:
    try:
        value = decode(data)
    except Undecodable:
        return
    assert isinstance(value, dict) and value == json.loads(data)


@settings(FUZZ, max_examples=300)
@given(st.binary(max_size=512))
def test_random_bytes(data: bytes) -> None:
    decodes_or_refuses(data)


@settings(FUZZ, max_examples=150)
@given(JSON, st.booleans())
def test_json_texts(value: Any, ascii_only: bool) -> None:
    decodes_or_refuses(json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass"))


@settings(FUZZ, max_examples=200)
@given(flipped(BLOCK_PAYLOAD))
def test_mutated_block_payloads(data: bytes) -> None:
    decodes_or_refuses(data)


@settings(FUZZ, max_examples=100)
@given(st.integers(1, 150_000), st.sampled_from([(b"[", b"]", 1), (b'{"a":', b"}", 1), (b'[{"b":', b"}]", 2)]))
def test_deep_nesting_is_refused_before_parsing(depth: int, brackets: tuple[bytes, bytes, int]) -> None:
    opener, closer, levels = brackets
    data = b'{"x":' + opener * depth + b"1" + closer * depth + b"}"
    if 1 + levels * depth <= MAX_JSON_DEPTH:
        assert decode(data)
    else:
        try:
            decode(data)
        except Undecodable as e:
            assert e.reason in ("too_deep", "too_large")
        else:
            raise AssertionError("too deep, yet decoded")
