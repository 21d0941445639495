"""The ipfs-gateway's blob index in PostgreSQL (``gateway.blobs``): what was stored, its kind, size and pin.

Implements ``zkpot.gateway.index.BlobIndex`` (its contract test runs against this class too). Import it from
here, not from ``zkpot.db``, so that the database package does not pull in the gateway's HTTP stack.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from zkpot.db.errors import DatabaseUnavailable
from zkpot.db.sql import Repo
from zkpot.db.tables import blobs
from zkpot.gateway.index import BlobRecord, KindStats
from zkpot.gateway.wire import BlobKind
from zkpot.storage.errors import StorageUnavailable


class GatewayIndex(Repo):
    """The SQL ``BlobIndex``: an unreachable database raises ``StorageUnavailable``, as the protocol says."""

    async def record(self, cid: str, kind: BlobKind, size: int) -> bool:
        """Index a stored blob; False when the CID was already indexed (its first kind and size are kept)."""
        return await self._insert_new(blobs, {"cid": cid, "kind": BlobKind(kind).value, "size": size})

    async def mark_pinned(self, cid: str) -> None:
        """Flag the blob as pinned; a CID never recorded is ignored."""
        await self._changed(update(blobs).where(blobs.c.cid == cid).values(pinned=True))

    async def mark_read(self, cid: str) -> bool:
        """Stamp ``last_read`` with the database's clock; False when the CID is not indexed."""
        return await self._changed(update(blobs).where(blobs.c.cid == cid).values(last_read=func.now()))

    async def get(self, cid: str) -> BlobRecord | None:
        query = select(blobs.c.cid, blobs.c.kind, blobs.c.size, blobs.c.pinned, blobs.c.first_seen)
        found = await self._tuples(query.where(blobs.c.cid == cid))
        if not found:
            return None
        cid, kind, size, pinned, first_seen = found[0]
        return BlobRecord(cid, BlobKind(kind), size, pinned, first_seen)

    async def stats(self) -> dict[BlobKind, KindStats]:
        """Count and total size per kind, with an entry (possibly zero) for every kind."""
        query = select(blobs.c.kind, func.count(), func.coalesce(func.sum(blobs.c.size), 0)).group_by(blobs.c.kind)
        totals = {kind: KindStats() for kind in BlobKind}
        for kind, count, size in await self._tuples(query):
            totals[BlobKind(kind)] = KindStats(int(count), int(size))
        return totals

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with super()._transaction() as conn:
                yield conn
        except DatabaseUnavailable as exc:
            raise StorageUnavailable(f"blob index: {exc}") from exc
