"""The fetch loop of one subscription, shared by both buses: pull, dispatch up to ``concurrency`` at once, stop.

Stopping is graceful: no new pull is made, messages pulled after the stop are naked at once (so another
subscriber gets them without waiting for the ack wait), in-flight handlers finish and are acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from zkpot.bus.api import ConsumerOptions, Handler, RawMessage, Source
from zkpot.bus.dispatch import dispatch
from zkpot.bus.errors import SubscriptionFailed
from zkpot.metrics import Metrics

log = logging.getLogger("zkpot.bus")
FETCH_ERROR_PAUSE_S = 0.5


class Runner:
    """A running ``Subscription`` over a ``Source``; ``on_stopped`` is called once when it has stopped."""

    def __init__(self, source: Source, durable: str, handler: Handler, options: ConsumerOptions,
                 metrics: Metrics | None, on_stopped: Callable[[Runner], Awaitable[None]] | None = None) -> None:
        self.durable = durable
        self._source = source
        self._handler = handler
        self._options = options
        self._metrics = metrics
        self._on_stopped = on_stopped
        self._stopping = asyncio.Event()
        self._stopped = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._error: SubscriptionFailed | None = None
        self._task = asyncio.create_task(self._run(), name=f"zkpot-bus:{durable}")

    @property
    def running(self) -> bool:
        return not self._stopped.is_set()

    async def stop(self, grace_s: float | None = None) -> None:
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._stopped.wait()), grace_s)
        except TimeoutError:
            log.warning("%s: handlers still running after %.1fs, cancelling them", self.durable, grace_s)
            for task in list(self._inflight):
                task.cancel()
            await self._stopped.wait()

    async def wait(self) -> None:
        await self._stopped.wait()
        if self._error is not None:
            raise self._error

    async def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                await self._wait_for_slot()
                if self._stopping.is_set():
                    break
                for raw in await self._fetch(self._options.concurrency - len(self._inflight)):
                    await self._start(raw)
        except Exception as exc:  # a bug in the loop: stop visibly rather than go quiet
            log.exception("%s: the fetch loop crashed", self.durable)
            self._fail(SubscriptionFailed(f"{self.durable}: the fetch loop crashed: {exc!r}"), exc)
        finally:
            await self._finish()

    async def _wait_for_slot(self) -> None:
        while len(self._inflight) >= self._options.concurrency:
            await asyncio.wait(self._inflight, return_when=asyncio.FIRST_COMPLETED)

    async def _fetch(self, batch: int) -> list[RawMessage]:
        try:
            return await self._source.fetch(batch, self._options.fetch_wait_s)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            exc_name = "a pull cancelled inside the client"  # nats-py cancels pending pulls when a connection ends
        except Exception as exc:  # connection lost, server restarting: the client reconnects, we pull again
            exc_name = f"{type(exc).__name__}: {exc}"
        log.warning("%s: fetch failed (%s), retrying", self.durable, exc_name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), FETCH_ERROR_PAUSE_S)
        return []

    async def _start(self, raw: RawMessage) -> None:
        if self._stopping.is_set():
            with contextlib.suppress(Exception):
                await raw.nak(None)
            return
        task = asyncio.create_task(self._handle(raw))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _handle(self, raw: RawMessage) -> None:
        verdict, error = await dispatch(raw, self._handler, self._options, self._metrics, self.durable)
        if verdict.stop:
            self._fail(SubscriptionFailed(f"{self.durable}: handler failed on {raw.subject}: {error}"), error)

    def _fail(self, error: SubscriptionFailed, cause: BaseException | None) -> None:
        """Record the first failure (``wait()`` raises it) and stop."""
        if self._error is None:
            error.__cause__ = cause
            self._error = error
        self._stopping.set()

    async def _finish(self) -> None:
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        try:
            await self._source.close()
        except Exception as exc:
            log.warning("%s: closing the consumer binding failed: %s", self.durable, exc)
        self._stopped.set()
        if self._on_stopped is not None:
            await self._on_stopped(self)
