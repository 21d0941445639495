"""The gateway app over KuboStore and a real js-ipfs node, driven through GatewayClient as the services use it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from zkpot.gateway import GatewayClient, Limits, MemoryIndex, create_app
from zkpot.gateway.retention import Retention
from zkpot.metrics import Metrics
from zkpot.storage import KuboStore
from zkpot.storage.cid import CHUNK_SIZE, compute_cid
from zkpot.storage.errors import BlobNotFound, CidMismatch

from tests.fixtures.ipfs import block_file
from tests.fixtures.ipfs_node import IpfsNode
from tests.unit.gateway.parties import MEMBER, PRODUCER, UPLOADERS

pytestmark = pytest.mark.integration

LIMIT = 8 * 1024 * 1024


@pytest.fixture
async def store(ipfs_node: IpfsNode) -> AsyncIterator[KuboStore]:
    async with KuboStore(ipfs_node.api_url) as kubo:
        yield kubo


@pytest.fixture
def index() -> MemoryIndex:
    return MemoryIndex()


@pytest.fixture
async def client(store: KuboStore, index: MemoryIndex) -> AsyncIterator[GatewayClient]:
    app = create_app(store, index, Metrics("ipfs-gateway"), uploaders=UPLOADERS, limits=Limits(max_blob_bytes=LIMIT))
    async with TestServer(app) as server, GatewayClient(str(server.make_url("")), signer=MEMBER,
                                                        backoff_s=0) as gateway:
        yield gateway


async def test_a_multi_chunk_blob_round_trips_with_the_kubo_cid(client: GatewayClient) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    cid = await client.put("model", data)
    assert cid == compute_cid(data)
    assert await client.get(cid, LIMIT) == data
    await client.pin(cid)


async def test_a_cid_the_node_does_not_hold_is_not_found_at_once(client: GatewayClient) -> None:
    with pytest.raises(BlobNotFound):
        await client.get(compute_cid(os.urandom(16)), LIMIT)


async def test_a_corrupted_block_on_the_node_is_refused(client: GatewayClient, ipfs_node: IpfsNode) -> None:
    data = os.urandom(64)
    cid = await client.put("proof", data)
    block_file(ipfs_node, cid).write_bytes(data[::-1])
    with pytest.raises(CidMismatch):
        await client.get(cid, LIMIT)


async def test_retention_unpins_old_rounds_on_the_node(client: GatewayClient, store: KuboStore,
                                                       index: MemoryIndex) -> None:
    old, recent = os.urandom(64), os.urandom(64)
    old_cid = await client.put("proof", old, round=1)
    recent_cid = await client.put("proof", recent, round=3)
    global_cid = await client.put("global", os.urandom(64), round=3, signer=PRODUCER)
    await Retention(store, index, Metrics("ipfs-gateway"), retain_rounds=1).run_once()
    assert not await store.has(old_cid)
    assert await store.has(recent_cid) and await store.has(global_cid)
    with pytest.raises(BlobNotFound):
        await client.get(old_cid, LIMIT)
