"""GatewayIndex against a real PostgreSQL: the gateway's BlobIndex contract, then what only SQL adds."""

import pytest
from sqlalchemy import text
from zkpot.db import create_engine
from zkpot.db.errors import DatabaseError, DataRejected
from zkpot.db.gateway import GatewayIndex
from zkpot.gateway.index import BlobIndex, KindStats
from zkpot.gateway.wire import BlobKind
from zkpot.storage.errors import StorageUnavailable

from tests.unit.gateway import test_index as contract

pytestmark = pytest.mark.integration
CID_A = contract.CID_A


@pytest.fixture
def index(db_engine) -> BlobIndex:
    return GatewayIndex(db_engine)


class TestSqlBlobIndex(contract.TestBlobIndexContract):
    """Every test of the gateway's contract, run on the SQL index."""


async def test_the_index_survives_a_new_engine(db_engine, migrated_database_url):
    await GatewayIndex(db_engine).record(CID_A, BlobKind.GLOBAL, 7)
    other = create_engine(migrated_database_url)
    record = await GatewayIndex(other).get(CID_A)
    await other.dispose()
    assert record is not None and (record.kind, record.size) == (BlobKind.GLOBAL, 7)


async def test_mark_read_stamps_the_last_read(db_engine):
    index = GatewayIndex(db_engine)
    assert await index.mark_read(CID_A) is False
    await index.record(CID_A, BlobKind.PROOF, 1)
    assert await index.mark_read(CID_A) is True


async def test_a_value_postgres_cannot_store_is_rejected_and_the_index_goes_on(db_engine):
    index = GatewayIndex(db_engine)
    with pytest.raises(DataRejected):
        await index.record("bafk\x00nul", BlobKind.PROOF, 1)
    with pytest.raises(DataRejected):
        await index.record(CID_A, BlobKind.PROOF, 2**70)
    assert await index.record(CID_A, BlobKind.PROOF, 1) is True


async def test_an_unreachable_database_is_storage_unavailable(unused_tcp_port):
    engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{unused_tcp_port}/nothing")
    with pytest.raises(StorageUnavailable):
        await GatewayIndex(engine).get(CID_A)
    await engine.dispose()


async def test_usage_counts_only_the_window_on_the_databases_clock(db_engine):
    index = GatewayIndex(db_engine)
    await index.record(CID_A, BlobKind.MODEL, 10, uploader=contract.KEY_1)
    await index.record(contract.CID_B, BlobKind.MODEL, 5, uploader=contract.KEY_1)
    async with db_engine.begin() as conn:
        await conn.execute(text("UPDATE gateway.blobs SET first_seen = now() - interval '2 hours' WHERE cid = :cid"),
                           {"cid": CID_A})
    assert await index.usage(contract.KEY_1, 3600) == KindStats(1, 5)
    assert await index.usage(contract.KEY_1, 3 * 3600) == KindStats(2, 15)


async def test_a_negative_round_is_rejected(db_engine):
    with pytest.raises(DatabaseError):
        await GatewayIndex(db_engine).record(CID_A, BlobKind.PROOF, 1, round=-1)
