"""The gateway's blob index: which CIDs it stored, of what kind and size, and whether they are pinned.

The index is accounting, not truth: the store decides what exists (a blob in the store but missing from the
index is still served, as kind ``other``). ``MemoryIndex`` is the in-process implementation; the SQL one lives
with the database layer and must pass tests/unit/gateway/test_index.py's contract.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Protocol

from zkpot.gateway.wire import BlobKind


@dataclasses.dataclass(frozen=True, slots=True)
class BlobRecord:
    cid: str
    kind: BlobKind
    size: int
    pinned: bool
    first_seen: datetime


@dataclasses.dataclass(frozen=True, slots=True)
class KindStats:
    count: int = 0
    bytes: int = 0


class BlobIndex(Protocol):
    """Async so a database can implement it; a backend that cannot be reached raises ``StorageUnavailable``.

    CIDs are passed in canonical form (``normalize_cid``).
    """

    async def record(self, cid: str, kind: BlobKind, size: int) -> bool:
        """Remember a stored blob; True if the CID was new. A known CID keeps its first kind and first-seen time."""
        ...

    async def mark_pinned(self, cid: str) -> None:
        """Flag a recorded blob as pinned; a CID never recorded is ignored."""
        ...

    async def get(self, cid: str) -> BlobRecord | None:
        ...

    async def stats(self) -> dict[BlobKind, KindStats]:
        """Count and total size of recorded blobs, with an entry (possibly zero) for every kind."""
        ...


class MemoryIndex:
    """``BlobIndex`` in a dict; lost when the process exits."""

    def __init__(self) -> None:
        self._records: dict[str, BlobRecord] = {}

    async def record(self, cid: str, kind: BlobKind, size: int) -> bool:
        if cid in self._records:
            return False
        self._records[cid] = BlobRecord(cid, BlobKind(kind), size, False, datetime.now(UTC))
        return True

    async def mark_pinned(self, cid: str) -> None:
        if cid in self._records:
            self._records[cid] = dataclasses.replace(self._records[cid], pinned=True)

    async def get(self, cid: str) -> BlobRecord | None:
        return self._records.get(cid)

    async def stats(self) -> dict[BlobKind, KindStats]:
        totals = {kind: KindStats() for kind in BlobKind}
        for r in self._records.values():
            totals[r.kind] = KindStats(totals[r.kind].count + 1, totals[r.kind].bytes + r.size)
        return totals
