"""URL handling and the translation of driver errors into dispositions (pure, no database)."""

import psycopg
import pytest
from sqlalchemy import exc
from zkpot.db.engine import database_url
from zkpot.db.errors import DatabaseError, DatabaseUnavailable, DataRejected, UnknownStatus
from zkpot.db.sql import check_one_of, translate_errors
from zkpot.domain.errors import Disposition
from zkpot.errors import InputError
from zkpot.infra.postgres import create_database, libpq_url, replace_database


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@db:5432/zkpot", "postgres://u:p@db:5432/zkpot", "postgresql+psycopg://u:p@db:5432/zkpot"],
)
def test_postgres_urls_get_the_psycopg_driver(url):
    assert database_url(url) == "postgresql+psycopg://u:p@db:5432/zkpot"


@pytest.mark.parametrize("url", ["mysql://u@db/zkpot", "sqlite:///x.db", "not a url"])
def test_other_urls_are_refused(url):
    with pytest.raises(InputError):
        database_url(url)


def test_libpq_url_and_replace_database_keep_credentials_and_query():
    url = "postgresql+psycopg://u:secret@127.0.0.1:5433/postgres?sslmode=disable"
    assert libpq_url(url) == "postgresql://u:secret@127.0.0.1:5433/postgres?sslmode=disable"
    assert replace_database(url, "t1") == "postgresql+psycopg://u:secret@127.0.0.1:5433/t1?sslmode=disable"


@pytest.mark.parametrize("name", ["Upper", "has space", 'quote"', "1digit", "x" * 64])
def test_database_names_outside_the_safe_pattern_are_refused_before_connecting(name):
    with pytest.raises(InputError, match="database name"):
        create_database("postgresql://nobody@127.0.0.1:1/postgres", name)


def _raise(error: BaseException) -> None:
    with translate_errors():
        raise error


def _dbapi(kind: type[exc.DBAPIError], orig: Exception) -> exc.DBAPIError:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "expected", "disposition"),
    [
        (_dbapi(exc.DataError, psycopg.DataError("NUL byte")), DataRejected, Disposition.DROP),
        (_dbapi(exc.OperationalError, psycopg.OperationalError("refused")), DatabaseUnavailable, Disposition.RETRY),
        (_dbapi(exc.InterfaceError, psycopg.InterfaceError("closed")), DatabaseUnavailable, Disposition.RETRY),
        (_dbapi(exc.IntegrityError, psycopg.IntegrityError("dup")), DatabaseError, Disposition.FAIL),
        (exc.TimeoutError("pool exhausted"), DatabaseUnavailable, Disposition.RETRY),
        (ConnectionRefusedError("refused"), DatabaseUnavailable, Disposition.RETRY),
    ],
)
def test_driver_errors_become_database_errors_with_a_disposition(error, expected, disposition):
    with pytest.raises(expected) as caught:
        _raise(error)
    assert type(caught.value) is expected
    assert caught.value.disposition is disposition


def test_other_exceptions_pass_through():
    with pytest.raises(KeyError):
        _raise(KeyError("bug"))


def test_check_one_of_refuses_an_unknown_status():
    check_one_of("tx status", "included", ("pending", "included"))
    with pytest.raises(UnknownStatus, match="tx status must be one of pending, included, got 'done'"):
        check_one_of("tx status", "done", ("pending", "included"))
