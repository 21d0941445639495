"""In-process ``BlobStore`` for unit tests and single-process simulations; passes the same contract tests."""

from __future__ import annotations

from zkpot.storage.base import checked, cid_of
from zkpot.storage.cid import normalize_cid
from zkpot.storage.errors import BlobNotFound, BlobTooLarge


class MemoryStore:
    """Blobs in a dict keyed by canonical CID. ``blobs`` is public so a test can corrupt one."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def add(self, data: bytes) -> str:
        cid = await cid_of(data)
        self.blobs.setdefault(cid, bytes(data))
        return cid

    async def cat(self, cid: str, max_size: int) -> bytes:
        data = self._get(cid)
        if len(data) > max_size:
            raise BlobTooLarge(len(data), max_size)
        return await checked(cid, data)

    async def pin(self, cid: str) -> None:
        self._get(cid)

    async def has(self, cid: str) -> bool:
        return normalize_cid(cid) in self.blobs

    async def remove(self, cid: str) -> bool:
        return self.blobs.pop(normalize_cid(cid), None) is not None

    def _get(self, cid: str) -> bytes:
        key = normalize_cid(cid)
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobNotFound(key) from None
