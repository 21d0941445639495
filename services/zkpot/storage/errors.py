"""Errors raised by blob stores.

Every error carries ``retryable``: the one fact a caller needs to pick a disposition (nak with delay when
``True``, fail/term the work item when ``False``). Adapters map foreign exceptions (aiohttp, OSError) into this
hierarchy once, at their boundary; nothing above a store sees a transport exception.
"""

from __future__ import annotations

from typing import ClassVar


class StorageError(Exception):
    """Root of all blob-store errors."""

    retryable: ClassVar[bool] = False


class InvalidCid(StorageError, ValueError):
    """The string is not a CID this system produces (CIDv1, raw or dag-pb codec, sha2-256)."""


class BlobNotFound(StorageError):
    """The store does not hold the blob. Not retryable: the producer must re-upload it."""

    def __init__(self, cid: str) -> None:
        super().__init__(f"blob {cid} not found in the store")
        self.cid = cid


class CidMismatch(StorageError):
    """Bytes do not hash to the CID they were stored or fetched under (corruption or a lying node)."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(f"content hashes to {actual}, expected {expected}")
        self.expected = expected
        self.actual = actual


class BlobTooLarge(StorageError):
    """A blob exceeds the size limit of the call; raise the limit or reject the producer's upload."""

    def __init__(self, size: int, max_size: int) -> None:
        super().__init__(f"blob of {size} bytes exceeds the limit of {max_size} bytes")
        self.size = size
        self.max_size = max_size


class StorageUnavailable(StorageError):
    """The backing store could not be reached or failed transiently; retry later."""

    retryable: ClassVar[bool] = True
