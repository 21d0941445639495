"""The embedded PostgreSQL launcher: start, create, stop, restart on the same data, adopt a running server; every
connection needs a password."""

import shutil
import stat
import tempfile
from pathlib import Path

import psycopg
import pytest
from zkpot.errors import InputError
from zkpot.infra.postgres import EmbeddedPostgres, libpq_url

pytestmark = pytest.mark.integration


@pytest.fixture
def base_dir():
    """A new directory of its own (mkdtemp's 0700 is fine: the launcher hands it to the server's user)."""
    path = Path(tempfile.mkdtemp(prefix="zkpot-test-embedded-"))
    yield path
    EmbeddedPostgres(path).stop()
    shutil.rmtree(path, ignore_errors=True)


def _query(url: str, sql: str) -> object:
    """The first column of the first row ``sql`` returns (None for a statement that returns no rows)."""
    with psycopg.connect(libpq_url(url)) as conn:
        cursor = conn.execute(sql)
        row = cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]


def test_a_server_is_adopted_by_a_second_launcher_and_keeps_its_data_across_a_restart(base_dir):
    """One data directory through a whole life (initdb is the slow part, so it runs once)."""
    server = EmbeddedPostgres(base_dir, durable=False)
    admin_url = server.start()
    url = server.create_database("devnet")
    assert server.create_database("devnet") == url  # a second create finds it
    _query(url, "CREATE TABLE kept AS SELECT 42 AS answer")
    assert _query(url, "SHOW listen_addresses") == "127.0.0.1"
    assert stat.S_IMODE(server.password_file.stat().st_mode) == 0o600
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _query(url.replace(server.password_file.read_text().strip(), "guessed"), "SELECT 1")
    assert EmbeddedPostgres(base_dir).start() == admin_url  # adopted, not started twice
    server.stop()
    with pytest.raises(psycopg.OperationalError):
        _query(url, "SELECT 1")
    assert server.start() == admin_url
    assert _query(url, "SELECT answer FROM kept") == 42


def test_the_url_of_a_server_never_started_is_an_error(base_dir):
    with pytest.raises(InputError, match="not been started"):
        _ = EmbeddedPostgres(base_dir).url
