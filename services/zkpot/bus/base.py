"""What both buses share: argument checks against the layout, the subscription registry, close()."""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from zkpot.bus.api import ConsumerOptions, Handler, Source
from zkpot.bus.codec import encode
from zkpot.bus.errors import BusError
from zkpot.bus.msgid import bound_id
from zkpot.bus.runner import Runner
from zkpot.bus.subjects import LAYOUT, Layout, Retention, StreamSpec
from zkpot.bus.wildcards import check_durable, check_subject
from zkpot.metrics import Metrics


class BaseBus(abc.ABC):
    """A ``Bus`` whose transport supplies ``_store`` (publish) and ``_bind`` (a durable consumer)."""

    fetch_wait_s = 1.0

    def __init__(self, layout: Layout = LAYOUT) -> None:
        self.layout = layout
        self._runners: dict[str, list[Runner]] = {}  # by durable
        self._shared: dict[str, bool] = {}  # durable -> subscribed with queue=True
        self._closed = False

    @abc.abstractmethod
    async def _store(self, stream: StreamSpec, subject: str, data: bytes, msg_id: str) -> bool:
        """Store one message under the wire id ``msg_id``; False if it was a duplicate of that very message,
        MessageIdTaken if the server holds another message under that id."""

    @abc.abstractmethod
    async def _bind(self, stream: StreamSpec, filters: tuple[str, ...], durable: str,
                    options: ConsumerOptions) -> Source:
        """Create or update the durable consumer and bind to it."""

    async def publish(self, subject: str, payload: Mapping[str, Any], msg_id: str) -> bool:
        """Publish under the logical id ``msg_id``; the wire id binds it to the bytes (``zkpot.bus.msgid``)."""
        return await self.publish_bytes(subject, encode(payload), msg_id)

    async def publish_bytes(self, subject: str, data: bytes, msg_id: str, *, exact_id: bool = False) -> bool:
        """Publish ``data`` as is: for tools and tests that play a misbehaving peer; services use ``publish``.

        ``exact_id`` sends ``msg_id`` itself as the wire id, as a peer squatting an id would.
        """
        self._check_open()
        check_subject(subject, wildcards=False)
        if not isinstance(msg_id, str) or not msg_id:
            raise ValueError("msg_id must be a non-empty string (the entity id)")
        stream = self.layout.stream_for(subject)
        if stream is None:
            raise BusError(f"no stream stores subject {subject!r}; add it to zkpot.bus.subjects")
        return await self._store(stream, subject, data, msg_id if exact_id else bound_id(msg_id, subject, data))

    async def subscribe(self, subject_filter: str | Sequence[str], durable: str, handler: Handler, *,
                        queue: bool = False, ack_wait_s: float = 30.0, max_deliver: int = 10,
                        concurrency: int = 1, retry_delay_s: float = 1.0,
                        metrics: Metrics | None = None) -> Runner:
        self._check_open()
        filters = (subject_filter,) if isinstance(subject_filter, str) else tuple(subject_filter)
        if not filters:
            raise ValueError("at least one subject filter is needed")
        for f in filters:
            check_subject(f, wildcards=True)
        stream = self.layout.stream_for_filters(filters)
        self._check_sharing(stream, check_durable(durable), queue)
        options = ConsumerOptions(ack_wait_s, max_deliver, concurrency, retry_delay_s, fetch_wait_s=self.fetch_wait_s,
                                  ordered=not queue)
        source = await self._bind(stream, filters, durable, options)
        runner = Runner(source, durable, handler, options, metrics, self._forget)
        self._runners.setdefault(durable, []).append(runner)
        self._shared[durable] = queue
        return runner

    def _check_sharing(self, stream: StreamSpec, durable: str, queue: bool) -> None:
        """A durable is shared only by subscribers that all said queue=True (durable names are per process)."""
        if stream.retention is Retention.WORK_QUEUE and not queue:
            raise ValueError(f"{stream.name} is a work queue: subscribe with queue=True and one shared durable")
        if self._runners.get(durable) and not (queue and self._shared[durable]):
            raise ValueError(f"durable {durable!r} already has a subscriber; subscribe both with queue=True")

    async def _forget(self, runner: Runner) -> None:
        runners = self._runners.get(runner.durable, [])
        if runner in runners:
            runners.remove(runner)

    async def stop_subscriptions(self) -> None:
        """Stop every subscription of this bus gracefully (in-flight handlers finish and are acknowledged)."""
        runners = [r for rs in self._runners.values() for r in rs]
        await asyncio.gather(*(r.stop() for r in runners))

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("the bus is closed")
