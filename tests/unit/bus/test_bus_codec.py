import pytest
from zkpot.bus.codec import MAX_PAYLOAD_BYTES, decode, encode
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
