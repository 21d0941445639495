"""Payload encoding on the wire: a JSON object in UTF-8, at most ``MAX_PAYLOAD_BYTES`` (large bytes go to IPFS)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from zkpot.bus.errors import BusError
from zkpot.domain.errors import EncodingError, MalformedMessage

MAX_PAYLOAD_BYTES = 1024 * 1024  # nats-server's default max_payload


def encode(payload: Mapping[str, Any]) -> bytes:
    """JSON bytes of ``payload``; EncodingError if it is not a JSON object, BusError if it is too large."""
    if not isinstance(payload, Mapping):
        raise EncodingError(f"payload must be a mapping, got {type(payload).__name__}")
    try:
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise EncodingError(f"payload is not JSON-serializable: {exc}") from exc
    if len(data) > MAX_PAYLOAD_BYTES:
        raise BusError(f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}: put large bytes on IPFS")
    return data


def decode(data: bytes) -> dict[str, Any]:
    """The JSON object in ``data``; MalformedMessage if it is not UTF-8 JSON or not an object."""
    try:
        value = json.loads(data.decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedMessage(f"payload is not UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise MalformedMessage(f"payload must be a JSON object, got {type(value).__name__}")
    return value
