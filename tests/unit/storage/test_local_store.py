"""What LocalStore adds to the BlobStore contract: its file layout, atomic writes and disk errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from zkpot.storage.cid import compute_cid
from zkpot.storage.errors import CidMismatch, InvalidCid, StorageUnavailable
from zkpot.storage.local import LocalStore


async def test_one_file_per_blob_named_by_its_cid(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    cid = await store.add(b"model bytes")
    path = store.path_of(cid)
    assert path.read_bytes() == b"model bytes"
    assert path.name == cid and path.parent.parent == tmp_path
    assert list((tmp_path / ".tmp").iterdir()) == []  # the temporary file was renamed into place


async def test_blobs_survive_a_new_store_on_the_same_directory(tmp_path: Path) -> None:
    cid = await LocalStore(tmp_path).add(b"kept")
    assert await LocalStore(tmp_path).cat(cid, 10) == b"kept"


def test_path_of_refuses_anything_but_a_cid(tmp_path: Path) -> None:
    with pytest.raises(InvalidCid):
        LocalStore(tmp_path).path_of("../../etc/passwd")


async def test_a_truncated_file_is_detected_and_repaired_by_adding_again(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    cid = await store.add(b"0123456789")
    store.path_of(cid).write_bytes(b"01234")
    with pytest.raises(CidMismatch):
        await store.cat(cid, 100)
    assert await store.add(b"0123456789") == cid
    assert await store.cat(cid, 100) == b"0123456789"


async def test_a_failed_write_leaves_no_blob_and_no_temporary_file(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(StorageUnavailable, match="No space left"):
        await store.add(b"never stored")
    assert not await store.has(compute_cid(b"never stored"))
    assert list((tmp_path / ".tmp").iterdir()) == []


async def test_an_unusable_directory_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    root = tmp_path / "not-a-directory"
    root.write_bytes(b"")
    with pytest.raises(StorageUnavailable):
        await LocalStore(root).add(b"x")
