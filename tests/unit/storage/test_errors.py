"""Storage errors share the project's root and say what to do: only an unreachable store is worth a retry."""

from __future__ import annotations

import pytest
from zkpot.domain.errors import Disposition, ZkpotError
from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)


@pytest.mark.parametrize(
    ("error", "disposition"),
    [
        (StorageUnavailable("down"), Disposition.RETRY),
        (BlobNotFound("b"), Disposition.DROP),
        (CidMismatch("a", "b"), Disposition.DROP),
        (BlobTooLarge(2, 1), Disposition.DROP),
        (InvalidCid("x"), Disposition.DROP),
        (StorageError("odd answer"), Disposition.FAIL),
    ],
)
def test_disposition(error: StorageError, disposition: Disposition) -> None:
    assert isinstance(error, ZkpotError)
    assert error.disposition is disposition


def test_invalid_cid_is_also_a_value_error() -> None:
    assert isinstance(InvalidCid("x"), ValueError)
