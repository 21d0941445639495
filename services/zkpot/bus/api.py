"""What services see of the transport: the ``Bus`` and ``Subscription`` protocols and the ``Delivery`` a handler gets.

Both ``JetStreamBus`` (a real nats-server) and ``MemoryBus`` (the in-process fake) implement these, and one
contract test runs against both.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from zkpot.metrics import Metrics

log = logging.getLogger("zkpot.bus")


class RawMessage(Protocol):
    """A message as a transport hands it over, before decoding; the four acknowledgements of JetStream.
    ``stored_ms`` is when the server stored it (Unix ms, its clock), the same on every delivery."""

    subject: str
    data: bytes
    num_delivered: int
    msg_id: str | None
    stored_ms: int

    async def ack(self) -> None: ...
    async def nak(self, delay_s: float | None) -> None: ...
    async def term(self) -> None: ...
    async def in_progress(self) -> None: ...


class Source(Protocol):
    """A bound durable consumer that messages are pulled from."""

    async def fetch(self, batch: int, wait_s: float) -> list[RawMessage]:
        """Up to ``batch`` messages; an empty list if none came within ``wait_s``."""
        ...

    async def close(self) -> None: ...


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One decoded message handed to a handler. ``num_delivered`` is 1 on the first delivery; ``stored_ms`` is the
    server's store time of the message (Unix ms), which a redelivery keeps: an order every consumer agrees on."""

    subject: str
    payload: dict[str, Any]
    num_delivered: int
    msg_id: str | None
    stored_ms: int
    raw: RawMessage = dataclasses.field(repr=False)

    async def in_progress(self) -> None:
        """Tell the server the handler is still working, resetting the ack wait (best effort: failures are logged)."""
        try:
            await self.raw.in_progress()
        except Exception as exc:  # a lost heartbeat only risks a redelivery, which handlers tolerate
            log.warning("in_progress on %s (%s) failed: %s", self.subject, self.msg_id, exc)

    @contextlib.asynccontextmanager
    async def heartbeats(self, every_s: float) -> AsyncIterator[None]:
        """Send ``in_progress()`` every ``every_s`` seconds while the block runs (pick a third of the ack wait)."""

        async def beat() -> None:
            while True:
                await asyncio.sleep(every_s)
                await self.in_progress()

        task = asyncio.create_task(beat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


Handler = Callable[[Delivery], Awaitable[None]]


@dataclasses.dataclass(frozen=True)
class ConsumerState:
    """Where a durable consumer stands: ``pending`` not yet delivered, ``ack_pending`` delivered and not yet acked
    or termed (in a handler, or naked and waiting for redelivery)."""

    pending: int
    ack_pending: int


@dataclasses.dataclass(frozen=True)
class ConsumerOptions:
    """How one durable consumer delivers and retries.

    ``max_deliver`` bounds deliveries (a message failing on the last one is termed); a nak waits
    ``retry_delay_s * 2**(n-1)`` capped at ``max_retry_delay_s``; ``fetch_wait_s`` bounds how long ``stop()``
    waits for an outstanding pull.
    """

    ack_wait_s: float = 30.0
    max_deliver: int = 10
    concurrency: int = 1
    retry_delay_s: float = 1.0
    max_retry_delay_s: float = 60.0
    fetch_wait_s: float = 1.0
    ordered: bool = True  # at most ``concurrency`` outstanding at the server (False for a shared work queue)

    def __post_init__(self) -> None:
        if self.ack_wait_s <= 0 or self.concurrency < 1 or self.max_deliver == 0 or self.fetch_wait_s <= 0:
            raise ValueError(f"invalid consumer options {self}")


class Subscription(Protocol):
    """A running fetch loop on one durable consumer."""

    durable: str

    @property
    def running(self) -> bool: ...

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop fetching, let in-flight handlers finish and ack (cancel them after ``grace_s``), unbind."""
        ...

    async def wait(self) -> None:
        """Return when the subscription stopped; raise SubscriptionFailed if a handler's error stopped it."""
        ...


class Bus(Protocol):
    """Publish events and jobs, consume them through durable consumers."""

    async def ensure_streams(self) -> None:
        """Create or update every stream of the layout (idempotent)."""
        ...

    async def publish(self, subject: str, payload: Mapping[str, Any], msg_id: str) -> bool:
        """Store ``payload`` on ``subject`` with ``Nats-Msg-Id: msg_id``; False if the server dropped a duplicate."""
        ...

    async def subscribe(
        self,
        subject_filter: str | Sequence[str],
        durable: str,
        handler: Handler,
        *,
        queue: bool = False,
        ack_wait_s: float = 30.0,
        max_deliver: int = 10,
        concurrency: int = 1,
        retry_delay_s: float = 1.0,
        metrics: Metrics | None = None,
    ) -> Subscription:
        """Start delivering messages matching the filter(s) through durable consumer ``durable``.

        ``queue=True`` shares the durable between subscribers (a work queue: each message goes to one of them);
        it is required on a work-queue stream, and without it a second subscriber on the same durable in this
        process is refused. See ``ConsumerOptions`` for the other settings.
        """
        ...

    async def consumer_state(self, stream: str, durable: str) -> ConsumerState:
        """The durable's counts; for a durable not yet created, every message of the stream is pending."""
        ...

    async def close(self) -> None:
        """Stop every subscription gracefully, then drain and close the connection."""
        ...
