"""One role per service against a real PostgreSQL: provisioning is idempotent and repairs drift, each role migrates
and uses its own schema and nothing else, the reader reads and never writes, a database migrated before roles
existed is handed over. (The store contract tests also run as the services' roles: conftest.py.)"""

import asyncio
import base64
import sys
import uuid

import psycopg
import pytest
from psycopg import errors, sql
from zkpot.cli.main import main
from zkpot.db import ProverRepo, ValidatorRepo, create_engine, current_revision, head_revision, migrate
from zkpot.db.errors import DatabaseError
from zkpot.db.roles import ACCOUNTS, READER, account_url, new_passwords, provision, role_name, scram_verifier
from zkpot.db.tables import SCHEMA_OF_SERVICE, SCHEMAS
from zkpot.infra.postgres import libpq_url, replace_database

from loadtest.collect import read_db
from tests.fixtures.postgres import drop_roles, scratch_database

pytestmark = pytest.mark.integration
SERVICES = tuple(SCHEMA_OF_SERVICE)


def _rows(url: str, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(query, params).fetchall()


def _run(url: str, statement: str) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(statement)


def _denied(url: str, statement: str, *before: str) -> str:
    """The error ``statement`` fails with when run as ``url``'s role (in a transaction of its own, after
    ``before``)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for setup in before:
            conn.execute(setup)
        with pytest.raises(errors.InsufficientPrivilege) as caught:
            conn.execute(statement)
    return str(caught.value)


@pytest.fixture
def provisioned(database_url, role_prefix, role_passwords):
    """An empty database provisioned with the session's roles (schemas made, nothing migrated yet)."""
    return provision(database_url, role_passwords, prefix=role_prefix)


def test_provisioning_twice_changes_nothing(database_url, provisioned, role_prefix, role_passwords):
    query = ("SELECT n.nspname, pg_get_userbyid(n.nspowner), n.nspacl::text FROM pg_namespace n "
             "WHERE n.nspname = ANY(%s) ORDER BY 1")
    before = _rows(database_url, query, (list(SCHEMAS),))
    assert provision(database_url, role_passwords, prefix=role_prefix) == provisioned
    assert _rows(database_url, query, (list(SCHEMAS),)) == before
    assert {schema: owner for schema, owner, _ in before} == {
        schema: role_name(service, role_prefix) for service, schema in SCHEMA_OF_SERVICE.items()}


def test_every_role_logs_in_with_its_password_only_and_nothing_more(database_url, provisioned, role_prefix):
    roles = [role_name(account, role_prefix) for account in ACCOUNTS]
    found = _rows(database_url, "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, "
                                "rolbypassrls, rolconnlimit, left(rolpassword, 14) FROM pg_authid "
                                "WHERE rolname = ANY(%s) ORDER BY 1", (roles,))
    assert found == [(role, True, False, False, False, False, False, 64, "SCRAM-SHA-256$") for role in sorted(roles)]
    for account, url in provisioned.items():
        assert _rows(url, "SELECT current_user") == [(role_name(account, role_prefix),)]
    wrong = account_url(database_url, role_name("trainer", role_prefix), "not-the-password-at-all")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _rows(wrong, "SELECT 1")


def test_provisioning_again_repairs_drift_and_rotates_passwords(database_url, provisioned, role_prefix):
    trainer = role_name("trainer", role_prefix)
    _run(database_url, f'ALTER ROLE "{trainer}" CREATEDB CONNECTION LIMIT 2; GRANT pg_read_all_data TO "{trainer}"; '
                        f'ALTER SCHEMA trainer OWNER TO postgres')
    rotated = provision(database_url, new_passwords(), prefix=role_prefix)
    assert _rows(database_url, "SELECT rolcreatedb, rolconnlimit, pg_has_role(rolname, 'pg_read_all_data', 'MEMBER')"
                               " FROM pg_roles WHERE rolname = %s", (trainer,)) == [(False, 64, False)]
    assert _rows(database_url, "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'trainer'") == [
        (trainer,)]
    assert _rows(rotated["trainer"], "SELECT current_user") == [(trainer,)]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _rows(provisioned["trainer"], "SELECT 1")


async def test_each_role_migrates_its_own_schema_and_replicas_still_take_turns(provisioned):
    """Three replica processes as one role, then every other role at once: the advisory lock and the version table
    work for a role that owns its schema and may create nothing else."""
    code = "import asyncio, sys; from zkpot.db import migrate; asyncio.run(migrate(sys.argv[1], 'validator'))"
    replicas = [await asyncio.create_subprocess_exec(sys.executable, "-c", code, provisioned["validator"])
                for _ in range(3)]
    assert [await replica.wait() for replica in replicas] == [0, 0, 0]
    await asyncio.gather(*(migrate(provisioned[service], service) for service in SERVICES if service != "validator"))
    for service in SERVICES:
        assert await current_revision(provisioned[service], service) == head_revision(service)
    tables = _rows(provisioned[READER], "SELECT schemaname, tableowner FROM pg_tables WHERE schemaname = ANY(%s)",
                   (list(SCHEMAS),))
    assert {(schema, str(owner).split("_", 1)[1]) for schema, owner in tables} == {(s, s) for s in SCHEMAS}


def test_a_role_touches_no_other_schema(role_urls):
    trainer = role_urls["trainer"]
    assert "permission denied for schema validator" in _denied(trainer, "SELECT * FROM validator.verdicts")
    assert "permission denied for schema producer" in _denied(
        trainer, "INSERT INTO producer.txs (tx_id, round, client, tx) VALUES ('t', 1, 'c', '{}')")
    assert "permission denied for schema trainer" in _denied(role_urls["block-producer"], "DELETE FROM trainer.rounds")
    assert "permission denied for schema prover" in _denied(role_urls["ipfs-gateway"],
                                                            "CREATE TABLE prover.mine (x int)")


def test_a_role_creates_no_schema_role_database_or_public_table(role_urls):
    prover = role_urls["prover"]
    assert "permission denied for database" in _denied(prover, "CREATE SCHEMA elsewhere")
    assert "permission denied for schema public" in _denied(prover, "CREATE TABLE public.leak (x int)")
    assert "permission denied to create role" in _denied(prover, "CREATE ROLE intruder")
    assert "permission denied to create database" in _denied(prover, "CREATE DATABASE other")
    assert "permission denied to create temporary tables" in _denied(prover, "CREATE TEMPORARY TABLE scratch (x int)")


def test_no_one_else_may_connect(role_urls, postgres_server_url):
    url = role_urls["trainer"]
    database = _rows(url, "SELECT current_database()")[0][0]
    admin = replace_database(postgres_server_url, str(database))
    _run(admin, "CREATE ROLE zkpot_test_stranger LOGIN PASSWORD 'stranger-password-1234'")
    try:
        stranger = account_url(admin, "zkpot_test_stranger", "stranger-password-1234")
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            _rows(stranger, "SELECT 1")
    finally:
        _run(admin, "DROP ROLE zkpot_test_stranger")


def test_the_reader_reads_every_schema_even_tables_added_later_and_writes_nothing(role_urls):
    _run(role_urls["trainer"], "CREATE TABLE trainer.later (x int); INSERT INTO trainer.later VALUES (7)")
    reader = role_urls[READER]
    assert _rows(reader, "SELECT x FROM trainer.later") == [(7,)]
    for schema in SCHEMAS:
        assert _rows(reader, f"SELECT count(*) FROM {schema}.alembic_version") == [(1,)]
    assert "read-only transaction" in _read_only_error(reader, "INSERT INTO trainer.later VALUES (8)")
    assert "permission denied for table later" in _denied(
        reader, "INSERT INTO trainer.later VALUES (8)", "SET default_transaction_read_only = off")


def _read_only_error(url: str, statement: str) -> str:
    with psycopg.connect(libpq_url(url)) as conn, pytest.raises(errors.ReadOnlySqlTransaction) as caught:
        conn.execute(statement)
    return str(caught.value)


async def test_a_service_role_cannot_migrate_before_provisioning(database_url, role_prefix, role_passwords):
    """Roles exist (the session made them) but this database was never provisioned: no schema to migrate into."""
    provision(database_url, role_passwords, prefix=role_prefix)
    _run(database_url, "DROP SCHEMA gateway")
    url = account_url(database_url, role_name("ipfs-gateway", role_prefix), role_passwords["ipfs-gateway"])
    with pytest.raises(DatabaseError, match="may not create it: provision the service roles"):
        await migrate(url, "ipfs-gateway")
    _run(database_url, "CREATE SCHEMA gateway")  # made by the superuser, not handed over
    with pytest.raises(DatabaseError, match="may not use and create in schema gateway"):
        await migrate(url, "ipfs-gateway")


async def test_a_database_migrated_before_roles_is_handed_over(migrated_database_url, role_prefix, role_passwords):
    """An upgrade: the superuser migrated every schema; provisioning gives each role its schema and tables."""
    urls = provision(migrated_database_url, role_passwords, prefix=role_prefix)
    owners = _rows(migrated_database_url, "SELECT DISTINCT schemaname, tableowner FROM pg_tables "
                                          "WHERE schemaname = ANY(%s)", (list(SCHEMAS),))
    assert sorted(owners) == sorted((s, role_name(svc, role_prefix)) for svc, s in SCHEMA_OF_SERVICE.items())
    for service in SERVICES:
        await migrate(urls[service], service)
        assert await current_revision(urls[service], service) == head_revision(service)
    _run(urls["block-producer"], "INSERT INTO producer.txs (tx_id, round, client, tx) VALUES ('t', 1, 'c', '{}')")
    assert _rows(urls[READER], "SELECT tx_id FROM producer.txs") == [("t",)]


def test_our_verifier_is_the_one_postgres_computes(database_url, role_prefix):
    role = f"{role_prefix}_verifier"
    _run(database_url, sql.SQL("CREATE ROLE {} PASSWORD 'correct horse battery staple'").format(
        sql.Identifier(role)).as_string())
    try:
        (stored,), = _rows(database_url, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,))
        iterations, salt = str(stored).split("$")[1].split(":")
        assert scram_verifier("correct horse battery staple", base64.b64decode(salt), int(iterations)) == stored
    finally:
        _run(database_url, sql.SQL("DROP ROLE {}").format(sql.Identifier(role)).as_string())


