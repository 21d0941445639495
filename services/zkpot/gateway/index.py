"""The gateway's blob index: which CIDs it stored, of what kind and size, who uploaded them for which round, and
whether they are pinned; what per-uploader quotas and the retention of old rounds read.

The index is accounting, not truth: the store decides what exists (a blob in the store but missing from the
index is still served, as kind ``other``). ``MemoryIndex`` is the in-process implementation; the SQL one lives
with the database layer and must pass tests/unit/gateway/test_index.py's contract.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Protocol

from zkpot.gateway.wire import BlobKind


@dataclasses.dataclass(frozen=True, slots=True)
class BlobRecord:
    cid: str
    kind: BlobKind
    size: int
    pinned: bool
    first_seen: datetime
    uploader: str | None = None  # the signer's public key (hex)
    round: int = 0  # the signed round; 0: not tied to a round


@dataclasses.dataclass(frozen=True, slots=True)
class KindStats:
    count: int = 0
    bytes: int = 0


class BlobIndex(Protocol):
    """Async so a database can implement it; a backend that cannot be reached raises ``StorageUnavailable``.

    CIDs are passed in canonical form (``normalize_cid``).
    """

    async def record(self, cid: str, kind: BlobKind, size: int, *, uploader: str | None = None,
                     round: int = 0) -> bool:
        """Remember a stored blob; True if the CID was new. A known CID keeps its first kind, first-seen time,
        uploader and round."""
        ...

    async def mark_pinned(self, cid: str) -> None:
        """Flag a recorded blob as pinned; a CID never recorded is ignored."""
        ...

    async def get(self, cid: str) -> BlobRecord | None:
        ...

    async def stats(self) -> dict[BlobKind, KindStats]:
        """Count and total size of recorded blobs, with an entry (possibly zero) for every kind."""
        ...

    async def usage(self, uploader: str, window_s: int) -> KindStats:
        """Count and total size of the blobs ``uploader`` recorded first in the last ``window_s`` seconds."""
        ...

    async def highest_round(self, kind: BlobKind) -> int:
        """The highest round of a recorded blob of ``kind`` (0 when there is none)."""
        ...

    async def expired(self, kinds: Collection[BlobKind], through_round: int, limit: int) -> list[BlobRecord]:
        """Up to ``limit`` blobs of ``kinds`` whose round is 1 .. ``through_round``, oldest rounds first."""
        ...

    async def forget(self, cid: str) -> None:
        """Drop a blob's record (the store no longer holds it); a CID never recorded is ignored."""
        ...


class MemoryIndex:
    """``BlobIndex`` in a dict; lost when the process exits. ``clock`` lets a test move time on."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._records: dict[str, BlobRecord] = {}
        self.clock = clock

    async def record(self, cid: str, kind: BlobKind, size: int, *, uploader: str | None = None,
                     round: int = 0) -> bool:
        if cid in self._records:
            return False
        self._records[cid] = BlobRecord(cid, BlobKind(kind), size, False, self.clock(), uploader, round)
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

    async def usage(self, uploader: str, window_s: int) -> KindStats:
        since = self.clock() - timedelta(seconds=window_s)
        mine = [r for r in self._records.values() if r.uploader == uploader and r.first_seen > since]
        return KindStats(len(mine), sum(r.size for r in mine))

    async def highest_round(self, kind: BlobKind) -> int:
        return max((r.round for r in self._records.values() if r.kind == kind), default=0)

    async def expired(self, kinds: Collection[BlobKind], through_round: int, limit: int) -> list[BlobRecord]:
        old = [r for r in self._records.values() if r.kind in kinds and 1 <= r.round <= through_round]
        return sorted(old, key=lambda r: (r.round, r.cid))[:limit]

    async def forget(self, cid: str) -> None:
        self._records.pop(cid, None)
