"""One round of submissions: what a simulated member publishes, and a gateway failure reported, not fatal.

The bus is the in-package MemoryBus (it passes the bus contract); the gateway is the real app on a loopback port
over an in-memory blob store.
"""

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from zkpot.bus import MemoryBus
from zkpot.bus.subjects import TX_SUBMITTED
from zkpot.domain import Transaction, open_sealed, sha256_hex
from zkpot.domain.events import RoundOpen
from zkpot.gateway import GatewayClient, Limits, MemoryIndex, create_app, uploaders_from_genesis
from zkpot.metrics import Metrics
from zkpot.ml.model import Arch, init_weights, weights_to_bytes
from zkpot.storage import MemoryStore
from zkpot.storage.errors import StorageUnavailable

from loadtest.driver import DriveOptions, Driver
from loadtest.pool import PoolEntry
from loadtest.target import Target
from tests.unit.domain.builders import AGGREGATOR, CLIENTS, make_genesis

GENESIS = make_genesis()
EVENT = RoundOpen(round=1, parent=GENESIS.genesis_hash, global_model_cid="bafy-initial", deadline_ms=2**62)


class DownStore(MemoryStore):
    async def add(self, data: bytes) -> str:
        raise StorageUnavailable("disk full")


def pool(n: int) -> list[PoolEntry]:
    return [PoolEntry(i, f"{i:02x}" * 32, 10 + i, 16, 120 + i, weights_to_bytes(init_weights(Arch(), i)),
                      f'{{"proof": [{i}]}}'.encode(), 20.0) for i in range(n)]


async def gateway(store: MemoryStore) -> AsyncIterator[GatewayClient]:
    app = create_app(store, MemoryIndex(), Metrics("ipfs-gateway"), uploaders=uploaders_from_genesis(GENESIS),
                     limits=Limits(max_blob_bytes=1 << 20))
    server = TestServer(app)
    await server.start_server()
    client = GatewayClient(str(server.make_url("")), attempts=2, backoff_s=0)
    try:
        yield client
    finally:
        await client.close()
        await server.close()


def driver(clients: int) -> Driver:
    target = Target("test", "nats://unused", "http://unused", GENESIS, dict(enumerate(CLIENTS)))
    return Driver(target, pool(clients), DriveOptions(clients=clients, rounds=1, concurrency=2))


@pytest.fixture
async def store() -> MemoryStore:
    return MemoryStore()


async def test_each_member_publishes_one_signed_tx_naming_its_uploads(store: MemoryStore) -> None:
    bus, d = MemoryBus(), driver(3)
    await bus.ensure_streams()
    async for gw in gateway(store):
        await d._submit_round(bus, gw, EVENT, d.pool)
    published = bus.published(TX_SUBMITTED)
    txs = [Transaction.from_dict(p.payload) for p in published]
    assert [p.msg_id for p in published] == [tx.tx_id for tx in txs]
    assert sorted(s.tx_id for s in d.submissions) == sorted(tx.tx_id for tx in txs) and not d.errors
    by_client = {tx.client: tx for tx in txs}
    for (index, key), entry in zip(d.players, d.pool, strict=True):
        tx = by_client[key.public_hex]
        assert tx.signature_valid() and (tx.round, tx.parent) == (1, GENESIS.genesis_hash)
        assert (tx.commitment, tx.correct, tx.samples, tx.n_train) == (entry.commitment, entry.correct, 16,
                                                                        entry.n_train)
        assert await store.cat(tx.proof_cid, 1 << 20) == entry.proof and tx.proof_sha256 == sha256_hex(entry.proof)
        sealed = await store.cat(tx.model_cid, 1 << 20)
        assert open_sealed(sealed, AGGREGATOR) == entry.weights  # the aggregator can open what the tx names
        assert [s.client for s in d.submissions if s.tx_id == tx.tx_id] == [index]


async def test_a_gateway_that_cannot_store_is_reported_per_member() -> None:
    bus, d = MemoryBus(), driver(2)
    await bus.ensure_streams()
    async for gw in gateway(DownStore()):
        await d._submit_round(bus, gw, EVENT, d.pool)
    assert bus.published(TX_SUBMITTED) == [] and d.submissions == []
    assert sorted(e.client for e in d.errors) == [0, 1]
    assert all(e.round == 1 and "StorageUnavailable" in e.error for e in d.errors)
