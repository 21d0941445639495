"""The embedded store and a real IPFS node give the same bytes the same CID, so the devnet and Kubernetes agree.

The node's own answer is read from its RPC API here (not through KuboStore, which would refuse a disagreeing
CID itself); the sizes cover the empty blob, one chunk, two chunks, many chunks and a two-level tree.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import aiohttp
import pytest
from zkpot.storage import KuboStore, LocalStore
from zkpot.storage.cid import CHUNK_SIZE, MAX_LINKS, compute_cid, normalize_cid
from zkpot.storage.kubo import ADD_PARAMS

from tests.unit.storage.test_cid import VECTORS, pattern

pytestmark = pytest.mark.integration

SIZES = [0, 1, 1000, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * 1024 * 1024, (MAX_LINKS + 1) * CHUNK_SIZE + 1000]


async def node_add(api_url: str, data: bytes) -> str:
    """``ipfs add`` with the system's import parameters, straight to the node; its CID in canonical form."""
    form = aiohttp.FormData()
    form.add_field("file", data, filename="blob")
    async with aiohttp.ClientSession() as session, session.post(f"{api_url}/api/v0/add", params=ADD_PARAMS,
                                                                 data=form) as resp:
        assert resp.status == 200, await resp.text()
        return normalize_cid(json.loads((await resp.text()).strip().splitlines()[-1])["Hash"])


@pytest.mark.parametrize("size", SIZES)
async def test_node_and_embedded_store_agree(size: int, ipfs_api_url: str, tmp_path: Path) -> None:
    data = random.Random(size).randbytes(size)
    node_cid = await node_add(ipfs_api_url, data)
    assert node_cid == compute_cid(data)
    assert node_cid == await LocalStore(tmp_path).add(data)


@pytest.mark.parametrize(("size", "cid"), VECTORS, ids=[str(size) for size, _ in VECTORS])
async def test_the_unit_vectors_come_from_the_node(size: int, cid: str, ipfs_api_url: str) -> None:
    assert await node_add(ipfs_api_url, pattern(size)) == cid


async def test_a_two_level_tree_reads_back_whole(ipfs_api_url: str) -> None:
    data = random.Random(7).randbytes((MAX_LINKS + 1) * CHUNK_SIZE + 1000)
    async with KuboStore(ipfs_api_url) as kubo:
        cid = await kubo.add(data)
        assert await kubo.cat(cid, len(data)) == data
