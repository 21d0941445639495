"""What every repository shares: error translation at the boundary and the few statement shapes they run."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Protocol, TypeVar

from sqlalchemy import Executable, Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from zkpot.db.errors import DatabaseError, DatabaseUnavailable, DataRejected, UnknownStatus


class _FromRow(Protocol):
    def __init__(self, **columns: Any) -> None: ...


R = TypeVar("R", bound=_FromRow)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """Turn driver and pool exceptions into ``DatabaseError`` subclasses carrying a disposition."""
    try:
        yield
    except DataError as exc:
        raise DataRejected(f"value rejected by the database: {_first_line(exc)}") from exc
    except (OperationalError, InterfaceError) as exc:
        raise DatabaseUnavailable(f"database unavailable: {_first_line(exc)}") from exc
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise DatabaseUnavailable(f"database connection lost: {_first_line(exc)}") from exc
        raise DatabaseError(f"database error: {_first_line(exc)}") from exc
    except SQLAlchemyError as exc:  # pool timeout and the like
        raise DatabaseUnavailable(f"database unavailable: {exc}") from exc
    except (OSError, TimeoutError) as exc:
        raise DatabaseUnavailable(f"database unreachable: {exc}") from exc


def check_one_of(what: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse a status the table's CHECK constraint would refuse, before any I/O and with a clearer message."""
    if value not in allowed:
        raise UnknownStatus(f"{what} must be one of {', '.join(allowed)}, got {value!r}")


def check_length(what: str, value: str, most: int) -> None:
    """Refuse an empty value or one longer than ``most`` characters, as the table's CHECK constraint would."""
    if not 1 <= len(value) <= most:
        raise UnknownStatus(f"{what} must be 1 to {most} characters, got {value!r}")


def _first_line(exc: DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


class Repo:
    """Base of the per-service repositories: each method is one short transaction on ``engine``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @contextlib.asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        with translate_errors():
            async with self.engine.begin() as conn:
                yield conn

    async def _insert_new(self, table: Table, values: Mapping[str, Any]) -> bool:
        """``INSERT ... ON CONFLICT (primary key) DO NOTHING``: True when the row is new, False when its key
        was stored. A clash on another unique index is not a repeat: it raises ``DatabaseError``."""
        key = list(table.primary_key.columns)
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=key).returning(*key)
        return bool(await self._scalars(statement))

    async def _changed(self, statement: Executable) -> bool:
        """Run an UPDATE; True when it matched a row."""
        return bool(await self._rowcount(statement))

    async def _rowcount(self, statement: Executable) -> int:
        """Run an UPDATE or DELETE; the rows it matched (``rowcount`` is reliable for those, not for INSERT)."""
        async with self._transaction() as conn:
            result = await conn.execute(statement)
        return int(result.rowcount)

    async def _first(self, statement: Executable, row: type[R]) -> R | None:
        async with self._transaction() as conn:
            found = (await conn.execute(statement)).mappings().first()
        return None if found is None else row(**found)

    async def _all(self, statement: Executable, row: type[R]) -> list[R]:
        async with self._transaction() as conn:
            found = (await conn.execute(statement)).mappings().all()
        return [row(**mapping) for mapping in found]

    async def _scalars(self, statement: Executable) -> list[Any]:
        async with self._transaction() as conn:
            return list((await conn.execute(statement)).scalars().all())

    async def _tuples(self, statement: Executable) -> list[tuple[Any, ...]]:
        async with self._transaction() as conn:
            return [tuple(row) for row in (await conn.execute(statement)).all()]
