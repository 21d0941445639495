"""Errors raised by blob stores and by the gateway client.

They share the project's one root (``ZkpotError``) and carry a ``disposition``: RETRY only for
``StorageUnavailable`` (nak with delay), DROP for bad or missing content (the input behind it is rejected),
FAIL for a misconfiguration. Adapters map foreign exceptions (aiohttp, OSError) into this hierarchy once, at
their boundary; nothing above a store sees a transport exception.
"""

from __future__ import annotations

from zkpot.domain.errors import Disposition, ZkpotError


class StorageError(ZkpotError):
    """Root of all blob-store errors; raised as such for an answer no subclass explains (a bug or misconfiguration)."""


class InvalidCid(StorageError, ValueError):
    """The string is not a CID this system produces (CIDv1, raw or dag-pb codec, sha2-256)."""

    disposition = Disposition.DROP


class BlobNotFound(StorageError):
    """The store does not hold the blob. Not retryable: the producer must re-upload it."""

    disposition = Disposition.DROP

    def __init__(self, cid: str) -> None:
        super().__init__(f"blob {cid} not found in the store")
        self.cid = cid


class CidMismatch(StorageError):
    """Bytes do not hash to the CID they were stored or fetched under (corruption or a lying node)."""

    disposition = Disposition.DROP

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"content hashes to {actual}, expected {expected}")
        self.expected = expected
        self.actual = actual


class BlobTooLarge(StorageError):
    """A blob exceeds the size limit of the call; raise the limit or reject the producer's upload."""

    disposition = Disposition.DROP

    def __init__(self, size: int, max_size: int) -> None:
        super().__init__(f"blob of {size} bytes exceeds the limit of {max_size} bytes")
        self.size = size
        self.max_size = max_size


class StorageUnavailable(StorageError):
    """The backing store could not be reached or failed transiently; retry later."""

    disposition = Disposition.RETRY