def test_the_command_provisions_with_the_passwords_it_is_given_or_makes(postgres_server_url, tmp_path, capsys):
    """`zkpot db provision` as the chart's Job and an operator run it: the admin URL from a file, passwords from a
    folder (missing ones made there), each account's URL written for `kubectl create secret --from-file`."""
    prefix = f"c{uuid.uuid4().hex[:10]}"
    (tmp_path / "pw").mkdir()
    (tmp_path / "pw" / "trainer").write_text("a-trainer-password-chosen-by-the-operator\n")
    try:
        with scratch_database(postgres_server_url) as (_, url):
            (tmp_path / "admin-url").write_text(url + "\n")
            argv = ["db", "provision", "--admin-url-file", str(tmp_path / "admin-url"), "--passwords",
                    str(tmp_path / "pw"), "--out", str(tmp_path / "urls"), "--prefix", prefix]
            assert main(argv) == 0
            assert main(argv) == 0
            urls = {p.stem: p.read_text() for p in (tmp_path / "urls").iterdir()}
            assert set(urls) == set(ACCOUNTS)
            assert "a-trainer-password-chosen-by-the-operator@" in urls["trainer"]
            assert _rows(urls["block-producer"], "SELECT current_user") == [(f"{prefix}_producer",)]
    finally:
        drop_roles(postgres_server_url, prefix)
    printed = capsys.readouterr().out
    assert f"block-producer: role {prefix}_producer" in printed and "password-chosen" not in printed


