"""Payload encoding on the wire: a JSON object in UTF-8, at most ``MAX_PAYLOAD_BYTES`` (large bytes go to IPFS).

Decoding is bounded before it parses: the size first, then the nesting depth (a cheap scan of the brackets outside
strings), so no payload reaches ``json.loads`` that could exhaust its recursion or the memory. Whatever else goes
wrong is an ``Undecodable`` payload too: a body that does not decode now never will.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from zkpot.bus.errors import BusError
from zkpot.domain.errors import EncodingError, MalformedMessage

MAX_PAYLOAD_BYTES = 1024 * 1024  # nats-server's default max_payload
MAX_JSON_DEPTH = 32  # the deepest message (Finalized) nests 6 deep; room for a newer producer's additions

# a string, or an unterminated one up to the end; possessive, so the scan stays linear on any input
_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class Undecodable(MalformedMessage):
    """A payload that is not a bounded UTF-8 JSON object; ``reason`` names the check it failed (a metric label)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


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
    """The JSON object in ``data``; ``Undecodable`` (a MalformedMessage) for anything else, whatever the cause."""
    try:
        return _decode(data)
    except Undecodable:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise Undecodable("not_json", f"payload is not UTF-8 JSON: {exc}") from exc
    except Exception as exc:  # RecursionError, MemoryError, ...: the same bytes fail the same way next time
        raise Undecodable("error", f"payload cannot be decoded: {type(exc).__name__}: {exc}") from exc


def _decode(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_PAYLOAD_BYTES:
        raise Undecodable("too_large", f"payload of {len(data)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    if json_depth(data, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise Undecodable("too_deep", f"payload nests deeper than {MAX_JSON_DEPTH}")
    value = json.loads(data.decode())
    if not isinstance(value, dict):
        raise Undecodable("not_object", f"payload must be a JSON object, got {type(value).__name__}")
    return value


def json_depth(data: bytes, limit: int) -> int:
    """How deep the arrays and objects of JSON ``data`` nest, or ``limit + 1`` once deeper than ``limit``.

    Exact for valid JSON (brackets inside strings are skipped); invalid JSON fails in the parser afterwards.
    """
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest
