"""One PostgreSQL role per service, with rights on its own schema only, and a read-only role for reports.

``provision`` is the admin step, run as a superuser: by the devnet at start, by the chart's ``db-roles`` Job and,
for an external database, by its operator (`zkpot db provision`). It is idempotent: a rerun creates what is
missing and puts back what drifted (attributes, memberships, passwords, ownership), so it also rotates passwords.

Each service's role (``zkpot_trainer``, ``zkpot_prover``, ``zkpot_validator``, ``zkpot_producer``,
``zkpot_gateway``) may log in, connect to this database and owns its schema; it has no other privilege: no
CREATEDB, CREATEROLE, SUPERUSER, no CREATE on the database (so no other schema) and nothing on the others' or the
``public`` schema. The reader (``zkpot_reader``) may SELECT in every service schema, tables created later
included, and its sessions are read-only: the load test and the end-to-end tests report through it.

Roles belong to the whole server, not to one database: ``prefix`` keeps the roles of two networks sharing a
server apart. Passwords reach the server as SCRAM-SHA-256 verifiers, never in clear (so not in its logs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from zkpot.db.engine import database_url, lock_key
from zkpot.db.errors import DatabaseError, DatabaseUnavailable
from zkpot.db.tables import SCHEMA_OF_SERVICE
from zkpot.errors import InputError
from zkpot.infra.postgres import libpq_url

READER = "reader"
ACCOUNTS = (*SCHEMA_OF_SERVICE, READER)
"""Who gets a role: the five services and the read-only reader."""
DEFAULT_PREFIX = "zkpot"
DEFAULT_CONNECTION_LIMIT = 64
"""Per role: a service process pools at most 10 connections, so this is room for six replicas of one service
and their migrations, and no one service can take all of a default server's 100."""
MIN_PASSWORD = 16
_SCRAM_ITERATIONS = 4096
_Conn = psycopg.Connection[Any]
_RELATION_KEYWORD = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE",
                     "f": "FOREIGN TABLE"}
_NOT_OWNED = """
SELECT c.relname, c.relkind FROM pg_class c
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = ANY(%(kinds)s) AND c.relowner <> %(role)s::regrole
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
"""


def role_name(account: str, prefix: str = DEFAULT_PREFIX) -> str:
    """``zkpot_<schema>`` for a service (``block-producer`` -> ``zkpot_producer``), ``zkpot_reader``."""
    if account == READER:
        return f"{prefix}_{READER}"
    if account not in SCHEMA_OF_SERVICE:
        raise InputError(f"no database role for {account!r}; expected one of {', '.join(ACCOUNTS)}")
    return f"{prefix}_{SCHEMA_OF_SERVICE[account]}"


def new_passwords() -> dict[str, str]:
    """A random password for every account."""
    return {account: secrets.token_urlsafe(24) for account in ACCOUNTS}


def provision(admin_url: str, passwords: Mapping[str, str], *, prefix: str = DEFAULT_PREFIX,
              connection_limit: int = DEFAULT_CONNECTION_LIMIT) -> dict[str, str]:
    """Create or repair every account's role and every service's schema in ``admin_url``'s database; return each
    account's URL (the admin URL's host, database and options, with the account's role and password)."""
    _check(passwords, prefix, connection_limit)
    roles = {account: role_name(account, prefix) for account in ACCOUNTS}
    try:
        with psycopg.connect(libpq_url(admin_url), connect_timeout=10) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(f"roles:{prefix}"),))
            for account, role in roles.items():
                _ensure_role(conn, role, passwords[account], connection_limit)
            _lock_down_database(conn, roles.values())
            for service, schema in SCHEMA_OF_SERVICE.items():
                _ensure_schema(conn, schema, roles[service])
                _grant_reader(conn, schema, roles[service], roles[READER])
            conn.execute(sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
                sql.Identifier(roles[READER])))
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"cannot provision the database roles: {_first_line(exc)}") from exc
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot provision the database roles (connect as a superuser): {_first_line(exc)}") \
            from exc
    return {account: account_url(admin_url, roles[account], passwords[account]) for account in ACCOUNTS}


def account_url(admin_url: str, role: str, password: str) -> str:
    """``admin_url`` logging in as ``role`` instead."""
    url = make_url(database_url(admin_url)).set(username=role, password=password)
    return url.render_as_string(hide_password=False)


