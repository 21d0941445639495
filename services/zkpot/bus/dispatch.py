"""The one place an error's Disposition becomes a JetStream action, and where every handled message is counted.

RETRY -> nak with delay; DROP -> term; FAIL -> nak and stop the consumer; any other exception -> nak with delay
(logged with its traceback). A message whose retries are exhausted (its last allowed delivery failed) is termed.
A payload that does not decode is termed on its first delivery whatever the error, before any handler runs: the same
bytes never decode later, and an ordered consumer must not wait behind them. Handlers are called before any
acknowledgement: ack comes last.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
import time
from typing import Any

from zkpot.bus.api import ConsumerOptions, Delivery, Handler, RawMessage
from zkpot.bus.codec import Undecodable, decode
from zkpot.domain.errors import Disposition, MalformedMessage, Unauthorized, ZkpotError
from zkpot.metrics import Metrics

log = logging.getLogger("zkpot.bus")


class Action(enum.StrEnum):
    """The acknowledgement sent for a message; also the ``outcome`` label of ``zkpot_messages``."""

    ACK = "ack"
    NAK = "nak"
    TERM = "term"


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What to do with one handled message; ``stop`` asks the subscription to stop (a FAIL error)."""

    action: Action
    delay_s: float | None = None
    stop: bool = False
    exhausted: bool = False


def backoff(options: ConsumerOptions, num_delivered: int) -> float:
    """Delay before redelivery after the ``num_delivered``-th delivery failed: doubling, capped."""
    return min(options.retry_delay_s * 2 ** max(num_delivered - 1, 0), options.max_retry_delay_s)


def decide(error: Exception | None, num_delivered: int, options: ConsumerOptions) -> Verdict:
    """The mapping from a handler's result to an acknowledgement (pure)."""
    if error is None:
        return Verdict(Action.ACK)
    disposition = error.disposition if isinstance(error, ZkpotError) else Disposition.RETRY
    if disposition is Disposition.DROP:
        return Verdict(Action.TERM)
    if disposition is Disposition.FAIL:
        return Verdict(Action.NAK, stop=True)
    if 0 < options.max_deliver <= num_delivered:
        return Verdict(Action.TERM, exhausted=True)
    delay = getattr(error, "delay_s", None)
    return Verdict(Action.NAK, delay if delay is not None else backoff(options, num_delivered))


async def dispatch(raw: RawMessage, handler: Handler, options: ConsumerOptions, metrics: Metrics | None,
                   consumer: str) -> tuple[Verdict, Exception | None]:
    """Decode ``raw``, run ``handler`` on it, acknowledge it by its verdict, log and count it."""
    started = time.perf_counter()
    try:
        payload = decode(raw.data)
    except Exception as exc:  # never retried, whatever it is: the same bytes fail the same way next time
        error: Exception | None = exc if isinstance(exc, Undecodable) else Undecodable("error", _describe(exc))
        verdict = Verdict(Action.TERM)
    else:
        error = await _handle(raw, handler, payload, consumer)
        verdict = decide(error, raw.num_delivered, options)
    _log(raw, verdict, error, consumer)
    await _settle(raw, verdict, consumer)
    if metrics is not None:
        _count(metrics, raw, verdict, error, time.perf_counter() - started)
    return verdict, error


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _handle(raw: RawMessage, handler: Handler, payload: dict[str, Any], consumer: str) -> Exception | None:
    try:
        await handler(Delivery(raw.subject, payload, raw.num_delivered, raw.msg_id, raw.stored_ms, raw))
    except asyncio.CancelledError:
        await _settle(raw, Verdict(Action.NAK), consumer)
        raise
    except Exception as exc:
        return exc
    return None


def _count(metrics: Metrics, raw: RawMessage, verdict: Verdict, error: Exception | None, seconds: float) -> None:
    metrics["zkpot_messages"].labels(raw.subject, verdict.action.value).inc()
    metrics["zkpot_handler_seconds"].labels(raw.subject).observe(seconds)
    if isinstance(error, MalformedMessage):
        reason = str(error.reason) if isinstance(error, Undecodable | Unauthorized) else "handler"
        metrics["zkpot_messages_malformed"].labels(raw.subject, reason).inc()


async def _settle(raw: RawMessage, verdict: Verdict, consumer: str) -> None:
    """Send the acknowledgement; a failure to send only means a redelivery, which handlers tolerate."""
    try:
        if verdict.action is Action.ACK:
            await raw.ack()
        elif verdict.action is Action.TERM:
            await raw.term()
        else:
            await raw.nak(verdict.delay_s)
    except Exception as exc:
        log.warning("%s: could not %s %s (%s): %s", consumer, verdict.action, raw.subject, raw.msg_id, exc)


def _log(raw: RawMessage, verdict: Verdict, error: Exception | None, consumer: str) -> None:
    if error is None:
        return
    where = f"{consumer}: {raw.subject} msg {raw.msg_id} delivery {raw.num_delivered}"
    if verdict.exhausted:
        log.error("%s: giving up after %d deliveries, terminated: %s", where, raw.num_delivered, error,
                  exc_info=not isinstance(error, ZkpotError))
    elif isinstance(error, Undecodable):
        log.warning("%s: dropped (undecodable payload, %s): %s", where, error.reason, error)
    elif verdict.action is Action.TERM:
        log.warning("%s: dropped (%s): %s", where, type(error).__name__, error)
    elif verdict.stop:
        log.error("%s: failing, stopping the consumer: %s", where, error, exc_info=error)
    elif isinstance(error, ZkpotError):
        log.info("%s: retry in %.1fs: %s", where, verdict.delay_s or 0, error)
    else:
        log.error("%s: unexpected error, retry in %.1fs", where, verdict.delay_s or 0, exc_info=error)
