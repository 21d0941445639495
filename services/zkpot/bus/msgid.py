"""Message ids nobody else can take: the ``Nats-Msg-Id`` on the wire is bound to the message's content.

A service names a message by its logical id (``round-<r>``, a tx id); the bus publishes it as
``<logical id>.<sha256 of subject NUL payload>``. The server drops a second publish with the same id within the
duplicate window, so a peer who publishes first under an id can only have published the identical message on the
same subject: squatting an id no longer suppresses the real message, and an honest republish (same bytes after a
restart) is still dropped as a duplicate.
"""

from __future__ import annotations

import hashlib
import re

_BOUND = re.compile(r"(?P<logical>.+)\.(?P<digest>[0-9a-f]{64})")


def content_digest(subject: str, data: bytes) -> str:
    """sha256 (hex) of the subject, a NUL and the payload bytes: what a bound id commits to."""
    return hashlib.sha256(subject.encode() + b"\0" + data).hexdigest()


def bound_id(logical: str, subject: str, data: bytes) -> str:
    """The wire ``Nats-Msg-Id`` of a message the services name ``logical``."""
    return f"{logical}.{content_digest(subject, data)}"


def logical_id(wire: str | None) -> str | None:
    """The logical id a wire id was bound from; an id not made by ``bound_id`` (a foreign publisher's) as it is."""
    if wire is None:
        return None
    found = _BOUND.fullmatch(wire)
    return found["logical"] if found else wire


def binds(wire: str, subject: str, data: bytes) -> bool:
    """True if ``wire`` is a bound id of exactly this subject and payload."""
    found = _BOUND.fullmatch(wire)
    return found is not None and found["digest"] == content_digest(subject, data)