def scram_verifier(password: str, salt: bytes | None = None, iterations: int = _SCRAM_ITERATIONS) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores for ``password`` (RFC 5802, as ``pg_authid`` spells it)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.digest(salted, b"Client Key", "sha256")).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return f"SCRAM-SHA-256${iterations}:{_b64(salt)}${_b64(stored_key)}:{_b64(server_key)}"


def _first_line(exc: psycopg.Error) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def read_passwords(folder: Path, *, create: bool = False) -> dict[str, str]:
    """Every account's password from ``folder/<account>`` (a mounted Secret, say); with ``create``, missing ones
    are generated and written there (mode 0600)."""
    found: dict[str, str] = {}
    for account in ACCOUNTS:
        path = folder / account
        if path.exists():
            found[account] = path.read_text().strip()
        elif create:
            found[account] = new_passwords()[account]
            _write_private(path, found[account] + "\n")
        else:
            raise InputError(f"no password for {account} in {folder} (expected a file named {account})")
    return found


def write_urls(urls: Mapping[str, str], folder: Path) -> dict[str, Path]:
    """Each account's URL as ``folder/<account>.url`` (mode 0600; the folder 0700; no newline, as an environment
    variable from a Secret must not end in one): the layout `kubectl create secret generic NAME --from-file=folder`
    turns into the Secret the chart reads."""
    return {account: _write_private(folder / f"{account}.url", url) for account, url in urls.items()}


def _write_private(path: Path, text: str) -> Path:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    path.chmod(0o600)  # an older file keeps its mode through O_CREAT
    return path


def _check(passwords: Mapping[str, str], prefix: str, connection_limit: int) -> None:
    missing = [a for a in ACCOUNTS if a not in passwords]
    if missing:
        raise InputError(f"no password for {', '.join(missing)}")
    for account, password in passwords.items():
        if len(password) < MIN_PASSWORD or not (password.isascii() and password.isprintable()):
            raise InputError(f"the password of {account} must be at least {MIN_PASSWORD} printable ASCII characters")
    if not (prefix.isascii() and prefix.replace("_", "a").isalnum() and prefix[0].isalpha() and len(prefix) <= 40):
        raise InputError(f"role prefix {prefix!r} must be a letter then letters, digits or _ (40 at most)")
    if connection_limit < 1:
        raise InputError("the connection limit must be at least 1")


def _ensure_role(conn: _Conn, role: str, password: str, limit: int) -> None:
    """The role with exactly LOGIN and a connection limit, no membership in any other role, this password."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None
    verb = sql.SQL("ALTER ROLE" if exists else "CREATE ROLE")
    conn.execute(sql.SQL("{} {} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS "
                         "NOINHERIT CONNECTION LIMIT {} PASSWORD {}").format(
        verb, sql.Identifier(role), sql.Literal(limit), sql.Literal(scram_verifier(password))))
    granted = conn.execute("SELECT roleid::regrole::text FROM pg_auth_members WHERE member = %s::regrole",
                           (role,)).fetchall()
    for (other,) in granted:
        conn.execute(sql.SQL("REVOKE {} FROM {} CASCADE").format(sql.Identifier(str(other)), sql.Identifier(role)))


def _lock_down_database(conn: _Conn, roles: Iterable[str]) -> None:
    """Only the zkpot roles (and the admin) connect; nobody but the admin creates in ``public``."""
    (current,) = conn.execute("SELECT current_database()").fetchall()[0]
    database = sql.Identifier(str(current))
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"))
    for role in roles:
        name = sql.Identifier(role)
        conn.execute(sql.SQL("REVOKE CREATE, TEMPORARY ON DATABASE {} FROM {}").format(database, name))
        conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, name))


def _ensure_schema(conn: _Conn, schema: str, owner: str) -> None:
    """``schema`` owned by ``owner``, with what it holds: a schema a superuser migrated before roles existed
    (an upgrade) is handed over whole."""
    name, role = sql.Identifier(schema), sql.Identifier(owner)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(name, role))
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(name, role))
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(name))
    params = {"schema": schema, "role": owner, "kinds": list(_RELATION_KEYWORD)}
    for relation, kind in conn.execute(_NOT_OWNED, params).fetchall():
        conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(
            sql.SQL(_RELATION_KEYWORD[str(kind)]), sql.Identifier(schema, str(relation)), role))


def _grant_reader(conn: _Conn, schema: str, owner: str, reader: str) -> None:
    """SELECT on the schema's tables, now and on those its owner's migrations create later."""
    name, role = sql.Identifier(schema), sql.Identifier(reader)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(name, role))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(name, role))
    conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(
        sql.Identifier(owner), name, role))
