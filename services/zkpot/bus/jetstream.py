"""``JetStreamBus``: the ``Bus`` over a real nats-server (nats-py), with pull consumers and a fetch loop we own."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import api

from zkpot.bus.api import ConsumerOptions, ConsumerState, RawMessage, Source
from zkpot.bus.base import BaseBus
from zkpot.bus.errors import BusError, BusUnavailable, MessageIdTaken, NotPermitted, NotProvisioned
from zkpot.bus.msgid import logical_id
from zkpot.bus.parties import ConsumerSpec
from zkpot.bus.permissions import inbox_prefix
from zkpot.bus.subjects import LAYOUT, Layout, Retention, StreamSpec

log = logging.getLogger("zkpot.bus")
MSG_ID = "Nats-Msg-Id"
_TRANSIENT = (nats.errors.TimeoutError, nats.errors.ConnectionClosedError, nats.errors.ConnectionReconnectingError,
              nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_MS = datetime.timedelta(milliseconds=1)


class JetStreamBus(BaseBus):
    """The bus over one NATS connection; ``connect()`` makes one that reconnects forever.

    ``manage``: this client may create and update streams and consumers (the operator, or a test server without
    authentication). Otherwise it only binds to what the operator provisioned, and a missing or different stream
    or consumer is a ``NotProvisioned`` error naming it.
    """

    def __init__(self, nc: Client, layout: Layout = LAYOUT, *, ack_timeout_s: float = 5.0,
                 fetch_wait_s: float = 1.0, manage: bool = True) -> None:
        super().__init__(layout)
        self.nc = nc
        self.js = nc.jetstream()
        self.fetch_wait_s = fetch_wait_s
        self.manage = manage
        self._ack_timeout_s = ack_timeout_s
        self._errors = _Errors()

    @contextlib.contextmanager
    def mapped(self, doing: str) -> Iterator[None]:
        """``_mapped_errors``, and a request the server refused for lack of permission (it only says so in an
        asynchronous error, and the request times out) becomes NotPermitted instead of BusUnavailable."""
        mark = self._errors.count
        try:
            with _mapped_errors(doing):
                yield
        except BusUnavailable as exc:
            refused = self._errors.violations_since(mark)
            if refused:
                raise NotPermitted(f"{doing}: the server refused it ({refused[-1]}); this identity's NATS "
                                   "permissions (zkpot.bus.permissions) do not allow it") from exc
            raise

    @classmethod
    async def connect(cls, url: str, *, name: str = "zkpot", layout: Layout = LAYOUT, fetch_wait_s: float = 1.0,
                      timeout_s: float = 30.0, nkey_file: str | Path | None = None, ca_file: str | Path | None = None,
                      manage: bool | None = None) -> JetStreamBus:
        """Connect to ``url``, trying for ``timeout_s`` (BusUnavailable after that); once connected it reconnects
        forever. ``fetch_wait_s`` is how long one pull waits on the server, so also how long ``close()`` may take.

        ``nkey_file``: this party's NATS nkey seed; replies then come under its own inbox prefix
        (``_INBOX.<public nkey>``, the only subjects its permissions let it subscribe to). ``ca_file``: the CA that
        signed the server's certificate (``tls://`` URLs). ``manage`` defaults to True only without an nkey.
        """
        options: dict[str, Any] = {}
        if nkey_file is not None:
            options.update(nkeys_seed=str(nkey_file), inbox_prefix=inbox_prefix(public_nkey(nkey_file)).encode())
        if ca_file is not None or url.startswith("tls://"):
            options["tls"] = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        nc, errors = Client(), _Errors()
        try:
            await asyncio.wait_for(
                nc.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=1, connect_timeout=5,
                           error_cb=errors.record, disconnected_cb=_log_disconnect, reconnected_cb=_log_reconnect,
                           **options),
                timeout_s)
        except (TimeoutError, OSError, nats.errors.Error) as exc:
            await nc.close()
            said = f" (the server said: {errors.refusal or errors.last})" if errors.last else ""
            raise BusUnavailable(f"cannot connect to NATS at {url} within {timeout_s}s: {exc!r}{said}") from exc
        bus = cls(nc, layout, fetch_wait_s=fetch_wait_s, manage=nkey_file is None if manage is None else manage)
        bus._errors = errors
        return bus

    async def ensure_streams(self) -> None:
        """Create or update the layout's streams where this client may; otherwise check they are as the layout
        says (NotProvisioned naming the first that is missing or differs)."""
        for spec in self.layout.streams:
            want = stream_config(spec)
            with self.mapped(f"create or update stream {spec.name}"):
                try:
                    info = await self.js.stream_info(spec.name)
                except nats.js.errors.NotFoundError:
                    self._may_change(f"stream {spec.name} does not exist")
                    await self.js.add_stream(want)
                    continue
                if not stream_matches(info.config, want):
                    self._may_change(f"stream {spec.name} differs from the layout")
                    await self.js.update_stream(want)

    def _may_change(self, problem: str) -> None:
        if not self.manage:
            raise NotProvisioned(f"{problem}, and this identity may not change it: the operator runs "
                                 "`zkpot nats provision`")
    async def consumer_state(self, stream: str, durable: str) -> ConsumerState:
        with self.mapped(f"state of consumer {stream}/{durable}"):
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
        with self.mapped(f"publish on {subject}"):
            ack = await self.js.publish(subject, data, stream=stream.name, headers={MSG_ID: msg_id})
        if ack.duplicate:
            await self._check_duplicate(stream, ack.seq, subject, data, msg_id)
        return not ack.duplicate

    async def _check_duplicate(self, stream: StreamSpec, seq: int, subject: str, data: bytes, msg_id: str) -> None:
        """The server kept an earlier message under ``msg_id`` (its PubAck names that one's sequence): raise
        MessageIdTaken unless it is this very message. Work-queue messages may be gone once acked, and a client
        without the right to read the stream cannot look; both are left unchecked (the id binds the content)."""
        if stream.retention is not Retention.LIMITS or not seq:
            return
        try:
            stored = await self.js.get_msg(stream.name, seq=seq)
        except (nats.errors.Error, nats.js.errors.Error, TimeoutError) as exc:
            log.debug("duplicate %s on %s not checked: %s", msg_id, subject, exc)
            return
        if (stored.subject, stored.data, (stored.headers or {}).get(MSG_ID)) != (subject, data, msg_id):
            raise MessageIdTaken(f"{stream.name} holds another message (seq {seq}, subject {stored.subject}) under "
                                 f"the id {msg_id!r} of this one on {subject}")

    async def _bind(self, stream: StreamSpec, filters: tuple[str, ...], durable: str,
                    options: ConsumerOptions) -> Source:
        want = ConsumerSpec.of(stream.name, durable, filters, options)
        with self.mapped(f"bind consumer {durable} on {stream.name}"):
            try:
                info = await self.js.consumer_info(stream.name, durable)
            except nats.js.errors.NotFoundError:
                self._may_change_consumer(want, "does not exist")
                await self.js.add_consumer(stream.name, consumer_config(durable, filters, options))
            else:
                if not consumer_matches(info.config, want):
                    self._may_change_consumer(want, f"differs from what this service subscribes with ({want})")
                    await self.js.add_consumer(stream.name, consumer_config(durable, filters, options))
            sub = await self.js.pull_subscribe_bind(durable=durable, stream=stream.name)
        return _PullSource(self.nc, sub, self._ack_timeout_s)

    def _may_change_consumer(self, want: ConsumerSpec, problem: str) -> None:
        if not self.manage:
            raise NotProvisioned(f"durable consumer {want.durable} on {want.stream} {problem}; only the operator "
                                 "creates consumers: run `zkpot nats provision` (zkpot.bus.parties.consumer_plan "
                                 "must list it)")

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


def stream_matches(have: api.StreamConfig, want: api.StreamConfig) -> bool:
    """True if the server's stream already has the settings the layout gives it."""
    return (sorted(have.subjects or []) == sorted(want.subjects or []) and have.retention == want.retention
            and have.storage == want.storage and have.duplicate_window == want.duplicate_window
            and (have.description or "") == (want.description or ""))


def consumer_matches(have: api.ConsumerConfig, want: ConsumerSpec) -> bool:
    """True if the server's consumer delivers as ``want`` says (filters, ack wait, deliveries, pending bound)."""
    filters = have.filter_subjects or ([have.filter_subject] if have.filter_subject else [])
    return (sorted(filters) == sorted(want.filters) and have.ack_policy == api.AckPolicy.EXPLICIT
            and have.deliver_policy == api.DeliverPolicy.ALL and have.ack_wait == want.ack_wait_s
            and have.max_deliver == want.max_deliver
            and (want.max_ack_pending is None or have.max_ack_pending == want.max_ack_pending))


def spec_config(spec: ConsumerSpec) -> api.ConsumerConfig:
    """The JetStream configuration of a planned consumer (what ``consumer_config`` gives its subscriber)."""
    return api.ConsumerConfig(name=spec.durable, durable_name=spec.durable, ack_policy=api.AckPolicy.EXPLICIT,
                              deliver_policy=api.DeliverPolicy.ALL, ack_wait=spec.ack_wait_s,
                              max_deliver=spec.max_deliver, filter_subjects=list(spec.filters),
                              max_ack_pending=spec.max_ack_pending)


def public_nkey(seed_file: str | Path) -> str:
    """The public nkey (``U...``) of the seed in ``seed_file``; BusError if it holds no user seed."""
    import nkeys

    try:
        kp = nkeys.from_seed(bytearray(Path(seed_file).read_bytes().strip()))
    except OSError as exc:
        raise BusError(f"cannot read the NATS nkey seed file {seed_file}: {exc.strerror}") from exc
    except Exception as exc:  # nkeys raises its own errors, and binascii's on garbage
        raise BusError(f"{seed_file} holds no NATS nkey seed ({type(exc).__name__})") from exc
    try:
        return bytes(kp.public_key).decode()
    finally:
        kp.wipe()


def consumer_config(durable: str, filters: tuple[str, ...], options: ConsumerOptions) -> api.ConsumerConfig:
    """A durable pull consumer with explicit acks, starting at the first message of the stream.

    Unless it is a shared work queue, at most ``concurrency`` messages are outstanding: with 1, the consumer is a
    strict in-order state machine even across crashes (a message in flight when its consumer died is redelivered,
    after ``ack_wait``, before any later one) — validators need that, since "one tx per member per round" depends
    on the order txs are judged in.
    """
    return spec_config(ConsumerSpec.of("", durable, filters, options))


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
        self.msg_id = logical_id((msg.headers or {}).get(MSG_ID))
        self.stored_ms = unix_ms(msg.metadata.timestamp)

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


def unix_ms(when: datetime.datetime) -> int:
    """A timezone-aware time as whole Unix milliseconds (exact: no float). nats-py gives a JetStream message's
    store time, the ack subject's nanoseconds, as ``metadata.timestamp``, an aware UTC datetime."""
    return (when - _EPOCH) // _MS


class _Errors:
    """The connection's asynchronous errors: logged, and permission violations kept for ``JetStreamBus.mapped``."""

    def __init__(self) -> None:
        self.count = 0
        self.last = ""
        self.refusal = ""  # the server's own "authorization violation": a reset that follows it must not hide it
        self._violations: list[tuple[int, str]] = []

    async def record(self, exc: Exception) -> None:
        log.warning("nats: %s", exc)
        self.count += 1
        self.last = str(exc)
        if "authorization violation" in self.last.lower():
            self.refusal = self.last
        if "permissions violation" in self.last.lower():
            self._violations = [*self._violations[-9:], (self.count, self.last)]

    def violations_since(self, mark: int) -> list[str]:
        return [text for n, text in self._violations if n > mark]


async def _log_disconnect() -> None:
    log.warning("nats: disconnected")


async def _log_reconnect() -> None:
    log.info("nats: reconnected")
