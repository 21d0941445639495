"""The ``BlobStore`` interface every store implements, and the hashing helpers they share.

Hashing a blob of tens of MiB takes a noticeable fraction of a second, so the async helpers run it in a worker
thread rather than on the event loop.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

from zkpot.storage.cid import check_blob, compute_cid


@runtime_checkable
class BlobStore(Protocol):
    """Content-addressed blob storage whose CIDs equal Kubo's (see ``zkpot.storage.cid``).

    CID arguments may be in any accepted text form (``parse_cid``); returned CIDs are canonical base32.
    A malformed CID raises ``InvalidCid``; an unreachable backend ``StorageUnavailable``.
    """

    async def add(self, data: bytes) -> str:
        """Store ``data`` durably (pinned) and return its CID; adding the same bytes again is a no-op."""
        ...

    async def cat(self, cid: str, max_size: int) -> bytes:
        """The blob's bytes, checked against ``cid`` (``CidMismatch``); ``BlobNotFound`` if not held,
        ``BlobTooLarge`` if it exceeds ``max_size`` (raised before the whole blob is read where possible)."""
        ...

    async def pin(self, cid: str) -> None:
        """Keep the blob from garbage collection; ``BlobNotFound`` if the store does not hold it."""
        ...

    async def has(self, cid: str) -> bool:
        """Whether the store holds the blob durably (for Kubo: pinned); never fetches it from elsewhere."""
        ...

    async def remove(self, cid: str) -> bool:
        """Stop holding the blob (for Kubo: unpin it; the node's garbage collection reclaims the space); True if
        it was held. Removing a blob that is not held is a no-op, so retention can run again after a crash."""
        ...


async def cid_of(data: bytes) -> str:
    """``compute_cid`` off the event loop."""
    return await asyncio.to_thread(compute_cid, data)


async def checked(cid: str, data: bytes) -> bytes:
    """``data`` if it hashes to ``cid``, else ``CidMismatch``; the hashing runs off the event loop."""
    await asyncio.to_thread(check_blob, cid, data)
    return data
