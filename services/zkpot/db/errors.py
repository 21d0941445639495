"""Database errors, each with the disposition a consumer should apply to the message it was storing."""

from __future__ import annotations

from zkpot.domain.errors import Disposition, ZkpotError


class DatabaseError(ZkpotError):
    """The database refused a statement for a reason retrying will not fix (a bug or a broken schema)."""

    disposition = Disposition.FAIL


class DatabaseUnavailable(DatabaseError):
    """The server cannot be reached, the connection broke, or a transaction must be retried."""

    disposition = Disposition.RETRY


class DataRejected(DatabaseError):
    """A value cannot be stored (a NUL byte in text, an integer beyond bigint): drop the message behind it."""

    disposition = Disposition.DROP


class UnknownStatus(DatabaseError, ValueError):
    """A caller passed a status its table does not allow: a bug in the caller."""
