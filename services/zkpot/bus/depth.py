"""The prover's queue-depth gauge, ``zkpot_prove_queue_depth``: proof jobs the shared consumer has not delivered."""

from __future__ import annotations

import asyncio
import logging

from zkpot.bus.api import Bus
from zkpot.bus.subjects import JOBS
from zkpot.metrics import Metrics

log = logging.getLogger("zkpot.bus")
GAUGE = "zkpot_prove_queue_depth"


async def update_queue_depth(bus: Bus, metrics: Metrics, durable: str, stream: str = JOBS) -> int:
    """Read the depth once, set the gauge, return it (errors propagate)."""
    depth = (await bus.consumer_state(stream, durable)).pending
    metrics[GAUGE].set(depth)
    return depth


async def track_queue_depth(bus: Bus, metrics: Metrics, durable: str, *, every_s: float = 5.0,
                            stream: str = JOBS) -> None:
    """Update the gauge every ``every_s`` seconds until cancelled; a failed read is logged and retried."""
    while True:
        try:
            await update_queue_depth(bus, metrics, durable, stream)
        except Exception as exc:  # the gauge goes stale; the service carries on
            log.warning("queue depth of %s/%s: %s", stream, durable, exc)
        await asyncio.sleep(every_s)
