"""NATS subject syntax: wildcard matching and the checks on names that become subject tokens or consumer names.

``*`` matches one token, ``>`` (last token only) matches one or more.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[^.*>\s/\\]+")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")


def check_token(value: str, what: str) -> str:
    """``value`` if it can be one subject token (no dot, wildcard or whitespace), else ValueError."""
    if not isinstance(value, str) or not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} {value!r} cannot be a subject token (no '.', '*', '>', '/', whitespace)")
    return value


def check_subject(subject: str, *, wildcards: bool) -> str:
    """``subject`` if it is well formed (wildcards allowed only where ``wildcards``), else ValueError."""
    tokens = subject.split(".") if isinstance(subject, str) else [""]
    for i, tok in enumerate(tokens):
        if wildcards and (tok == "*" or (tok == ">" and i == len(tokens) - 1)):
            continue
        if not _TOKEN.fullmatch(tok):
            raise ValueError(f"bad subject {subject!r}" + ("" if wildcards else " (wildcards not allowed here)"))
    return subject


def check_durable(name: str) -> str:
    """``name`` if it is a valid durable consumer name (letters, digits, '-', '_'), else ValueError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"bad durable consumer name {name!r}: use letters, digits, '-' and '_' (1-128)")
    return name


def matches(pattern: str, subject: str) -> bool:
    """True if the literal ``subject`` is selected by ``pattern``."""
    return collide(pattern, subject)


def collide(a: str, b: str) -> bool:
    """True if some literal subject is selected by both patterns."""
    ta, tb = a.split("."), b.split(".")
    for x, y in zip(ta, tb, strict=False):
        if x == ">" or y == ">":
            return True
        if x != y and "*" not in (x, y):
            return False
    return len(ta) == len(tb)
