"""The few protobuf and multiformats primitives the DAG encoder needs, hand-written to avoid a dependency.

Only encoding is implemented (plus varint decoding for parsing CIDs): field numbers are written in ascending
order with no defaults elided except where noted by the caller, which is what Go's and JS's dag-pb/UnixFS
encoders emit, so the bytes are canonical.
"""

from __future__ import annotations

_WIRE_VARINT = 0
_WIRE_LEN = 2


def varint(value: int) -> bytes:
    """Unsigned LEB128, as used by protobuf and by multiformats (CID version, codec, multihash header)."""
    if value < 0:
        raise ValueError(f"varint must be non-negative, got {value}")
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a varint at ``pos``; return ``(value, next_pos)``. Raises ``ValueError`` if truncated."""
    value = shift = 0
    while pos < len(buf):
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            break
    raise ValueError("truncated or overlong varint")


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3 | _WIRE_VARINT) + varint(value)


def field_bytes(number: int, value: bytes) -> bytes:
    return varint(number << 3 | _WIRE_LEN) + varint(len(value)) + value
