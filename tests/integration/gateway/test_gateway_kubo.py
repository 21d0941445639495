"""The gateway app over KuboStore and a real js-ipfs node, driven through GatewayClient as the services use it."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from zkpot.gateway import GatewayClient, MemoryIndex, create_app
from zkpot.metrics import Metrics
from zkpot.storage import KuboStore
from zkpot.storage.cid import CHUNK_SIZE, compute_cid
from zkpot.storage.errors import BlobNotFound, CidMismatch

from tests.fixtures.ipfs import block_file
from tests.fixtures.ipfs_node import IpfsNode

pytestmark = pytest.mark.integration

LIMIT = 8 * 1024 * 1024


@pytest.fixture
async def client(ipfs_node: IpfsNode) -> AsyncIterator[GatewayClient]:
    async with KuboStore(ipfs_node.api_url) as store:
        app = create_app(store, MemoryIndex(), Metrics("ipfs-gateway"), max_blob_bytes=LIMIT)
        async with TestServer(app) as server, GatewayClient(str(server.make_url("")), backoff_s=0) as gateway:
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
