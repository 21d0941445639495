"""The gateway's HTTP contract, shared by the app and its client: paths, blob kinds, error codes.

Errors travel as ``{"error": <code>, "detail": <text>}`` (413 answers add ``"size"`` and ``"max_size"``); each
storage error has one status and one code, so the client can raise the same error the gateway's store raised.
"""

from __future__ import annotations

import enum

from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

BLOBS = "/v1/blobs"
STATS = "/v1/stats"


class BlobKind(enum.StrEnum):
    """What a blob is, for accounting: a proof, a sealed local model, a global model, anything else."""

    PROOF = "proof"
    MODEL = "model"
    GLOBAL = "global"
    OTHER = "other"


class Code(enum.StrEnum):
    INVALID_CID = "invalid_cid"
    UNKNOWN_KIND = "unknown_kind"
    TOO_LARGE = "blob_too_large"
    NOT_FOUND = "not_found"
    CID_MISMATCH = "cid_mismatch"
    UNAVAILABLE = "store_unavailable"
    STORE_ERROR = "store_error"
    INTERNAL = "internal"


# Most specific first: the first entry the error is an instance of decides.
STORAGE_ERRORS: tuple[tuple[type[StorageError], int, Code], ...] = (
    (InvalidCid, 400, Code.INVALID_CID),
    (BlobTooLarge, 413, Code.TOO_LARGE),
    (BlobNotFound, 404, Code.NOT_FOUND),
    (CidMismatch, 502, Code.CID_MISMATCH),
    (StorageUnavailable, 503, Code.UNAVAILABLE),
    (StorageError, 500, Code.STORE_ERROR),
)


def status_of(error: StorageError) -> tuple[int, Code]:
    """The HTTP status and error code the gateway answers for ``error``."""
    for cls, status, code in STORAGE_ERRORS:
        if isinstance(error, cls):
            return status, code
    raise AssertionError("StorageError is the last entry")  # pragma: no cover
