"""The ipfs-gateway service: the gateway app over a Kubo node (or the embedded store) with its Postgres index,
its uploaders from the genesis registry, and the retention of old rounds' blobs as a background task."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.config import Settings
from zkpot.db.engine import create_engine, migrate, ping
from zkpot.db.gateway import GatewayIndex
from zkpot.errors import InputError
from zkpot.gateway import BlobKind, Limits, create_app, uploaders_from_genesis
from zkpot.gateway.access import parse_keys
from zkpot.gateway.retention import Retention
from zkpot.metrics import Metrics
from zkpot.services.deps import genesis, retry_start
from zkpot.services.runtime import ReadyCheck
from zkpot.storage.base import BlobStore


class Gateway:
    def __init__(self, engine: AsyncEngine, store: BlobStore, kubo_api: str | None, retention: Retention,
                 retention_interval_s: float) -> None:
        self.engine, self.store, self.kubo_api = engine, store, kubo_api
        self.retention, self.retention_interval_s = retention, retention_interval_s
        self._stopped = asyncio.Event()
        self._retention_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._retention_task = asyncio.create_task(self.retention.run_forever(self.retention_interval_s))

    async def stop(self) -> None:
        self._stopped.set()
        if self._retention_task is not None:
            self._retention_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retention_task
        close = getattr(self.store, "close", None)
        if close is not None:
            await close()
        await self.engine.dispose()

    def ready_checks(self) -> dict[str, ReadyCheck]:
        return {"postgres": lambda: ping(self.engine), "store": self._store_ok}

    async def _store_ok(self) -> bool:
        if self.kubo_api is None:
            return True
        url = self.kubo_api.rstrip("/").removesuffix("/api/v0") + "/api/v0/id"
        async with aiohttp.ClientSession() as session, session.post(url, timeout=aiohttp.ClientTimeout(2)) as resp:
            return resp.status == 200

    async def done(self) -> None:
        await self._stopped.wait()


def make_store(settings: Settings) -> BlobStore:
    backend = settings.string("ZKPOT_IPFS_BACKEND")
    if backend == "kubo":
        from zkpot.storage.kubo import KuboStore

        return KuboStore(settings.string("ZKPOT_IPFS_API"))
    if backend == "local":
        from zkpot.storage.local import LocalStore

        return LocalStore(settings.path("ZKPOT_BLOB_DIR"))
    raise InputError(f"ZKPOT_IPFS_BACKEND must be 'kubo' or 'local', not {backend!r}")


def make_limits(s: Settings) -> Limits:
    caps = {kind: s.int(f"ZKPOT_GATEWAY_MAX_{kind.upper()}_BYTES") for kind in BlobKind
            if s.get(f"ZKPOT_GATEWAY_MAX_{kind.upper()}_BYTES")}
    return Limits(s.int("ZKPOT_MAX_BLOB_BYTES"), caps, quota_bytes=s.int("ZKPOT_GATEWAY_QUOTA_BYTES"),
                  quota_blobs=s.int("ZKPOT_GATEWAY_QUOTA_BLOBS"), quota_window_s=s.int("ZKPOT_GATEWAY_QUOTA_WINDOW_S"),
                  clock_skew_s=s.int("ZKPOT_GATEWAY_CLOCK_SKEW_S"))


async def build_gateway(settings: Settings, metrics: Metrics) -> tuple[Gateway, web.Application]:
    uploaders = uploaders_from_genesis(genesis(settings), parse_keys(settings.get("ZKPOT_GATEWAY_UPLOADERS")))
    url = settings.string("ZKPOT_DATABASE_URL")
    await retry_start("postgres", lambda: migrate(url, "ipfs-gateway"))
    engine = create_engine(url, application_name="zkpot-ipfs-gateway")
    store, index = make_store(settings), GatewayIndex(engine)
    app = create_app(store, index, metrics, uploaders=uploaders, limits=make_limits(settings))
    retention = Retention(store, index, metrics, settings.int("ZKPOT_GATEWAY_RETAIN_ROUNDS"))
    kubo = settings.string("ZKPOT_IPFS_API") if settings.string("ZKPOT_IPFS_BACKEND") == "kubo" else None
    return Gateway(engine, store, kubo, retention, settings.int("ZKPOT_GATEWAY_RETENTION_INTERVAL_S")), app
