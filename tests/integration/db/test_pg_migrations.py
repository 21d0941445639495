"""Migrations against a real PostgreSQL: from empty, repeated, concurrent, isolated per schema, reversible."""

import asyncio
import sys

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection
from zkpot.db import create_engine, current_revision, downgrade, head_revision, migrate, ping
from zkpot.db.engine import lock_key
from zkpot.db.errors import DatabaseUnavailable
from zkpot.db.tables import METADATA, SCHEMAS
from zkpot.infra.postgres import libpq_url

pytestmark = pytest.mark.integration


def _tables(url: str) -> set[str]:
    """Every ``schema.table`` outside the system schemas."""
    query = ("SELECT table_schema || '.' || table_name FROM information_schema.tables "
             "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
    with psycopg.connect(libpq_url(url)) as conn:
        return {name for (name,) in conn.execute(query).fetchall()}


def _expected(schema: str) -> set[str]:
    return {t.fullname for t in METADATA[schema].sorted_tables} | {f"{schema}.alembic_version"}


def _version_rows(url: str, schema: str) -> list[str]:
    with psycopg.connect(libpq_url(url)) as conn:
        return [v for (v,) in conn.execute(f"SELECT version_num FROM {schema}.alembic_version").fetchall()]


async def test_all_schemas_migrate_from_empty_to_head(database_url):
    await asyncio.gather(*(migrate(database_url, schema) for schema in SCHEMAS))
    assert _tables(database_url) == set().union(*(_expected(s) for s in SCHEMAS))
    for schema in SCHEMAS:
        assert await current_revision(database_url, schema) == head_revision(schema)


async def test_migrated_schemas_match_the_table_definitions(database_url):
    for schema in SCHEMAS:
        await migrate(database_url, schema)
    engine = create_engine(database_url)

    def differences(conn: Connection) -> dict[str, list[object]]:
        found = {}
        for schema, metadata in METADATA.items():
            context = MigrationContext.configure(conn, opts={
                "include_schemas": True, "compare_type": True, "version_table_schema": schema,
                "include_name": lambda name, kind, _, s=schema: kind != "schema" or name == s})
            found[schema] = compare_metadata(context, metadata)
        return found

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == {schema: [] for schema in SCHEMAS}
    await engine.dispose()


@pytest.mark.parametrize("schema", ["trainer", "producer", "validator"])
def test_an_observed_kind_is_bounded_by_the_database_itself(migrated_database_url, schema):
    insert = (f"INSERT INTO {schema}.observed (owner, kind, round, sender, ref, payload, stored_ms) "
              "VALUES ('o', %s, 1, 's', 'r', '{}', 0)")
    with psycopg.connect(libpq_url(migrated_database_url)) as conn:
        conn.execute(insert, ("k" * 32,))
        for kind in ("", "k" * 33):
            with pytest.raises(psycopg.errors.CheckViolation, match="ck_observed_kind"), conn.transaction():
                conn.execute(insert, (kind,))


async def test_migrating_twice_changes_nothing(database_url):
    await migrate(database_url, "block-producer")
    before = _tables(database_url)
    await migrate(database_url, "block-producer")
    assert _tables(database_url) == before
    assert _version_rows(database_url, "producer") == [head_revision("producer")]


async def test_replicas_migrating_one_schema_at_once_all_succeed(database_url):
    """Three processes, as three replicas would be: the advisory lock, not the in-process guard, keeps them apart.
    Each imports, says it is ready and waits for a line on stdin, so that all three start migrating together."""
    code = ("import asyncio, sys; from zkpot.db import migrate; print('ready', flush=True); sys.stdin.readline(); "
            "asyncio.run(migrate(sys.argv[1], 'validator'))")
    pipe = asyncio.subprocess.PIPE
    replicas = [await asyncio.create_subprocess_exec(sys.executable, "-c", code, database_url, stdin=pipe,
                                                     stdout=pipe) for _ in range(3)]
    assert [await replica.stdout.readline() for replica in replicas if replica.stdout] == [b"ready\n"] * 3
    outcomes = await asyncio.gather(*(replica.communicate(b"go\n") for replica in replicas))
    assert outcomes == [(b"", None)] * 3
    assert [replica.returncode for replica in replicas] == [0, 0, 0]
    assert _tables(database_url) == _expected("validator")
    assert _version_rows(database_url, "validator") == [head_revision("validator")]


async def test_services_in_one_process_migrate_concurrently(database_url):
    await asyncio.gather(migrate(database_url, "prover"), migrate(database_url, "trainer"),
                         migrate(database_url, "prover"))
    assert _tables(database_url) == _expected("prover") | _expected("trainer")


async def test_a_migration_waits_for_the_schema_lock(database_url):
    with psycopg.connect(libpq_url(database_url), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("prover"),))
        task = asyncio.create_task(migrate(database_url, "prover"))
        await _until_waiting_on_advisory_lock(database_url)
        assert not task.done()
        assert "prover.jobs" not in _tables(database_url)
        holder.execute("SELECT pg_advisory_unlock(%s)", (lock_key("prover"),))
        await task
    assert "prover.jobs" in _tables(database_url)


