"""The Bus contract: one test class, run against MemoryBus and against JetStreamBus on a real nats-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from zkpot.bus import BusError, Delivery, JetStreamBus, MemoryBus, RetryLater, SubscriptionFailed
from zkpot.bus.api import ConsumerState
from zkpot.bus.base import BaseBus
from zkpot.bus.codec import encode
from zkpot.bus.depth import update_queue_depth
from zkpot.bus.errors import MessageIdTaken
from zkpot.bus.msgid import bound_id
from zkpot.bus.subjects import (
    BLOCK_PROPOSED,
    EVENTS,
    JOBS,
    PROVE_JOBS,
    ROUND_OPEN,
    TX_SUBMITTED,
    prove_subject,
    round_open_id,
)
from zkpot.domain.errors import EncodingError, MalformedMessage
from zkpot.metrics import Metrics

from tests.fixtures.nats import FETCH_WAIT_S, reset_streams
from tests.integration.bus.support import WAIT_S, Recorder, count, counted, eventually, settled

Connect = Callable[[], Awaitable[BaseBus]]
SKEW_MS = 1000  # how far the server's clock may stand from the test's


@pytest.fixture(params=["memory", pytest.param("jetstream", marks=pytest.mark.integration)])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def connect(kind: str, request: pytest.FixtureRequest) -> AsyncIterator[Connect]:
    """Opens clients of one server (one MemoryBus state, or one nats-server); the first gets empty streams."""
    opened: list[BaseBus] = []

    async def open_client() -> BaseBus:
        bus: BaseBus
        if kind == "memory":
            bus = opened[0].peer() if opened else MemoryBus()  # type: ignore[attr-defined]
            await bus.ensure_streams()
        else:
            url = request.getfixturevalue("nats_url")
            bus = await JetStreamBus.connect(url, name="zkpot-contract", fetch_wait_s=FETCH_WAIT_S)
            if not opened:
                await reset_streams(bus)
        opened.append(bus)
        return bus

    yield open_client
    for bus in opened:
        await bus.close()


@pytest.fixture
async def bus(connect: Connect) -> BaseBus:
    return await connect()


class TestBusContract:
    async def test_duplicate_msg_id_is_dropped(self, bus: BaseBus) -> None:
        assert await bus.publish(ROUND_OPEN, {"round": 1}, round_open_id(1)) is True
        assert await bus.publish(ROUND_OPEN, {"round": 1}, round_open_id(1)) is False
        assert await bus.publish(ROUND_OPEN, {"round": 2}, round_open_id(2)) is True
        assert await bus.consumer_state(EVENTS, "nobody-yet") == ConsumerState(pending=2, ack_pending=0)
        rec = Recorder()
        await bus.subscribe(ROUND_OPEN, "t1", rec)
        first, second = await rec.next(), await rec.next()
        assert (first.payload, first.msg_id, first.num_delivered) == ({"round": 1}, "round-1", 1)
        assert (second.subject, second.msg_id) == (ROUND_OPEN, "round-2")

    async def test_a_message_published_first_under_an_id_does_not_suppress_the_real_one(self, bus: BaseBus) -> None:
        # a squatter publishes first: under the bare logical id (what publishers used to send), and under the id
        # as the bus binds it to the squatter's own bytes, and the real payload on another subject
        assert await bus.publish_bytes(ROUND_OPEN, b'{"round":666}', round_open_id(1), exact_id=True)
        assert await bus.publish(ROUND_OPEN, {"round": 666}, round_open_id(1))
        assert await bus.publish(TX_SUBMITTED, {"round": 1}, round_open_id(1))
        assert await bus.publish(ROUND_OPEN, {"round": 1}, round_open_id(1)) is True  # the real one is stored
        rec = Recorder()
        await bus.subscribe(ROUND_OPEN, "t1", rec)
        seen = [await rec.next() for _ in range(3)]
        assert [d.payload for d in seen] == [{"round": 666}, {"round": 666}, {"round": 1}]
        assert {d.msg_id for d in seen} == {round_open_id(1)}  # handlers see the logical id

    async def test_another_message_under_the_real_wire_id_is_a_distinct_error(self, bus: BaseBus) -> None:
        wire = bound_id(round_open_id(1), ROUND_OPEN, encode({"round": 1}))
        assert await bus.publish_bytes(ROUND_OPEN, b'{"round":666}', wire, exact_id=True)
        with pytest.raises(MessageIdTaken, match="round-1"):
            await bus.publish(ROUND_OPEN, {"round": 1}, round_open_id(1))
        assert await bus.publish(ROUND_OPEN, {"round": 2}, round_open_id(2))

    async def test_bad_publishes_are_refused(self, bus: BaseBus) -> None:
        with pytest.raises(BusError, match="no stream"):
            await bus.publish("zkpot.nowhere", {}, "x")
        with pytest.raises(ValueError, match="bad subject"):
            await bus.publish("zkpot.tx.*", {}, "x")
        with pytest.raises(ValueError, match="msg_id"):
            await bus.publish(TX_SUBMITTED, {}, "")
        with pytest.raises(EncodingError):
            await bus.publish(TX_SUBMITTED, {"x": object()}, "x")
        with pytest.raises(BusError, match="exceeds"):
            await bus.publish(TX_SUBMITTED, {"x": "a" * (1 << 21)}, "x")

    async def test_bad_subscriptions_are_refused(self, bus: BaseBus) -> None:
        rec = Recorder()
        with pytest.raises(ValueError, match="one stream"):
            await bus.subscribe("zkpot.>", "v1", rec)
        with pytest.raises(ValueError, match="work queue"):
            await bus.subscribe(PROVE_JOBS, "provers", rec)
        with pytest.raises(ValueError, match="durable"):
            await bus.subscribe(ROUND_OPEN, "bad.name", rec)
        await bus.subscribe(ROUND_OPEN, "v1", rec)
        with pytest.raises(ValueError, match="already has a subscriber"):
            await bus.subscribe(ROUND_OPEN, "v1", rec)

    async def test_one_durable_reads_several_subjects_in_stream_order(self, bus: BaseBus) -> None:
        await bus.publish(TX_SUBMITTED, {"n": 1}, "tx-1")
        await bus.publish(ROUND_OPEN, {"n": 2}, "round-9")
        await bus.publish(BLOCK_PROPOSED, {"n": 3}, "proposed-1")
        rec = Recorder()
        await bus.subscribe([TX_SUBMITTED, BLOCK_PROPOSED], "validator-0", rec)
        assert [(await rec.next()).msg_id for _ in range(2)] == ["tx-1", "proposed-1"]

    async def test_durable_resumes_after_its_connection_restarts(self, bus: BaseBus, connect: Connect) -> None:
        first = await connect()
        rec = Recorder()
        await first.subscribe(ROUND_OPEN, "trainer-3", rec)
        await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
        assert (await rec.next()).msg_id == "round-1"
        await first.close()
        await bus.publish(ROUND_OPEN, {"round": 2}, "round-2")
        await bus.publish(ROUND_OPEN, {"round": 3}, "round-3")
        assert await bus.consumer_state(EVENTS, "trainer-3") == ConsumerState(pending=2, ack_pending=0)

        again = Recorder()
        await (await connect()).subscribe(ROUND_OPEN, "trainer-3", again)
        assert [(await again.next()).msg_id for _ in range(2)] == ["round-2", "round-3"]
        assert [d.num_delivered for d in again.seen] == [1, 1]

        await settled(bus, EVENTS, "trainer-3")

    async def test_retry_later_naks_with_delay(self, bus: BaseBus) -> None:
        async def not_yet(d: Delivery) -> None:
            if d.num_delivered == 1:
                raise RetryLater("round not open yet", delay_s=0.5)

        rec, metrics = Recorder(not_yet), Metrics("validator")
        await bus.subscribe(TX_SUBMITTED, "v1", rec, metrics=metrics)
        await bus.publish(TX_SUBMITTED, {"tx": 1}, "tx-1")
        first, second = await rec.next(), await rec.next()
        assert (first.msg_id, second.msg_id, second.num_delivered) == ("tx-1", "tx-1", 2)
        assert rec.times[1] - rec.times[0] >= 0.4  # not redelivered before the requested delay
        await eventually(lambda: counted(metrics, TX_SUBMITTED, "ack", 1))
        assert count(metrics, TX_SUBMITTED, "nak") == 1

    async def test_a_delivery_carries_the_store_time_and_a_redelivery_keeps_it(self, bus: BaseBus) -> None:
        async def nak_first(d: Delivery) -> None:
            if d.num_delivered == 1:
                raise RetryLater("again", delay_s=0.2)

        rec = Recorder(nak_first)
        await bus.subscribe(TX_SUBMITTED, "v1", rec)
        before_ms = time.time() * 1000
        await bus.publish(TX_SUBMITTED, {"tx": 1}, "tx-1")
        after_ms = time.time() * 1000
        first, second = await rec.next(), await rec.next()
        assert before_ms - SKEW_MS <= first.stored_ms <= after_ms + SKEW_MS  # the server's clock, not ours
        assert (second.num_delivered, second.stored_ms) == (2, first.stored_ms)
        await bus.publish(TX_SUBMITTED, {"tx": 2}, "tx-2")
        assert (await rec.next()).stored_ms >= first.stored_ms

    async def test_drop_terms_once_and_counts(self, bus: BaseBus) -> None:
        async def reject(d: Delivery) -> None:
            if d.msg_id == "tx-bad":
                raise MalformedMessage("missing key 'round'")

        rec, metrics = Recorder(reject), Metrics("validator")
        await bus.subscribe(TX_SUBMITTED, "v1", rec, ack_wait_s=0.5, metrics=metrics)
        await bus.publish(TX_SUBMITTED, {"x": 1}, "tx-bad")
        await bus.publish(TX_SUBMITTED, {"x": 2}, "tx-good")
        assert [(await rec.next()).msg_id for _ in range(2)] == ["tx-bad", "tx-good"]
        assert count(metrics, TX_SUBMITTED, "term") == 1

        await settled(bus, EVENTS, "v1")
        await bus.publish(TX_SUBMITTED, {"x": 3}, "tx-after")
        assert (await rec.next()).msg_id == "tx-after"
        assert rec.ids() == ["tx-bad", "tx-good", "tx-after"]

    async def test_undecodable_payloads_are_termed_without_calling_the_handler(self, bus: BaseBus) -> None:
        rec, metrics = Recorder(), Metrics("validator")
        await bus.subscribe(TX_SUBMITTED, "v1", rec, metrics=metrics)
        await bus.publish_bytes(TX_SUBMITTED, b"\xffnot json", "junk-1")
        await bus.publish_bytes(TX_SUBMITTED, b"[1, 2]", "junk-2")
        await bus.publish(TX_SUBMITTED, {"ok": True}, "tx-ok")
        assert (await rec.next()).msg_id == "tx-ok"
        assert rec.ids() == ["tx-ok"]
        assert count(metrics, TX_SUBMITTED, "term") == 2

    async def test_unexpected_exception_naks_and_the_loop_survives(self, bus: BaseBus) -> None:
        async def flaky(d: Delivery) -> None:
            if d.msg_id == "a" and d.num_delivered == 1:
                raise RuntimeError("boom")

        rec, metrics = Recorder(flaky), Metrics("validator")
        sub = await bus.subscribe(TX_SUBMITTED, "v1", rec, retry_delay_s=0.05, metrics=metrics)
        await bus.publish(TX_SUBMITTED, {}, "a")
        await bus.publish(TX_SUBMITTED, {}, "b")
        seen = {((d := await rec.next()).msg_id, d.num_delivered) for _ in range(3)}
        assert seen == {("a", 1), ("a", 2), ("b", 1)}
        await eventually(lambda: counted(metrics, TX_SUBMITTED, "ack", 2))
        assert count(metrics, TX_SUBMITTED, "nak") == 1
        assert sub.running

    async def test_retries_end_with_term_after_max_deliver(self, bus: BaseBus) -> None:
        async def always(d: Delivery) -> None:
            raise RuntimeError("still broken")

        rec, metrics = Recorder(always), Metrics("validator")
        await bus.subscribe(TX_SUBMITTED, "v1", rec, max_deliver=2, retry_delay_s=0.05, metrics=metrics)
        await bus.publish(TX_SUBMITTED, {}, "doomed")
        assert [(await rec.next()).num_delivered for _ in range(2)] == [1, 2]
        await eventually(lambda: counted(metrics, TX_SUBMITTED, "term", 1))
        assert count(metrics, TX_SUBMITTED, "nak") == 1

    async def test_fail_naks_and_stops_the_consumer(self, bus: BaseBus, connect: Connect) -> None:
        async def misconfigured(d: Delivery) -> None:
            raise EncodingError("a bug")

        sub = await bus.subscribe(TX_SUBMITTED, "v1", Recorder(misconfigured))
        await bus.publish(TX_SUBMITTED, {}, "tx-1")
        with pytest.raises(SubscriptionFailed) as failed:
            async with asyncio.timeout(WAIT_S):
                await sub.wait()
        assert isinstance(failed.value.__cause__, EncodingError)
        assert not sub.running
        rec = Recorder()
        await (await connect()).subscribe(TX_SUBMITTED, "v1", rec)
        d = await rec.next()
        assert (d.msg_id, d.num_delivered) == ("tx-1", 2)

    async def test_heartbeats_keep_a_long_handler_from_redelivery(self, bus: BaseBus) -> None:
        async def long_job(d: Delivery) -> None:
            if d.msg_id == "long":
                async with d.heartbeats(0.1):
                    await asyncio.sleep(2.5)  # 2.5 ack waits

        rec = Recorder(long_job)
        await bus.subscribe(TX_SUBMITTED, "v1", rec, ack_wait_s=1.0, concurrency=2)
        await bus.publish(TX_SUBMITTED, {}, "long")
        assert (await rec.next()).msg_id == "long"

        await settled(bus, EVENTS, "v1")
        await bus.publish(TX_SUBMITTED, {}, "after")
        assert (await rec.next()).msg_id == "after"
        assert rec.ids() == ["long", "after"]

    async def test_without_heartbeats_a_long_handler_is_redelivered(self, bus: BaseBus) -> None:
        redelivered = asyncio.Event()

        async def silent(d: Delivery) -> None:
            if d.num_delivered > 1:
                redelivered.set()
                return
            async with asyncio.timeout(WAIT_S):
                await redelivered.wait()

        rec = Recorder(silent)
        await bus.subscribe(TX_SUBMITTED, "v1", rec, ack_wait_s=0.5, concurrency=2)
        await bus.publish(TX_SUBMITTED, {}, "long")
        assert [(await rec.next()).num_delivered for _ in range(2)] == [1, 2]

    async def test_queue_subscribers_share_jobs_without_overlap(self, bus: BaseBus, connect: Connect) -> None:
        got: dict[str, list[str]] = {"a": [], "b": []}
        both = asyncio.Event()

        def worker(name: str) -> Callable[[Delivery], Awaitable[None]]:
            async def handle(d: Delivery) -> None:
                got[name].append(d.payload["job_id"])
                if got["a"] and got["b"]:
                    both.set()
                async with asyncio.timeout(WAIT_S):
                    await both.wait()  # hold the first job until the other prover has one too

            return handle

        other = await connect()
        await bus.subscribe(PROVE_JOBS, "provers", worker("a"), queue=True)
        await other.subscribe(PROVE_JOBS, "provers", worker("b"), queue=True)
        jobs = [f"job-{i}" for i in range(6)]
        for i, job in enumerate(jobs):
            await bus.publish(prove_subject(f"member{i % 2}"), {"job_id": job}, job)

        await settled(bus, JOBS, "provers")
        assert got["a"] and got["b"]
        assert sorted(got["a"] + got["b"]) == jobs  # each job exactly once
        assert await bus.consumer_state(JOBS, "someone-else") == ConsumerState(0, 0)  # acked jobs leave the queue

    async def test_concurrency_bounds_handlers_running_side_by_side(self, bus: BaseBus) -> None:
        active, peak, pair = 0, 0, asyncio.Event()

        async def busy(d: Delivery) -> None:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            if active == 2:
                pair.set()
            async with asyncio.timeout(WAIT_S):
                await pair.wait()  # the first two handlers only finish once both run
            await asyncio.sleep(0.05)
            active -= 1

        rec = Recorder(busy)
        await bus.subscribe(TX_SUBMITTED, "v1", rec, concurrency=2)
        for i in range(4):
            await bus.publish(TX_SUBMITTED, {}, f"tx-{i}")

        await settled(bus, EVENTS, "v1")
        assert sorted(rec.ids()) == [f"tx-{i}" for i in range(4)]
        assert peak == 2

    async def test_work_queue_refuses_a_second_consumer(self, bus: BaseBus) -> None:
        await bus.subscribe(PROVE_JOBS, "provers", Recorder(), queue=True)
        with pytest.raises(BusError):
            await bus.subscribe(prove_subject("m1"), "rogue", Recorder(), queue=True)

    async def test_close_waits_for_the_inflight_handler_and_acks_it(self, bus: BaseBus, connect: Connect) -> None:
        started, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def slow(d: Delivery) -> None:
            started.set()
            await release.wait()
            finished.set()

        worker = await connect()
        await worker.subscribe(TX_SUBMITTED, "v1", slow, concurrency=2)  # a free slot: the loop keeps pulling
        await bus.publish(TX_SUBMITTED, {}, "tx-1")
        async with asyncio.timeout(WAIT_S):
            await started.wait()
        closing = asyncio.create_task(worker.close())
        await asyncio.sleep(3 * FETCH_WAIT_S)
        assert not closing.done()
        release.set()
        async with asyncio.timeout(WAIT_S):
            await closing
        assert finished.is_set()
        assert await bus.consumer_state(EVENTS, "v1") == ConsumerState(0, 0)

    async def test_queue_depth_counts_undelivered_jobs(self, bus: BaseBus) -> None:
        metrics = Metrics("prover")
        for i in range(3):
            await bus.publish(prove_subject("m0"), {"job_id": i}, f"job-{i}")
        assert await update_queue_depth(bus, metrics, "provers") == 3
        assert metrics.registry.get_sample_value("zkpot_prove_queue_depth") == 3
        rec = Recorder()
        await bus.subscribe(PROVE_JOBS, "provers", rec, queue=True)
        for _ in range(3):
            await rec.next()

        async def drained() -> bool:
            return await update_queue_depth(bus, metrics, "provers") == 0

        await eventually(drained)


