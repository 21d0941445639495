"""The BlobStore contract: one test class, run against MemoryStore, LocalStore and KuboStore on a real js-ipfs node.

Every test stores fresh random bytes, so tests sharing the session's node do not see each other's blobs.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from zkpot.storage import BlobStore, LocalStore, MemoryStore
from zkpot.storage.cid import CHUNK_SIZE, compute_cid, parse_cid
from zkpot.storage.errors import BlobNotFound, BlobTooLarge, CidMismatch, InvalidCid
from zkpot.storage.kubo import KuboStore

from tests.fixtures.ipfs import block_file

BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@dataclass
class Subject:
    store: BlobStore
    corrupt: Callable[[str, bytes], object]  # replaces the stored bytes of a single-block blob


@pytest.fixture(params=["memory", "local", pytest.param("kubo", marks=pytest.mark.integration)])
async def subject(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Subject]:
    if request.param == "memory":
        memory = MemoryStore()
        yield Subject(memory, memory.blobs.__setitem__)
    elif request.param == "local":
        local = LocalStore(tmp_path)
        yield Subject(local, lambda cid, data: local.path_of(cid).write_bytes(data))
    else:
        node = request.getfixturevalue("ipfs_node")
        async with KuboStore(node.api_url) as kubo:
            yield Subject(kubo, lambda cid, data: block_file(node, cid).write_bytes(data))


def base58_form(cid: str) -> str:
    number = int.from_bytes(parse_cid(cid), "big")  # a CIDv1 starts with 0x01: no leading zero bytes
    digits = ""
    while number:
        number, digit = divmod(number, 58)
        digits = BASE58[digit] + digits
    return "z" + digits


class TestBlobStoreContract:
    @pytest.mark.parametrize("size", [0, 1000, 3 * CHUNK_SIZE + 5])
    async def test_add_returns_the_kubo_cid_and_cat_returns_the_bytes(self, subject: Subject, size: int) -> None:
        data = os.urandom(size)
        cid = await subject.store.add(data)
        assert cid == compute_cid(data)
        assert await subject.store.cat(cid, size) == data
        assert await subject.store.has(cid)

    async def test_adding_the_same_bytes_again_is_a_no_op(self, subject: Subject) -> None:
        data = os.urandom(100)
        assert await subject.store.add(data) == await subject.store.add(data)
        assert await subject.store.cat(compute_cid(data), 100) == data

    async def test_pin_confirms_a_held_blob_and_is_idempotent(self, subject: Subject) -> None:
        cid = await subject.store.add(os.urandom(10))
        await subject.store.pin(cid)
        await subject.store.pin(cid)
        assert await subject.store.has(cid)

    async def test_remove_drops_a_held_blob_and_is_a_no_op_after(self, subject: Subject) -> None:
        kept, gone = os.urandom(10), os.urandom(3 * CHUNK_SIZE + 1)
        await subject.store.add(kept)
        cid = await subject.store.add(gone)
        assert await subject.store.remove(cid) is True
        assert not await subject.store.has(cid)
        with pytest.raises(BlobNotFound):
            await subject.store.cat(cid, len(gone))
        assert await subject.store.remove(cid) is False
        assert await subject.store.cat(compute_cid(kept), 10) == kept

    async def test_a_removed_blob_can_be_added_again(self, subject: Subject) -> None:
        data = os.urandom(40)
        cid = await subject.store.add(data)
        await subject.store.remove(cid)
        assert await subject.store.add(data) == cid
        assert await subject.store.cat(cid, 40) == data

    async def test_a_blob_never_added_is_not_found(self, subject: Subject) -> None:
        cid = compute_cid(os.urandom(32))
        assert not await subject.store.has(cid)
        with pytest.raises(BlobNotFound):
            await subject.store.cat(cid, 100)
        with pytest.raises(BlobNotFound):
            await subject.store.pin(cid)

    async def test_cat_refuses_a_blob_over_the_limit(self, subject: Subject) -> None:
        cid = await subject.store.add(os.urandom(101))
        with pytest.raises(BlobTooLarge):
            await subject.store.cat(cid, 100)

    async def test_any_text_form_of_the_cid_names_the_blob(self, subject: Subject) -> None:
        data = os.urandom(20)
        cid = await subject.store.add(data)
        assert await subject.store.cat(cid.upper(), 20) == data
        assert await subject.store.cat(base58_form(cid), 20) == data
        assert await subject.store.has(base58_form(cid))

    @pytest.mark.parametrize("bad", ["", "../../etc/passwd", "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR"])
    async def test_a_malformed_cid_is_rejected(self, subject: Subject, bad: str) -> None:
        with pytest.raises(InvalidCid):
            await subject.store.cat(bad, 100)
        with pytest.raises(InvalidCid):
            await subject.store.has(bad)
        with pytest.raises(InvalidCid):
            await subject.store.pin(bad)
        with pytest.raises(InvalidCid):
            await subject.store.remove(bad)

    async def test_bytes_that_do_not_hash_to_the_cid_are_refused(self, subject: Subject) -> None:
        data = os.urandom(50)
        cid = await subject.store.add(data)
        subject.corrupt(cid, data[:-1] + bytes([data[-1] ^ 1]))
        with pytest.raises(CidMismatch) as caught:
            await subject.store.cat(cid, 100)
        assert caught.value.expected == cid
