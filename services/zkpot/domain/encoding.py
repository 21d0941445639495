"""Canonical encoding: the one definition of the bytes behind every tx id, block hash and signature.

Canonical JSON is ``json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` in UTF-8.
Floats are refused, so no hash depends on float formatting; accuracies travel as integer counts.
"""

import hashlib
import json
import re

from zkpot.domain.errors import EncodingError

_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def _check(obj: object, path: str) -> None:
    if obj is None or isinstance(obj, (bool, int, str)):
        return
    if isinstance(obj, float):
        raise EncodingError(f"float at {path}: encode numbers as integers (counts, fixed point)")
    if isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _check(item, f"{path}[{i}]")
        return
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise EncodingError(f"non-str key {key!r} at {path}")
            _check(value, f"{path}.{key}")
        return
    raise EncodingError(f"unsupported type {type(obj).__name__} at {path}")


def canonical(obj: object) -> bytes:
    """Deterministic JSON bytes of ``obj`` (None, bool, int, str, list/tuple, dict with str keys)."""
    _check(obj, "$")
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise EncodingError(f"string is not valid UTF-8: {exc}") from exc


def sha256_hex(data: bytes) -> str:
    """Lower-case hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def digest(obj: object) -> str:
    """sha256 hex of the canonical encoding of ``obj``."""
    return sha256_hex(canonical(obj))


def is_hex(value: object, nbytes: int | None = None) -> bool:
    """True if ``value`` is lower-case hex of whole bytes (``nbytes`` of them, if given); "" is 0 bytes."""
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        return False
    return nbytes is None or len(value) == 2 * nbytes
