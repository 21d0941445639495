"""Provisioning by the operator: the layout's streams and every planned durable consumer, created or updated.

Only the operator identity may use this part of the JetStream API (``zkpot.bus.permissions``); services bind to
what it made. Run it before the services start and again after the parties change (`zkpot nats provision`).
"""

from __future__ import annotations

from collections.abc import Iterable

import nats.js.errors

from zkpot.bus.errors import BusError
from zkpot.bus.jetstream import JetStreamBus, consumer_matches, spec_config
from zkpot.bus.parties import ConsumerSpec


async def provision(bus: JetStreamBus, plan: Iterable[ConsumerSpec], *, reset: Iterable[str] = ()) -> list[str]:
    """Create or update the streams and the consumers of ``plan``; return what was done, one line each.

    ``reset`` names durables to delete and create again, so they deliver from the start of the stream (the load
    test's driver reads the history each run). A consumer already as planned is left alone (it keeps its place).
    """
    if not bus.manage:
        raise BusError("provisioning needs the operator's identity (connect with manage=True)")
    await bus.ensure_streams()
    done, again = [], set(reset)
    for spec in plan:
        with bus.mapped(f"provision consumer {spec.durable} on {spec.stream}"):
            try:
                info = await bus.js.consumer_info(spec.stream, spec.durable)
            except nats.js.errors.NotFoundError:
                info = None
            if info is not None and spec.durable in again:
                await bus.js.delete_consumer(spec.stream, spec.durable)
                info = None
            if info is None:
                await bus.js.add_consumer(spec.stream, spec_config(spec))
                done.append(f"created {spec.stream}/{spec.durable}")
            elif not consumer_matches(info.config, spec):
                await bus.js.add_consumer(spec.stream, spec_config(spec))
                done.append(f"updated {spec.stream}/{spec.durable}")
    return done
