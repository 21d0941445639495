"""The outside systems a service talks to, connected once from its settings and closed in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.bus import Bus, JetStreamBus
from zkpot.config import Settings
from zkpot.db.engine import create_engine, migrate, ping
from zkpot.domain import Genesis
from zkpot.gateway.client import GatewayClient
from zkpot.metrics import Metrics
from zkpot.task import read_genesis

log = logging.getLogger("zkpot.service")
T = TypeVar("T")


@dataclasses.dataclass
class Deps:
    settings: Settings
    metrics: Metrics
    instance: str
    bus: Bus
    engine: AsyncEngine
    gateway: GatewayClient | None
    genesis: Genesis | None

    def checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        checks: dict[str, Callable[[], Awaitable[bool]]] = {"postgres": lambda: ping(self.engine),
                                                            "nats": self._nats_ok}
        if self.gateway is not None:
            checks["gateway"] = self._gateway_ok
        return checks

    async def _nats_ok(self) -> bool:
        nc = getattr(self.bus, "nc", None)
        return bool(nc is None or nc.is_connected)

    async def _gateway_ok(self) -> bool:
        url = self.settings.string("ZKPOT_GATEWAY_URL").rstrip("/") + "/healthz"
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(2)) as resp:
            return resp.status == 200

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.bus.close()
        if self.gateway is not None:
            with contextlib.suppress(Exception):
                await self.gateway.close()
        await self.engine.dispose()


async def retry_start(what: str, make: Callable[[], Awaitable[T]], attempts: int = 30, delay_s: float = 1.0) -> T:
    """Dependencies may come up after the service (Kubernetes starts pods in any order): keep trying a while."""
    for attempt in range(1, attempts + 1):
        try:
            return await make()
        except Exception as exc:
            if attempt == attempts:
                raise
            log.warning("waiting for a dependency", extra={"what": what, "attempt": attempt, "error": str(exc)})
            await asyncio.sleep(delay_s)
    raise AssertionError("unreachable")


async def connect(settings: Settings, metrics: Metrics, *, gateway: bool = True) -> Deps:
    """Connect to NATS and Postgres (migrating this service's schema), and make the gateway client."""
    service = settings.service
    instance = settings.get("ZKPOT_INSTANCE") or service
    url = settings.string("ZKPOT_DATABASE_URL")
    await retry_start("postgres", lambda: migrate(url, service))
    engine = create_engine(url, application_name=f"zkpot-{instance}")
    bus = await retry_start("nats", lambda: JetStreamBus.connect(settings.string("ZKPOT_NATS_URL"), name=instance))
    await retry_start("nats streams", bus.ensure_streams)
    client = GatewayClient(settings.string("ZKPOT_GATEWAY_URL")) if gateway else None
    genesis_path = settings.get("ZKPOT_GENESIS")
    genesis = read_genesis(settings.path("ZKPOT_GENESIS")) if genesis_path else None
    return Deps(settings, metrics, instance, bus, engine, client, genesis)


def require(value: Any, what: str) -> Any:
    if value is None:
        raise RuntimeError(f"{what} is required here")
    return value
