"""The disposition mapping (pure) and dispatch over a stub message that records its acknowledgement."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from zkpot.bus.api import ConsumerOptions, Delivery
from zkpot.bus.codec import MAX_PAYLOAD_BYTES, Undecodable
from zkpot.bus.dispatch import Action, Verdict, backoff, decide, dispatch
from zkpot.bus.errors import BusUnavailable, RetryLater
from zkpot.domain import Transaction
from zkpot.domain.errors import EncodingError, MalformedMessage, ProofRejected
from zkpot.errors import InputError
from zkpot.metrics import Metrics

OPTS = ConsumerOptions(max_deliver=4, retry_delay_s=1.0, max_retry_delay_s=5.0)


@dataclasses.dataclass
class StubMessage:
    data: bytes = b'{"round": 1}'
    subject: str = "zkpot.tx.submitted"
    num_delivered: int = 1
    msg_id: str | None = "tx-1"
    stored_ms: int = 1_700_000_000_000
    sent: list[tuple[str, float | None]] = dataclasses.field(default_factory=list)
    broken: bool = False

    async def ack(self) -> None:
        self._send("ack", None)

    async def nak(self, delay_s: float | None) -> None:
        self._send("nak", delay_s)

    async def term(self) -> None:
        self._send("term", None)

    async def in_progress(self) -> None:
        self._send("wpi", None)

    def _send(self, what: str, delay: float | None) -> None:
        if self.broken:
            raise ConnectionError("connection lost")
        self.sent.append((what, delay))


@pytest.mark.parametrize(("error", "n", "expected"), [
    (None, 1, Verdict(Action.ACK)),
    (MalformedMessage("x"), 1, Verdict(Action.TERM)),
    (InputError("x"), 1, Verdict(Action.TERM)),
    (ProofRejected(), 1, Verdict(Action.TERM)),
    (EncodingError("bug"), 1, Verdict(Action.NAK, stop=True)),
    (EncodingError("bug"), 4, Verdict(Action.NAK, stop=True)),
    (RetryLater("later", delay_s=0.25), 1, Verdict(Action.NAK, 0.25)),
    (RetryLater("later"), 2, Verdict(Action.NAK, 2.0)),
    (BusUnavailable("down"), 3, Verdict(Action.NAK, 4.0)),
    (RuntimeError("boom"), 1, Verdict(Action.NAK, 1.0)),
    (RuntimeError("boom"), 4, Verdict(Action.TERM, exhausted=True)),
    (RetryLater("later"), 4, Verdict(Action.TERM, exhausted=True)),
])
def test_decide(error: Exception | None, n: int, expected: Verdict) -> None:
    assert decide(error, n, OPTS) == expected


def test_unlimited_deliveries_never_exhaust() -> None:
    assert decide(RuntimeError(), 1000, dataclasses.replace(OPTS, max_deliver=-1)).action is Action.NAK


def test_backoff_doubles_and_caps() -> None:
    assert [backoff(OPTS, n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


async def test_dispatch_acks_after_the_handler_and_counts() -> None:
    msg, metrics, order = StubMessage(), Metrics("validator"), []

    async def handler(d: Delivery) -> None:
        order.append(("handled", d.payload, d.msg_id, d.num_delivered, d.stored_ms, list(msg.sent)))

    verdict, error = await dispatch(msg, handler, OPTS, metrics, "v1")
    assert (verdict.action, error) == (Action.ACK, None)
    # nothing was acknowledged before the handler ran
    assert order == [("handled", {"round": 1}, "tx-1", 1, 1_700_000_000_000, [])]
    assert msg.sent == [("ack", None)]
    labels = {"subject": "zkpot.tx.submitted", "outcome": "ack"}
    assert metrics.registry.get_sample_value("zkpot_messages_total", labels) == 1
    assert metrics.registry.get_sample_value("zkpot_handler_seconds_count", {"subject": "zkpot.tx.submitted"}) == 1


async def test_undecodable_payload_is_termed_without_the_handler(caplog: pytest.LogCaptureFixture) -> None:
    msg, called = StubMessage(data=b"\x00garbage"), []

    async def handler(d: Delivery) -> None:
        called.append(d)

    verdict, error = await dispatch(msg, handler, OPTS, None, "v1")
    assert (verdict.action, called, msg.sent) == (Action.TERM, [], [("term", None)])
    assert isinstance(error, MalformedMessage)
    assert "dropped (undecodable payload, not_json)" in caplog.text


@pytest.mark.parametrize(("data", "reason"), [
    (b'{"x":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "too_deep"),
    (b'{"x":"' + b"a" * MAX_PAYLOAD_BYTES + b'"}', "too_large"),
    (b"[1]", "not_object"),
])
async def test_poison_is_termed_on_its_first_delivery_and_counted(data: bytes, reason: str,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    msg, metrics, called = StubMessage(data=data), Metrics("validator"), []

    async def handler(d: Delivery) -> None:
        called.append(d)

    verdict, error = await dispatch(msg, handler, OPTS, metrics, "v1")
    assert (verdict, called, msg.sent) == (Verdict(Action.TERM), [], [("term", None)])
    assert isinstance(error, Undecodable) and error.reason == reason
    assert f"undecodable payload, {reason}" in caplog.text
    labels = {"subject": msg.subject, "reason": reason}
    assert metrics.registry.get_sample_value("zkpot_messages_malformed_total", labels) == 1
    assert metrics.registry.get_sample_value("zkpot_messages_total", {"subject": msg.subject, "outcome": "term"}) == 1


async def test_any_error_while_decoding_is_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(data: bytes) -> dict:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("zkpot.bus.dispatch.decode", explode)
    msg = StubMessage()

    async def handler(d: Delivery) -> None:
        raise AssertionError("not called")

    verdict, error = await dispatch(msg, handler, OPTS, None, "v1")
    assert (verdict.action, msg.sent) == (Action.TERM, [("term", None)])
    assert isinstance(error, Undecodable) and "RecursionError" in str(error)


async def test_a_handler_refusing_fields_is_termed_and_counted() -> None:
    msg, metrics = StubMessage(), Metrics("validator")

    async def handler(d: Delivery) -> None:
        Transaction.from_dict(d.payload)

    verdict, _ = await dispatch(msg, handler, OPTS, metrics, "v1")
    assert msg.sent == [("term", None)]
    labels = {"subject": msg.subject, "reason": "handler"}
    assert metrics.registry.get_sample_value("zkpot_messages_malformed_total", labels) == 1


async def test_unexpected_errors_are_logged_with_traceback(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(d: Delivery) -> None:
        raise KeyError("oops")

    msg = StubMessage()
    with caplog.at_level(logging.ERROR, "zkpot.bus"):
        verdict, _ = await dispatch(msg, handler, OPTS, None, "v1")
    assert msg.sent == [("nak", 1.0)]
    assert caplog.records[-1].exc_info is not None


async def test_a_lost_acknowledgement_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def handler(d: Delivery) -> None:
        return None

    verdict, _ = await dispatch(StubMessage(broken=True), handler, OPTS, None, "v1")
    assert verdict.action is Action.ACK
    assert "could not ack" in caplog.text


async def test_a_cancelled_handler_is_naked_and_the_cancel_propagates() -> None:
    msg, started = StubMessage(), asyncio.Event()

    async def handler(d: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(dispatch(msg, handler, OPTS, None, "v1"))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert msg.sent == [("nak", None)]


async def test_heartbeats_send_in_progress_until_the_block_ends() -> None:
    msg = StubMessage()
    d = Delivery(msg.subject, {}, 1, msg.msg_id, msg.stored_ms, msg)
    async with d.heartbeats(0.01):
        while len(msg.sent) < 3:
            await asyncio.sleep(0.01)
    sent = len(msg.sent)
    await asyncio.sleep(0.05)
    assert len(msg.sent) == sent and set(msg.sent) == {("wpi", None)}


async def test_a_failing_heartbeat_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    msg = StubMessage(broken=True)
    await Delivery(msg.subject, {}, 1, msg.msg_id, msg.stored_ms, msg).in_progress()
    assert "in_progress" in caplog.text
