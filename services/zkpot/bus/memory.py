"""``MemoryBus``: an in-process fake of JetStream with the same semantics, for unit tests of services.

It keeps what the contract test checks on both buses: dedupe by msg id within the window, durable cursors that
survive a re-subscribe, redelivery after nak (with delay) and after the ack wait, in_progress, term, max_deliver,
work-queue removal on ack, one consumer per work-queue stream, the store time (``wall_clock``) on every delivery.
``published()`` lists what was published.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from zkpot.bus.api import ConsumerOptions, ConsumerState, RawMessage, Source
from zkpot.bus.base import BaseBus
from zkpot.bus.codec import decode
from zkpot.bus.errors import BusError, BusUnavailable, MessageIdTaken
from zkpot.bus.msgid import logical_id
from zkpot.bus.subjects import LAYOUT, Layout, Retention, StreamSpec
from zkpot.bus.wildcards import collide, matches


@dataclasses.dataclass(frozen=True)
class Published:
    """One message the fake stored, in publish order; ``wire_id`` is its Nats-Msg-Id, ``msg_id`` the logical id,
    ``stored_ms`` when it was stored (Unix ms)."""

    stream: str
    seq: int
    subject: str
    data: bytes
    wire_id: str
    stored_ms: int

    @property
    def msg_id(self) -> str:
        return logical_id(self.wire_id) or self.wire_id

    @property
    def payload(self) -> dict[str, Any]:
        """The decoded payload; MalformedMessage if raw bytes that are not a JSON object were published."""
        return decode(self.data)


@dataclasses.dataclass
class _Stream:
    spec: StreamSpec
    messages: dict[int, Published] = dataclasses.field(default_factory=dict)
    seen: dict[str, tuple[float, Published]] = dataclasses.field(default_factory=dict)  # wire id -> (time, msg)
    last_seq: int = 0
    consumers: dict[str, _Consumer] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class _Pending:
    deliveries: int
    due: float  # when it is redelivered unless acked (ack wait, or nak delay)


@dataclasses.dataclass
class _Consumer:
    stream: _Stream
    filters: tuple[str, ...]
    options: ConsumerOptions
    cursor: int = 0  # last stream seq delivered for the first time
    pending: dict[int, _Pending] = dataclasses.field(default_factory=dict)

    def selects(self, subject: str) -> bool:
        return any(matches(f, subject) for f in self.filters)

    def take(self, batch: int) -> list[tuple[Published, int]]:
        """Up to ``batch`` (message, delivery count): due redeliveries first, then new messages."""
        now, out = time.monotonic(), list[tuple[Published, int]]()
        for seq in sorted(s for s, p in self.pending.items() if p.due <= now):
            p = self.pending[seq]
            if seq not in self.stream.messages or 0 < self.options.max_deliver <= p.deliveries:
                del self.pending[seq]  # gone (work queue) or out of deliveries: never redelivered
            elif len(out) < batch:
                out.append(self._deliver(seq, p.deliveries + 1))
        for seq in sorted(s for s in self.stream.messages if s > self.cursor):
            if len(out) >= batch:
                break
            self.cursor = seq
            if self.selects(self.stream.messages[seq].subject):
                out.append(self._deliver(seq, 1))
        return out

    def _deliver(self, seq: int, n: int) -> tuple[Published, int]:
        self.pending[seq] = _Pending(n, time.monotonic() + self.options.ack_wait_s)
        return self.stream.messages[seq], n

    def next_due(self) -> float | None:
        return min((p.due for p in self.pending.values()), default=None)

    def settle(self, seq: int, *, remove: bool, due_in: float | None = None) -> None:
        if seq not in self.pending:
            return
        if due_in is not None:
            self.pending[seq].due = time.monotonic() + due_in
            return
        del self.pending[seq]
        if remove and self.stream.spec.retention is Retention.WORK_QUEUE:
            self.stream.messages.pop(seq, None)

    def undelivered(self) -> int:
        return sum(1 for s, m in self.stream.messages.items() if s > self.cursor and self.selects(m.subject))


@dataclasses.dataclass
class _Server:
    """The state a real nats-server would hold, shared by every ``MemoryBus`` made with ``peer()``."""

    clock: Callable[[], float]
    wall_clock: Callable[[], float]
    streams: dict[str, _Stream] = dataclasses.field(default_factory=dict)
    log: list[Published] = dataclasses.field(default_factory=list)
    changed: asyncio.Condition = dataclasses.field(default_factory=asyncio.Condition)


class MemoryBus(BaseBus):
    """The fake bus; ``clock`` (monotonic seconds) only drives the dedupe window, ``wall_clock`` (Unix seconds)
    only stamps each stored message's ``stored_ms``; the rest waits in real time."""

    fetch_wait_s = 0.05

    def __init__(self, layout: Layout = LAYOUT, *, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time, _server: _Server | None = None) -> None:
        super().__init__(layout)
        self._server = _server or _Server(clock, wall_clock)
        self._streams = self._server.streams
        self._changed = self._server.changed

    def peer(self) -> MemoryBus:
        """Another client of the same fake server (as a second process would connect to nats-server)."""
        return MemoryBus(self.layout, _server=self._server)

    async def ensure_streams(self) -> None:
        for spec in self.layout.streams:
            if spec.name in self._streams:
                self._streams[spec.name].spec = spec
            else:
                self._streams[spec.name] = _Stream(spec)

    def published(self, subject_filter: str = ">") -> list[Published]:
        """Every message stored so far (duplicates excluded) whose subject matches the filter."""
        return [p for p in self._server.log if matches(subject_filter, p.subject)]

    async def consumer_state(self, stream: str, durable: str) -> ConsumerState:
        s = self._stream(stream)
        consumer = s.consumers.get(durable)
        if consumer is None:
            return ConsumerState(len(s.messages), 0)
        return ConsumerState(consumer.undelivered(), len(consumer.pending))

    async def close(self) -> None:
        if not self._closed:
            await self.stop_subscriptions()
            self._closed = True

    async def _store(self, stream: StreamSpec, subject: str, data: bytes, msg_id: str) -> bool:
        s = self._stream(stream.name)
        now = self._server.clock()
        earlier = s.seen.get(msg_id)
        if earlier is not None and now - earlier[0] < stream.duplicate_window_s:
            held = earlier[1]
            if (held.subject, held.data) != (subject, data):
                raise MessageIdTaken(f"{stream.name} holds another message (seq {held.seq}, subject {held.subject}) "
                                     f"under the id {msg_id!r} of this one on {subject}")
            return False
        s.last_seq += 1
        record = Published(stream.name, s.last_seq, subject, data, msg_id, int(self._server.wall_clock() * 1000))
        s.seen[msg_id] = (now, record)
        s.messages[s.last_seq] = record
        self._server.log.append(record)
        await self._notify()
        return True

    async def _bind(self, stream: StreamSpec, filters: tuple[str, ...], durable: str,
                    options: ConsumerOptions) -> Source:
        s = self._stream(stream.name)
        if stream.retention is Retention.WORK_QUEUE:
            for name, other in s.consumers.items():
                if name != durable and any(collide(a, b) for a in filters for b in other.filters):
                    raise BusError(f"work queue {stream.name}: consumer {name} already takes {other.filters}")
        consumer = s.consumers.get(durable)
        if consumer is None:
            consumer = s.consumers[durable] = _Consumer(s, filters, options)
        consumer.filters, consumer.options = filters, options
        return _MemSource(self, consumer)

    def _stream(self, name: str) -> _Stream:
        if name not in self._streams:
            raise BusUnavailable(f"stream {name} does not exist (has ensure_streams() run?)")
        return self._streams[name]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait_change(self, timeout: float) -> None:
        """Called with ``_changed`` held: wait for a publish or nak, at most ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), max(timeout, 0))


class _MemSource:
    def __init__(self, bus: MemoryBus, consumer: _Consumer) -> None:
        self._bus = bus
        self._consumer = consumer

    async def fetch(self, batch: int, wait_s: float) -> list[RawMessage]:
        deadline = time.monotonic() + wait_s
        async with self._bus._changed:
            while True:
                taken = self._consumer.take(batch)
                now = time.monotonic()
                if taken or now >= deadline:
                    return [_MemMessage(self._bus, self._consumer, p, n) for p, n in taken]
                due = self._consumer.next_due()
                await self._bus._wait_change(min(deadline, due if due is not None else deadline) - now)

    async def close(self) -> None:
        return None


class _MemMessage:
    def __init__(self, bus: MemoryBus, consumer: _Consumer, record: Published, n: int) -> None:
        self._bus = bus
        self._consumer = consumer
        self._seq = record.seq
        self.subject = record.subject
        self.data = record.data
        self.num_delivered = n
        self.msg_id: str | None = record.msg_id
        self.stored_ms = record.stored_ms

    async def ack(self) -> None:
        self._consumer.settle(self._seq, remove=True)

    async def nak(self, delay_s: float | None) -> None:
        self._consumer.settle(self._seq, remove=False, due_in=delay_s or 0.0)
        await self._bus._notify()

    async def term(self) -> None:
        self._consumer.settle(self._seq, remove=True)

    async def in_progress(self) -> None:
        self._consumer.settle(self._seq, remove=False, due_in=self._consumer.options.ack_wait_s)
