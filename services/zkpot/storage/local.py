"""Embedded content-addressed store on the local disk: the gateway's backend for the one-command devnet.

One file per blob, ``<root>/<2 chars of the CID>/<cid>``, named by the canonical base32 CID (only ``[a-z2-7]``
once ``normalize_cid`` accepted it, so never a path trick). Writes go to ``<root>/.tmp`` and are fsynced, then
renamed into place, so a reader never sees a partial blob. The CIDs equal Kubo's for the same bytes.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from zkpot.storage.base import checked, cid_of
from zkpot.storage.cid import normalize_cid
from zkpot.storage.errors import BlobNotFound, BlobTooLarge, StorageUnavailable

T = TypeVar("T")


class LocalStore:
    """A directory of blobs; safe to share between tasks of one process (writes are atomic renames)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def add(self, data: bytes) -> str:
        cid = await cid_of(data)
        await _io(self._write, cid, data)
        return cid

    async def cat(self, cid: str, max_size: int) -> bytes:
        key = normalize_cid(cid)
        return await checked(key, await _io(self._read, key, max_size))

    async def pin(self, cid: str) -> None:
        """Blobs here are never collected, so pinning only checks that the blob is held."""
        if not await self.has(cid):
            raise BlobNotFound(normalize_cid(cid))

    async def has(self, cid: str) -> bool:
        return await _io(self.path_of(cid).is_file)

    async def remove(self, cid: str) -> bool:
        return await _io(self._unlink, self.path_of(cid))

    def path_of(self, cid: str) -> Path:
        """The file that holds (or would hold) the blob; ``InvalidCid`` for a malformed CID."""
        key = normalize_cid(cid)
        return self.root / key[-3:-1] / key

    def _write(self, cid: str, data: bytes) -> None:
        path = self.path_of(cid)
        if path.is_file() and path.stat().st_size == len(data):
            return  # already held; a truncated or otherwise damaged copy is replaced below
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = self.root / ".tmp"
        tmp_dir.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @staticmethod
    def _unlink(path: Path) -> bool:
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def _read(self, key: str, max_size: int) -> bytes:
        try:
            with self.path_of(key).open("rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size > max_size:
                    raise BlobTooLarge(size, max_size)
                return f.read()
        except FileNotFoundError:
            raise BlobNotFound(key) from None


async def _io(fn: Callable[..., T], *args: object) -> T:
    """Run blocking file work in a thread; an OSError (disk full, permissions, I/O error) is the store unavailable."""
    try:
        return await asyncio.to_thread(fn, *args)
    except OSError as exc:
        raise StorageUnavailable(f"blob directory unusable: {exc}") from exc
