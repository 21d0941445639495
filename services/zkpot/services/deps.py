"""The outside systems a service talks to, connected once from its settings and closed in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.bus import JetStreamBus
from zkpot.config import Settings
from zkpot.db.engine import create_engine, migrate, ping
from zkpot.domain import Genesis, SigningKey
from zkpot.gateway.client import GatewayClient
from zkpot.services.runtime import ReadyCheck
from zkpot.task import read_genesis

log = logging.getLogger("zkpot.service")
T = TypeVar("T")


class Worker(Protocol):
    """A service's business as its unit tests drive it: ``stop`` ends what ``start`` began, not the connections."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def done(self) -> None: ...


@dataclasses.dataclass
class Deps:
    """The connections a service process opens: its bus, its database engine and its gateway client."""

    settings: Settings
    instance: str
    bus: JetStreamBus
    engine: AsyncEngine
    gateway: GatewayClient

    def checks(self) -> dict[str, ReadyCheck]:
        return {"postgres": lambda: ping(self.engine), "nats": self._nats_ok, "gateway": self._gateway_ok}

    async def _nats_ok(self) -> bool:
        return bool(self.bus.nc.is_connected)

    async def _gateway_ok(self) -> bool:
        url = self.settings.string("ZKPOT_GATEWAY_URL").rstrip("/") + "/healthz"
        async with aiohttp.ClientSession() as session, session.get(url, timeout=aiohttp.ClientTimeout(2)) as resp:
            return resp.status == 200

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.bus.close()
        with contextlib.suppress(Exception):
            await self.gateway.close()
        await self.engine.dispose()


@dataclasses.dataclass
class Hosted:
    """A ``Worker`` on the connections of ``deps``: ready while they answer; they close once the worker stopped."""

    worker: Worker
    deps: Deps

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        try:
            await self.worker.stop()
        finally:
            await self.deps.close()

    def ready_checks(self) -> dict[str, ReadyCheck]:
        return self.deps.checks()

    async def done(self) -> None:
        await self.worker.done()


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


async def connect(settings: Settings) -> Deps:
    """Connect to NATS and Postgres (migrating this service's schema), and make the gateway client."""
    service = settings.service
    instance = settings.get("ZKPOT_INSTANCE") or service
    url = settings.string("ZKPOT_DATABASE_URL")
    await retry_start("postgres", lambda: migrate(url, service))
    engine = create_engine(url, application_name=f"zkpot-{instance}")
    bus = await retry_start("nats", lambda: JetStreamBus.connect(
        settings.string("ZKPOT_NATS_URL"), name=instance, nkey_file=settings.get("ZKPOT_NATS_NKEY_FILE"),
        ca_file=settings.get("ZKPOT_NATS_CA_FILE")))
    await retry_start("nats streams", bus.ensure_streams)
    return Deps(settings, instance, bus, engine, GatewayClient(settings.string("ZKPOT_GATEWAY_URL"),
                                                               signer=_signer(settings)))


def _signer(settings: Settings) -> SigningKey | None:
    """The key that signs this service's uploads: its own Ed25519 key (a prover's is its signing key file)."""
    for var in ("ZKPOT_KEY_FILE", "ZKPOT_PROVER_SIGNING_KEY_FILE"):
        if settings.get(var):
            return SigningKey.from_hex(settings.secret_hex(var))
    return None


def genesis(settings: Settings) -> Genesis:
    """The task's genesis block, from ``ZKPOT_GENESIS`` (required by every service that judges or trains)."""
    return read_genesis(settings.path("ZKPOT_GENESIS"))
