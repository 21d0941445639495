"""The ipfs-gateway's blob index in PostgreSQL (``gateway.blobs``): what was stored, its kind, size, uploader,
round and pin. Quotas and retention run on the database's clock (``now()``), not the gateway's.

Implements ``zkpot.gateway.index.BlobIndex`` (its contract test runs against this class too). Import it from
here, not from ``zkpot.db``, so that the database package does not pull in the gateway's HTTP stack.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from sqlalchemy import Select, delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from zkpot.db.errors import DatabaseUnavailable
from zkpot.db.sql import Repo
from zkpot.db.tables import blobs
from zkpot.gateway.index import BlobRecord, KindStats
from zkpot.gateway.wire import BlobKind
from zkpot.storage.errors import StorageUnavailable

_c = blobs.c
_RECORD = select(_c.cid, _c.kind, _c.size, _c.pinned, _c.first_seen, _c.uploader, _c.round)


class GatewayIndex(Repo):
    """The SQL ``BlobIndex``: an unreachable database raises ``StorageUnavailable``, as the protocol says."""

    async def record(self, cid: str, kind: BlobKind, size: int, *, uploader: str | None = None,
                     round: int = 0) -> bool:
        """Index a stored blob; False when the CID was already indexed (its first kind, size, uploader and round
        are kept)."""
        values = {"cid": cid, "kind": BlobKind(kind).value, "size": size, "uploader": uploader, "round": round}
        return await self._insert_new(blobs, values)

    async def mark_pinned(self, cid: str) -> None:
        """Flag the blob as pinned; a CID never recorded is ignored."""
        await self._changed(update(blobs).where(blobs.c.cid == cid).values(pinned=True))

    async def mark_read(self, cid: str) -> bool:
        """Stamp ``last_read`` with the database's clock; False when the CID is not indexed."""
        return await self._changed(update(blobs).where(blobs.c.cid == cid).values(last_read=func.now()))

    async def get(self, cid: str) -> BlobRecord | None:
        found = await self._records(_RECORD.where(blobs.c.cid == cid))
        return found[0] if found else None

    async def stats(self) -> dict[BlobKind, KindStats]:
        """Count and total size per kind, with an entry (possibly zero) for every kind."""
        query = select(blobs.c.kind, func.count(), func.coalesce(func.sum(blobs.c.size), 0)).group_by(blobs.c.kind)
        totals = {kind: KindStats() for kind in BlobKind}
        for kind, count, size in await self._tuples(query):
            totals[BlobKind(kind)] = KindStats(int(count), int(size))
        return totals

    async def usage(self, uploader: str, window_s: int) -> KindStats:
        since = func.now() - text("make_interval(secs => :window)").bindparams(window=window_s)
        query = select(func.count(), func.coalesce(func.sum(blobs.c.size), 0)).where(
            blobs.c.uploader == uploader, blobs.c.first_seen > since)
        count, size = (await self._tuples(query))[0]
        return KindStats(int(count), int(size))

    async def highest_round(self, kind: BlobKind) -> int:
        query = select(func.coalesce(func.max(blobs.c.round), 0)).where(blobs.c.kind == BlobKind(kind).value)
        return int((await self._scalars(query))[0])

    async def expired(self, kinds: Collection[BlobKind], through_round: int, limit: int) -> list[BlobRecord]:
        query = (_RECORD.where(blobs.c.kind.in_([BlobKind(k).value for k in kinds]),
                               blobs.c.round.between(1, through_round))
                 .order_by(blobs.c.round, blobs.c.cid).limit(limit))
        return await self._records(query)

    async def forget(self, cid: str) -> None:
        await self._changed(delete(blobs).where(blobs.c.cid == cid))

    async def _records(self, query: Select[Any]) -> list[BlobRecord]:
        return [BlobRecord(cid, BlobKind(kind), size, pinned, first_seen, uploader, round_)
                for cid, kind, size, pinned, first_seen, uploader, round_ in await self._tuples(query)]

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with super()._transaction() as conn:
                yield conn
        except DatabaseUnavailable as exc:
            raise StorageUnavailable(f"blob index: {exc}") from exc
