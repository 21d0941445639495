"""The ipfs-gateway's blob index in PostgreSQL (``gateway.blobs``): what was stored, its kind, size and pin."""

from __future__ import annotations

from sqlalchemy import func, select, update

from zkpot.db.rows import BlobRow
from zkpot.db.sql import Repo
from zkpot.db.tables import blobs


class GatewayIndex(Repo):
    """The SQL implementation of the gateway's ``BlobIndex`` protocol."""

    async def record(self, cid: str, kind: str, size: int) -> bool:
        """Index a stored blob; False when the CID was already indexed (its first kind and size are kept)."""
        return await self._insert_new(blobs, {"cid": cid, "kind": kind, "size": size})

    async def mark_pinned(self, cid: str) -> bool:
        """Record that the blob is pinned; False when the CID is not indexed."""
        return await self._changed(update(blobs).where(blobs.c.cid == cid).values(pinned=True))

    async def mark_read(self, cid: str) -> bool:
        """Stamp ``last_read`` with the database's clock; False when the CID is not indexed."""
        return await self._changed(update(blobs).where(blobs.c.cid == cid).values(last_read=func.now()))

    async def get(self, cid: str) -> BlobRow | None:
        return await self._first(select(blobs).where(blobs.c.cid == cid), BlobRow)

    async def stats(self) -> dict[str, dict[str, int]]:
        """Per kind: ``{"count": blobs, "bytes": total size}``; kinds with no blob are absent."""
        query = select(blobs.c.kind, func.count(), func.coalesce(func.sum(blobs.c.size), 0)).group_by(blobs.c.kind)
        rows = await self._tuples(query)
        return {kind: {"count": int(count), "bytes": int(total)} for kind, count, total in rows}