def test_the_command_says_what_is_wrong(tmp_path, capsys):
    assert main(["db", "provision", "--passwords", str(tmp_path)]) == 2
    assert "exactly one of --admin-url and --admin-url-file" in capsys.readouterr().err
    unreachable = "postgresql://u:p@127.0.0.1:1/zkpot"
    assert main(["db", "provision", "--admin-url", unreachable, "--passwords", str(tmp_path)]) == 2
    assert "cannot provision the database roles" in capsys.readouterr().err


async def test_reports_read_through_the_reader(role_urls):
    """What the load test (loadtest.collect) and the end-to-end tests read, they read as the reader; a write
    through a repository fails as a bug would, not as a retry."""
    await ProverRepo(engine := create_engine(role_urls["prover"])).enqueue("j1", client="ab" * 32, round=1,
                                                                             model_cid="m")
    await engine.dispose()
    reader = create_engine(role_urls[READER])
    try:
        job = await ProverRepo(reader).get("j1")
        assert job is not None and job.status == "queued"
        validators = ValidatorRepo(reader)
        assert await validators.txs_seen_in_round("ab" * 32, 1) == []
        assert await validators.rejections("ab" * 32) == []
        assert await validators.block("ab" * 32, "cd" * 32) is None
        assert await validators.observed("ab" * 32, 1, "reveal") == []
        with pytest.raises(DatabaseError, match="read-only transaction"):
            await ProverRepo(reader).start("j1")
    finally:
        await reader.dispose()
    facts = await read_db(role_urls[READER], ["t1"], [1])
    assert (facts.received, facts.rounds, facts.verify_s) == ({}, {}, {})
