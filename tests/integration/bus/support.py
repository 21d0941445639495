"""Helpers of the bus integration tests: a recording handler and waiting for states the system must reach."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from zkpot.bus import Delivery
from zkpot.bus.api import ConsumerState
from zkpot.bus.base import BaseBus
from zkpot.metrics import Metrics

WAIT_S = 15.0  # generous bound on waiting for what must happen; never reached when things work


class Recorder:
    """A handler that records each delivery and lets the test wait for the next one."""

    def __init__(self, action: Callable[[Delivery], Awaitable[None]] | None = None) -> None:
        self.seen: list[Delivery] = []
        self.times: list[float] = []
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._action = action

    async def __call__(self, d: Delivery) -> None:
        self.seen.append(d)
        self.times.append(time.monotonic())
        await self._queue.put(d)
        if self._action is not None:
            await self._action(d)

    async def next(self) -> Delivery:
        async with asyncio.timeout(WAIT_S):
            return await self._queue.get()

    def ids(self) -> list[str | None]:
        return [d.msg_id for d in self.seen]


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until ``check()`` holds (a state the system must reach), failing after WAIT_S."""
    async with asyncio.timeout(WAIT_S):
        while not await check():
            await asyncio.sleep(0.02)


async def settled(bus: BaseBus, stream: str, durable: str) -> None:
    """Wait until the durable has delivered everything and every delivery was acked or termed."""

    async def check() -> bool:
        return await bus.consumer_state(stream, durable) == ConsumerState(0, 0)

    await eventually(check)


def count(metrics: Metrics, subject: str, outcome: str) -> float:
    value = metrics.registry.get_sample_value("zkpot_messages_total", {"subject": subject, "outcome": outcome})
    return value or 0.0


async def counted(metrics: Metrics, subject: str, outcome: str, n: int) -> bool:
    return count(metrics, subject, outcome) == n
