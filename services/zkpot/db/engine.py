"""The async engine, readiness ping, and Alembic migrations run from Python at service start.

Each service migrates only its own schema: the script history lives in ``migrations/versions/<schema>/`` and
the version table in ``<schema>.alembic_version``, so services upgrade independently and concurrently.
Replicas of one service serialise on a transaction-scoped advisory lock keyed by the schema: the first
upgrades, the others then find the schema at head and do nothing. Within one process migrations run one at a
time (Alembic keeps global state), in a worker thread. In production each service migrates as its own role
(``zkpot.db.roles``), which owns its schema and may create no other: the schema is created here only where the
connecting role may (a superuser, in tests and tools).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from pathlib import Path

import sqlalchemy
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from zkpot.db.errors import DatabaseError
from zkpot.db.sql import translate_errors
from zkpot.db.tables import schema_for
from zkpot.errors import InputError

MIGRATIONS = Path(__file__).parent / "migrations"
_ALEMBIC_IN_USE = threading.Lock()
"""Alembic's ``context`` and ``op`` are process-wide proxies: one migration at a time per process. Replicas
(other processes) are kept apart by the advisory lock instead."""
DRIVER = "postgresql+psycopg"
_DRIVER_ALIASES = {"postgres", "postgresql", DRIVER}


def database_url(url: str) -> str:
    """``url`` with the psycopg 3 driver named (``postgresql://`` and ``postgres://`` are accepted too)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(f"not a database URL: {exc}") from None
    if parsed.drivername not in _DRIVER_ALIASES:
        raise InputError(f"database URL must be PostgreSQL ({DRIVER}://...), got {parsed.drivername}://")
    return parsed.set(drivername=DRIVER).render_as_string(hide_password=False)


def create_engine(url: str, *, application_name: str = "zkpot", pool_size: int = 5) -> AsyncEngine:
    """An engine for one small service: a few pooled connections, checked before use, recycled every 30 min."""
    return create_async_engine(
        database_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=10,
        pool_recycle=1800,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10, "application_name": application_name},
    )


async def ping(engine: AsyncEngine, timeout_s: float = 2.0) -> bool:
    """True when a connection answers ``SELECT 1`` within ``timeout_s``; never raises (for /readyz)."""
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, TimeoutError):
        return False
    return True


async def migrate(url: str, service: str, revision: str = "head") -> None:
    """Upgrade ``service``'s schema (created if missing) to ``revision``; other schemas are not touched."""
    await _with_alembic(url, schema_for(service), lambda cfg: command.upgrade(cfg, revision))


async def downgrade(url: str, service: str, revision: str = "base") -> None:
    """Downgrade ``service``'s schema to ``revision`` (``base`` drops its tables; the schema itself stays)."""
    await _with_alembic(url, schema_for(service), lambda cfg: command.downgrade(cfg, revision))


async def current_revision(url: str, service: str) -> str | None:
    """The revision ``service``'s schema is at, or None when it was never migrated."""
    schema = schema_for(service)
    found: list[str | None] = []

    def read(cfg: Config) -> None:
        context = MigrationContext.configure(cfg.attributes["connection"], opts={"version_table_schema": schema})
        found.append(context.get_current_revision())

    await _with_alembic(url, schema, read)
    return found[0]


def head_revision(service: str) -> str:
    """The revision ``migrate`` brings ``service``'s schema to (its history has exactly one head)."""
    heads = ScriptDirectory.from_config(alembic_config(schema_for(service))).get_heads()
    if len(heads) != 1:
        raise DatabaseError(f"{service}: migration history must have one head, found {heads}")
    return str(heads[0])


def alembic_config(schema: str) -> Config:
    """Alembic settings built in code (no alembic.ini): this schema's script history and version table."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions" / schema))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["schema"] = schema
    return cfg


def lock_key(schema: str) -> int:
    """A stable signed 64-bit advisory-lock key for migrations of ``schema``."""
    digest = hashlib.sha256(f"zkpot.migrate:{schema}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def _with_alembic(url: str, schema: str, action: Callable[[Config], None]) -> None:
    """Run ``action`` in a worker thread, so neither the SQL nor the script loading blocks the event loop."""
    await asyncio.to_thread(_run_alembic, database_url(url), schema, action)


def _run_alembic(url: str, schema: str, action: Callable[[Config], None]) -> None:
    engine = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with _ALEMBIC_IN_USE, translate_errors(), engine.begin() as conn:
            _locked(conn, schema, action)
    finally:
        engine.dispose()


def _locked(conn: Connection, schema: str, action: Callable[[Config], None]) -> None:
    """Run ``action`` inside the caller's transaction, holding the schema's lock until it commits."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(schema)})
    _ensure_schema(conn, schema)
    cfg = alembic_config(schema)
    cfg.attributes["connection"] = conn
    action(cfg)


_SCHEMA_RIGHTS = text("SELECT has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE'), "
                      "current_user FROM pg_namespace n WHERE n.nspname = :schema")
_MAY_CREATE_SCHEMA = text("SELECT has_database_privilege(current_database(), 'CREATE'), current_user")


def _ensure_schema(conn: Connection, schema: str) -> None:
    """Create ``schema`` if it is missing (a superuser's or CREATE-on-database role's way), else check that this
    role may use it and create in it (a service role owning the schema ``zkpot.db.roles.provision`` made for it).
    Even ``CREATE SCHEMA IF NOT EXISTS`` needs CREATE on the database, which service roles do not have."""
    rights = conn.execute(_SCHEMA_RIGHTS, {"schema": schema}).first()
    if rights is None:
        may_create, user = conn.execute(_MAY_CREATE_SCHEMA).one()
        if not may_create:
            raise DatabaseError(f"schema {schema} does not exist and role {user} may not create it: provision the "
                                f"service roles first (zkpot db provision)")
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))  # schema comes from schema_for
    elif not (rights[0] and rights[1]):
        raise DatabaseError(f"role {rights[2]} may not use and create in schema {schema}: migrate as the role "
                            f"that owns it (zkpot db provision gives each service its own)")