async def _until_waiting_on_advisory_lock(url: str) -> None:
    query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        async with asyncio.timeout(30):
            while conn.execute(query).fetchone() == (0,):
                await asyncio.sleep(0.02)


async def test_one_service_migrating_leaves_other_schemas_alone(database_url):
    await migrate(database_url, "ipfs-gateway")
    assert _tables(database_url) == _expected("gateway")
    await migrate(database_url, "prover")
    await downgrade(database_url, "prover")
    assert _tables(database_url) == _expected("gateway") | {"prover.alembic_version"}
    assert _version_rows(database_url, "gateway") == [head_revision("gateway")]


async def test_downgrade_then_upgrade_round_trips(database_url):
    await migrate(database_url, "trainer")
    await downgrade(database_url, "trainer")
    assert await current_revision(database_url, "trainer") is None
    assert _tables(database_url) == {"trainer.alembic_version"}
    await migrate(database_url, "trainer")
    assert _tables(database_url) == _expected("trainer")


async def test_current_revision_of_a_never_migrated_schema_is_none(database_url):
    assert await current_revision(database_url, "validator") is None


async def test_ping_answers_true_on_a_live_server(database_url):
    engine = create_engine(database_url)
    assert await ping(engine)
    await engine.dispose()


async def test_unreachable_server_pings_false_and_migrate_says_retry(unused_tcp_port):
    url = f"postgresql+psycopg://nobody@127.0.0.1:{unused_tcp_port}/nothing"
    engine = create_engine(url)
    assert await ping(engine) is False
    await engine.dispose()
    with pytest.raises(DatabaseUnavailable):
        await migrate(url, "prover")


def _columns(url: str, schema: str, table: str) -> list[str]:
    query = ("SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
             "ORDER BY ordinal_position")
    with psycopg.connect(libpq_url(url)) as conn:
        return [name for (name,) in conn.execute(query, (schema, table)).fetchall()]


async def test_the_gateway_upgrade_keeps_blobs_stored_before_signed_uploads(database_url):
    await migrate(database_url, "ipfs-gateway", "gateway_0001")
    with psycopg.connect(libpq_url(database_url)) as conn:
        conn.execute("INSERT INTO gateway.blobs (cid, kind, size) VALUES ('bafkold', 'proof', 3)")
    await migrate(database_url, "ipfs-gateway")
    with psycopg.connect(libpq_url(database_url)) as conn:
        row = conn.execute("SELECT uploader, round FROM gateway.blobs WHERE cid = 'bafkold'").fetchone()
    assert row == (None, 0)
    await downgrade(database_url, "ipfs-gateway", "gateway_0001")
    assert await current_revision(database_url, "ipfs-gateway") == "gateway_0001"
    assert _columns(database_url, "gateway", "blobs") == ["cid", "kind", "size", "pinned", "first_seen", "last_read"]
    await migrate(database_url, "ipfs-gateway")
    assert "round" in _columns(database_url, "gateway", "blobs")
