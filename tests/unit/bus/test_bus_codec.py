import time

import pytest
from zkpot.bus.codec import MAX_JSON_DEPTH, MAX_PAYLOAD_BYTES, Undecodable, decode, encode, json_depth
from zkpot.bus.errors import BusError
from zkpot.domain.errors import EncodingError, MalformedMessage


def test_round_trip_keeps_unicode_and_nesting() -> None:
    payload = {"round": 3, "note": "épreuve", "txs": [{"id": "ab"}], "ok": True, "none": None}
    data = encode(payload)
    assert "épreuve".encode() in data
    assert decode(data) == payload


@pytest.mark.parametrize("bad", [[1, 2], "text", 3])
def test_encode_refuses_non_mappings(bad: object) -> None:
    with pytest.raises(EncodingError, match="mapping"):
        encode(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [{"x": object()}, {"x": float("nan")}, {"y": {2j: 1}}])
def test_encode_refuses_what_json_cannot_carry(bad: dict) -> None:
    with pytest.raises(EncodingError, match="JSON"):
        encode(bad)


def test_encode_refuses_oversized_payloads() -> None:
    with pytest.raises(BusError, match="IPFS"):
        encode({"blob": "a" * MAX_PAYLOAD_BYTES})


@pytest.mark.parametrize(("data", "why"), [
    (b"\xff\xfe", "UTF-8"), (b"{not json", "JSON"), (b"[1]", "object"), (b"null", "object"), (b"", "JSON"),
])
def test_decode_refuses_with_a_reason(data: bytes, why: str) -> None:
    with pytest.raises(MalformedMessage, match=why):
        decode(data)


def test_decode_refuses_oversized_payloads_before_parsing() -> None:
    data = b'{"blob":"' + b"a" * MAX_PAYLOAD_BYTES + b'"}'
    with pytest.raises(Undecodable, match="exceeds") as caught:
        decode(data)
    assert caught.value.reason == "too_large"


def test_decode_refuses_deep_nesting_before_parsing() -> None:
    ok = b'{"x":' + b"[" * (MAX_JSON_DEPTH - 1) + b"]" * (MAX_JSON_DEPTH - 1) + b"}"
    assert json_depth(ok, MAX_JSON_DEPTH) == MAX_JSON_DEPTH and decode(ok)
    for deep in (b"[" * 100_000, b'{"x":' * 50_000 + b"1" + b"}" * 50_000):
        with pytest.raises(Undecodable, match="deeper") as caught:
            decode(deep)
        assert caught.value.reason == "too_deep"


@pytest.mark.parametrize(("data", "depth"), [
    (b'{"a":[1,{"b":"[[[["}]}', 3), (b'["\\\\",[]]', 2), (b'["\\"[["]', 1), (b'"x"', 0), (b'{"a":"}', 1),
])
def test_json_depth_skips_strings(data: bytes, depth: int) -> None:
    assert json_depth(data, MAX_JSON_DEPTH) == depth


@pytest.mark.parametrize("unit", [b'"\\"', b'"\\', b'"a', b'["\\', b"[]", b'\\"'])
def test_json_depth_is_linear_on_hostile_input(unit: bytes) -> None:
    data = unit * (MAX_PAYLOAD_BYTES // len(unit))
    started = time.perf_counter()
    with pytest.raises(Undecodable):
        decode(data)
    assert time.perf_counter() - started < 2  # ~0.2 s; a backtracking string scan takes hours


def test_decode_maps_every_failure_to_undecodable() -> None:
    with pytest.raises(Undecodable, match="UTF-8 JSON") as caught:
        decode(b'{"n":' + b"9" * 5000 + b"}")  # Python refuses integers of more than 4300 digits
    assert caught.value.reason == "not_json"
