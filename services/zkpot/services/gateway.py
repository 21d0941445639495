"""The ipfs-gateway service: the gateway app over a Kubo node (or the embedded store) with its Postgres index."""

from __future__ import annotations

import asyncio

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.config import Settings
from zkpot.db.engine import create_engine, migrate, ping
from zkpot.db.gateway import GatewayIndex
from zkpot.errors import InputError
from zkpot.gateway import create_app
from zkpot.metrics import Metrics
from zkpot.services.deps import retry_start
from zkpot.services.runtime import ReadyCheck
from zkpot.storage.base import BlobStore


class Gateway:
    def __init__(self, engine: AsyncEngine, store: BlobStore, kubo_api: str | None) -> None:
        self.engine, self.store, self.kubo_api = engine, store, kubo_api
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._stopped.set()
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


async def build_gateway(settings: Settings, metrics: Metrics) -> tuple[Gateway, web.Application]:
    url = settings.string("ZKPOT_DATABASE_URL")
    await retry_start("postgres", lambda: migrate(url, "ipfs-gateway"))
    engine = create_engine(url, application_name="zkpot-ipfs-gateway")
    store = make_store(settings)
    app = create_app(store, GatewayIndex(engine), metrics, max_blob_bytes=settings.int("ZKPOT_MAX_BLOB_BYTES"))
    kubo = settings.string("ZKPOT_IPFS_API") if settings.string("ZKPOT_IPFS_BACKEND") == "kubo" else None
    return Gateway(engine, store, kubo), app
