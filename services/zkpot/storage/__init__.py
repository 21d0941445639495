"""Content-addressed blob storage: CIDs equal to Kubo's, a ``BlobStore`` interface, and its three stores.

``KuboStore`` talks to a real node's RPC API; ``LocalStore`` is the embedded store of the local devnet;
``MemoryStore`` is the in-process fake. All three pass one contract test.
"""

from zkpot.storage.base import BlobStore
from zkpot.storage.cid import check_blob, compute_cid, normalize_cid, parse_cid
from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)
from zkpot.storage.kubo import KuboStore
from zkpot.storage.local import LocalStore
from zkpot.storage.memory import MemoryStore

__all__ = [
    "BlobNotFound",
    "BlobStore",
    "BlobTooLarge",
    "CidMismatch",
    "InvalidCid",
    "KuboStore",
    "LocalStore",
    "MemoryStore",
    "StorageError",
    "StorageUnavailable",
    "check_blob",
    "compute_cid",
    "normalize_cid",
    "parse_cid",
]
