"""``JetStreamBus``: the ``Bus`` over a real nats-server (nats-py), with pull consumers and a fetch loop we own."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api

from zkpot.bus.api import ConsumerOptions, ConsumerState, RawMessage, Source
from zkpot.bus.base import BaseBus
from zkpot.bus.errors import BusError, BusUnavailable
from zkpot.bus.subjects import LAYOUT, Layout, Retention, StreamSpec

log = logging.getLogger("zkpot.bus")
MSG_ID = "Nats-Msg-Id"
_TRANSIENT = (nats.errors.TimeoutError, nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
              nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError)


class JetStreamBus(BaseBus):
    """The bus over one NATS connection; ``connect()`` makes one that reconnects forever."""

    def __init__(self, nc: Client, layout: Layout = LAYOUT, *, ack_timeout_s: float = 5.0,
                 fetch_wait_s: float = 1.0) -> None:
        super().__init__(layout)
        self.nc = nc
        self.js = nc.jetstream()
        self.fetch_wait_s = fetch_wait_s
        self._ack_timeout_s = ack_timeout_s

    @classmethod
    async def connect(cls, url: str, *, name: str = "zkpot", layout: Layout = LAYOUT, fetch_wait_s: float = 1.0,
                      timeout_s: float = 30.0) -> JetStreamBus:
        """Connect to ``url``, trying for ``timeout_s`` (BusUnavailable after that); once connected it reconnects
        forever. ``fetch_wait_s`` is how long one pull waits on the server, so also how long ``close()`` may take.
        """
        nc = Client()
        try:
            await asyncio.wait_for(
                nc.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=1, connect_timeout=5,
                           error_cb=_log_error, disconnected_cb=_log_disconnect, reconnected_cb=_log_reconnect),
                timeout_s)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            await nc.close()
            raise BusUnavailable(f"cannot connect to NATS at {url} within {timeout_s}s: {exc!r}") from exc
        return cls(nc, layout, fetch_wait_s=fetch_wait_s)

    async def ensure_streams(self) -> None:
        for spec in self.layout.streams:
            with _mapped_errors(f"create or update stream {spec.name}"):
                try:
                    await self.js.stream_info(spec.name)
                except nats.js.errors.NotFoundError:
                    await self.js.add_stream(stream_config(spec))
                else:
                    await self.js.update_stream(stream_config(spec))

    async def consumer_state(self, stream: str, durable: str) -> ConsumerState:
        with _mapped_errors(f"state of consumer {stream}/{durable}"):
            try:
                info = await self.js.consumer_info(stream, durable)
                return ConsumerState(info.num_pending or 0, info.num_ack_pending or 0)
            except nats.js.errors.NotFoundError:
                return ConsumerState((await self.js.stream_info(stream)).state.messages, 0)

    async def close(self) -> None:
        if self._closed:
            return
        await self.stop_subscriptions()
        self._closed = True
        if self.nc.is_connected:
            await self.nc.drain()
        elif not self.nc.is_closed:
            await self.nc.close()

    async def _store(self, stream: StreamSpec, subject: str, data: bytes, msg_id: str) -> bool:
        with _mapped_errors(f"publish on {subject}"):
            ack = await self.js.publish(subject, data, stream=stream.name, headers={MSG_ID: msg_id})
        return not ack.duplicate

    async def _bind(self, stream: StreamSpec, filters: tuple[str, ...], durable: str,
                    options: ConsumerOptions) -> Source:
        with _mapped_errors(f"create consumer {durable} on {stream.name}"):
            await self.js.add_consumer(stream.name, consumer_config(durable, filters, options))
            sub = await self.js.pull_subscribe_bind(durable=durable, stream=stream.name)
        return _PullSource(self.nc, sub, self._ack_timeout_s)


@contextlib.contextmanager
def _mapped_errors(doing: str) -> Iterator[None]:
    """Turn nats-py's exceptions into the bus's: BusUnavailable (retry later) or BusError (misconfiguration)."""
    try:
        yield
    except nats.js.errors.NoStreamResponseError as exc:
        raise BusUnavailable(f"{doing}: no stream answered (has ensure_streams() run?)") from exc
    except _TRANSIENT as exc:
        raise BusUnavailable(f"{doing}: {exc}") from exc
    except nats.js.errors.APIError as exc:
        raise BusError(f"{doing}: {exc.description}") from exc


def stream_config(spec: StreamSpec) -> api.StreamConfig:
    """The JetStream configuration of one stream of the layout (file storage, dedupe window)."""
    retention = api.RetentionPolicy.WORK_QUEUE if spec.retention is Retention.WORK_QUEUE else api.RetentionPolicy.LIMITS
    return api.StreamConfig(name=spec.name, description=spec.description, subjects=list(spec.patterns),
                            retention=retention, storage=api.StorageType.FILE,
                            duplicate_window=spec.duplicate_window_s)


def consumer_config(durable: str, filters: tuple[str, ...], options: ConsumerOptions) -> api.ConsumerConfig:
    """A durable pull consumer with explicit acks, starting at the first message of the stream.

    Unless it is a shared work queue, at most ``concurrency`` messages are outstanding: with 1, the consumer is a
    strict in-order state machine even across crashes (a message in flight when its consumer died is redelivered,
    after ``ack_wait``, before any later one) — validators need that, since "one tx per member per round" depends
    on the order txs are judged in.
    """
    return api.ConsumerConfig(name=durable, durable_name=durable, ack_policy=api.AckPolicy.EXPLICIT,
                              deliver_policy=api.DeliverPolicy.ALL, ack_wait=options.ack_wait_s,
                              max_deliver=options.max_deliver, filter_subjects=list(filters),
                              max_ack_pending=options.concurrency if options.ordered else None)


class _PullSource:
    def __init__(self, nc: Client, sub: Any, ack_timeout_s: float) -> None:
        self._nc = nc
        self._sub = sub
        self._ack_timeout_s = ack_timeout_s

    async def fetch(self, batch: int, wait_s: float) -> list[RawMessage]:
        try:
            msgs = await self._sub.fetch(batch, timeout=wait_s)
        except nats.errors.TimeoutError:
            return []
        return [_JsMessage(self._nc, m, self._ack_timeout_s) for m in msgs]

    async def close(self) -> None:
        if not self._nc.is_closed:
            await self._sub.unsubscribe()


class _JsMessage:
    """A nats-py message seen as a ``RawMessage``; ack, nak and term wait for the server's confirmation."""

    def __init__(self, nc: Client, msg: Msg, ack_timeout_s: float) -> None:
        self._nc = nc
        self._msg = msg
        self._ack_timeout_s = ack_timeout_s
        self.subject = msg.subject
        self.data = msg.data
        self.num_delivered = msg.metadata.num_delivered
        self.msg_id = (msg.headers or {}).get(MSG_ID)

    async def ack(self) -> None:
        await self._confirm(Msg.Ack.Ack)

    async def nak(self, delay_s: float | None) -> None:
        delay = f' {{"delay": {int(delay_s * 1e9)}}}'.encode() if delay_s else b""
        await self._confirm(Msg.Ack.Nak + delay)

    async def term(self) -> None:
        await self._confirm(Msg.Ack.Term)

    async def in_progress(self) -> None:
        await self._msg.in_progress()

    async def _confirm(self, body: bytes) -> None:
        """Send an acknowledgement and wait until the server has processed it (it replies when asked to)."""
        await self._nc.request(self._msg.reply, body, timeout=self._ack_timeout_s)


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s", exc)


async def _log_disconnect() -> None:
    log.warning("nats: disconnected")


async def _log_reconnect() -> None:
    log.info("nats: reconnected")
