"""Helpers of the end-to-end tests: a running devnet, an event collector, and an attacker that signs by hand."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from zkpot.bus import Delivery, JetStreamBus
from zkpot.bus.parties import WATCH
from zkpot.devnet import Devnet
from zkpot.domain import Transaction
from zkpot.gateway.client import GatewayClient


class Collector:
    """Every event of the EVENTS stream, in order, with a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()

    async def on_event(self, msg: Delivery) -> None:
        self.events.append((msg.subject, msg.payload))
        self._changed.set()

    def of(self, subject_prefix: str) -> list[dict[str, Any]]:
        return [p for s, p in self.events if s.startswith(subject_prefix)]

    async def wait_for(self, what: str, predicate: Callable[[], Any], timeout_s: float, net: Devnet) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            found = predicate()
            if found:
                return found
            dead = net.dead()
            assert not dead, f"{dead[0].name} exited while waiting for {what}; see {dead[0].log}"
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), 1.0)


@dataclasses.dataclass
class Harness:
    """The test's own connections, each as a party of the network (nkeys and allow-lists on): the devnet's
    read-only ``watch`` identity follows the events, ``member`` is the client the test plays (its txs), and
    ``producer`` stands for a producer whose key was stolen (forged proposals)."""

    net: Devnet
    bus: JetStreamBus
    member: JetStreamBus
    producer: JetStreamBus
    gateway: GatewayClient
    events: Collector

    @classmethod
    async def connect(cls, net: Devnet, member: int) -> Harness:
        async def as_(identity: str) -> JetStreamBus:
            return await JetStreamBus.connect(net.nats_url, name=f"e2e-{identity}", nkey_file=net.nkey_file(identity))

        bus = await as_(WATCH.name)
        await bus.ensure_streams()
        events = Collector()
        durable = WATCH.name if net.nats_auth else f"e2e-{int(time.time() * 1000)}"
        await bus.subscribe(WATCH.filters, durable, events.on_event)
        producer = "producer-0" if net.genesis.producers else "producer"  # per-member producers: member 0's
        return cls(net, bus, await as_(f"trainer-{member}"), await as_(producer), GatewayClient(net.gateway_url),
                   events)

    async def close(self) -> None:
        for bus in (self.bus, self.member, self.producer):
            await bus.close()
        await self.gateway.close()

    async def submit(self, tx: Transaction, msg_id: str | None = None) -> None:
        await self.member.publish("zkpot.tx.submitted", tx.to_dict(), msg_id or tx.tx_id)

    async def round_open(self, round_: int, net: Devnet) -> dict[str, Any]:
        return await self.events.wait_for(
            f"round {round_} to open",
            lambda: next((p for p in self.events.of("zkpot.round.open") if p["round"] == round_), None), 600, net)

    async def final(self, height: int, net: Devnet, timeout_s: float = 900) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            for p in self.events.of("zkpot.block.finalized"):
                if p["proposal"]["block"]["header"]["height"] == height:
                    return p
            return None

        return await self.events.wait_for(f"block {height} to be final", find, timeout_s, net)


def scrape(url: str) -> dict[str, float]:
    """Prometheus text format -> {sample name with labels: value} (enough for counters and gauges)."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        text = resp.read().decode()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def counter(samples: dict[str, float], name: str, **labels: str) -> float:
    key = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")  # as scraped
    return samples.get(key, 0.0)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
