"""Errors of the transport, and the one a handler raises to ask for a later redelivery."""

from __future__ import annotations

from zkpot.domain.errors import Disposition, ZkpotError


class BusError(ZkpotError):
    """The transport is unreachable or misconfigured (no stream for a subject, a payload over the limit)."""


class BusUnavailable(BusError):
    """The server did not answer in time or the connection is down; trying again later may succeed."""

    disposition = Disposition.RETRY


class SubscriptionFailed(BusError):
    """A handler raised an error with disposition FAIL; the subscription stopped. ``__cause__`` is that error."""


class RetryLater(ZkpotError):
    """Raised by a handler whose input is fine but cannot be handled yet (a round not open, a peer down).

    The message is naked and redelivered after ``delay_s`` (or the subscription's backoff when None).
    """

    disposition = Disposition.RETRY

    def __init__(self, message: str, delay_s: float | None = None) -> None:
        super().__init__(message)
        self.delay_s = delay_s


class NotProvisioned(BusError):
    """A stream or durable consumer this client needs is missing or differs from the plan, and only the operator
    may create it (``zkpot nats provision``)."""


class MessageIdTaken(BusError):
    """The server dropped a publish as a duplicate, but the message it holds under that id is another one."""


class NotPermitted(BusError):
    """The server refused a publish or a JetStream request: this identity's permissions do not allow it."""
