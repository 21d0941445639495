"""What the contract test does not cover: the fake's own helpers, its clock, and stop() with a grace period."""

from __future__ import annotations

import asyncio

import pytest
from zkpot.bus import BusError, BusUnavailable, Delivery, MemoryBus, RetryLater
from zkpot.bus.api import ConsumerState
from zkpot.bus.subjects import EVENTS, ROUND_OPEN, TX_SUBMITTED

WAIT_S = 10.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_dedupe_window_follows_the_clock() -> None:
    clock = Clock()
    bus = MemoryBus(clock=clock)
    await bus.ensure_streams()
    assert await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
    clock.now += 599
    assert not await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
    clock.now += 2
    assert await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")  # the window has passed: stored again
    assert [p.seq for p in bus.published(ROUND_OPEN)] == [1, 2]


async def test_stored_time_follows_the_wall_clock_and_survives_redelivery() -> None:
    wall = Clock()
    bus = MemoryBus(wall_clock=wall)
    await bus.ensure_streams()
    wall.now = 1_700_000_000.1239
    await bus.publish(TX_SUBMITTED, {"tx": "a"}, "a")
    wall.now += 5
    assert [p.stored_ms for p in bus.published()] == [1_700_000_000_123]
    seen: asyncio.Queue[Delivery] = asyncio.Queue()

    async def nak_first(d: Delivery) -> None:
        await seen.put(d)
        if d.num_delivered == 1:
            raise RetryLater("again", delay_s=0)

    await bus.subscribe(TX_SUBMITTED, "v1", nak_first)
    async with asyncio.timeout(WAIT_S):
        first, second = await seen.get(), await seen.get()
    assert [(d.num_delivered, d.stored_ms) for d in (first, second)] == [(1, 1_700_000_000_123), (2, 1_700_000_000_123)]
    await bus.close()


async def test_published_lists_payloads_by_subject_filter() -> None:
    bus = MemoryBus()
    await bus.ensure_streams()
    await bus.publish(ROUND_OPEN, {"round": 1}, "round-1")
    await bus.publish(TX_SUBMITTED, {"tx": "a"}, "a")
    assert [p.payload for p in bus.published("zkpot.tx.*")] == [{"tx": "a"}]
    assert [p.subject for p in bus.published()] == [ROUND_OPEN, TX_SUBMITTED]


async def test_streams_must_exist_first() -> None:
    bus = MemoryBus()
    with pytest.raises(BusUnavailable, match="ensure_streams"):
        await bus.publish(ROUND_OPEN, {}, "round-1")
    with pytest.raises(BusUnavailable):
        await bus.consumer_state(EVENTS, "v1")


async def test_peers_share_the_server_but_close_alone() -> None:
    bus = MemoryBus()
    await bus.ensure_streams()
    peer = bus.peer()
    await peer.close()
    with pytest.raises(BusError, match="closed"):
        await peer.publish(ROUND_OPEN, {}, "round-1")
    assert await bus.publish(ROUND_OPEN, {}, "round-1")
    assert [p.msg_id for p in peer.published()] == ["round-1"]
    await bus.close()
    await bus.close()  # idempotent


async def test_stop_with_grace_cancels_a_stuck_handler_and_naks_it() -> None:
    bus = MemoryBus()
    await bus.ensure_streams()
    started = asyncio.Event()

    async def stuck(d: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()

    sub = await bus.subscribe(TX_SUBMITTED, "v1", stuck)
    await bus.publish(TX_SUBMITTED, {}, "tx-1")
    async with asyncio.timeout(WAIT_S):
        await started.wait()
        await sub.stop(grace_s=0.05)
        await sub.wait()  # a plain stop is not a failure
    assert not sub.running
    assert await bus.consumer_state(EVENTS, "v1") == ConsumerState(0, 1)  # naked: waiting for redelivery
    again: asyncio.Queue[Delivery] = asyncio.Queue()
    await bus.subscribe(TX_SUBMITTED, "v1", again.put)
    async with asyncio.timeout(WAIT_S):
        d = await again.get()
    assert (d.msg_id, d.num_delivered) == ("tx-1", 2)
    await bus.close()
