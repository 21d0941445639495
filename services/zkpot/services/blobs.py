"""How the services store and fetch blobs: the two calls they make on the gateway, as a ``typing.Protocol``.

``GatewayClient`` (zkpot.gateway.client) is the real implementation; ``StoreBlobs`` serves the same calls from any
``BlobStore`` held in the process (a ``MemoryStore`` in the services' unit tests).
"""

from __future__ import annotations

from typing import Protocol

from zkpot.gateway.wire import BlobKind
from zkpot.storage.base import BlobStore


class Blobs(Protocol):
    """Content-addressed blobs; failures are ``zkpot.storage.errors`` (``BlobNotFound``, ``StorageUnavailable``
    for a passing fault, ``CidMismatch`` for bytes that do not hash to their CID, ``BlobTooLarge``)."""

    async def put(self, kind: BlobKind | str, data: bytes, *, round: int = 0) -> str:
        """Store ``data`` as a blob of ``kind`` made for ``round`` (0: none; the gateway's retention keeps it); its
        CID."""
        ...

    async def get(self, cid: str, max_size: int) -> bytes:
        """The blob's bytes, checked against ``cid``; ``BlobTooLarge`` past ``max_size``."""
        ...


class StoreBlobs:
    """``Blobs`` over a ``BlobStore`` in this process: no gateway, so the kind is not recorded."""

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    async def put(self, kind: BlobKind | str, data: bytes, *, round: int = 0) -> str:
        BlobKind(kind)  # an unknown kind is refused, as the gateway refuses it
        return await self.store.add(data)

    async def get(self, cid: str, max_size: int) -> bytes:
        return await self.store.cat(cid, max_size)
