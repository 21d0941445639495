"""What every service process shares: JSON logs, /healthz, /readyz and /metrics, and a clean SIGTERM shutdown.

A service is an object with ``start()``, ``stop()`` and readiness checks; ``serve`` runs it until SIGTERM/SIGINT
(or until the service says it is done), then stops it within a grace period and returns the exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from zkpot import __version__
from zkpot.config import Settings
from zkpot.metrics import Metrics

log = logging.getLogger("zkpot.service")

ReadyCheck = Callable[[], Awaitable[bool]]
GRACE_S = 25.0


class Service(Protocol):
    """One service's business: started after the HTTP endpoints, stopped on SIGTERM."""

    async def start(self) -> None: ...

    async def stop(self) -> None:
        """Stop taking work, finish what is in flight, release connections."""
        ...

    def ready_checks(self) -> dict[str, ReadyCheck]: ...

    async def done(self) -> None:
        """Return when the service has nothing left to do (most never return); raise if it failed."""
        ...


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, service, logger, message, and any ``extra={...}`` fields."""

    RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def __init__(self, service: str, instance: str) -> None:
        super().__init__()
        self.service, self.instance = service, instance

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "service": self.service,
            "instance": self.instance,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


async def cancel(task: asyncio.Task[Any] | None) -> None:
    """Cancel a service's background task (its round driver) and wait until it has stopped."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup_logging(service: str, instance: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service, instance))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiohttp.access", "nats"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def add_probes(app: web.Application, metrics: Metrics, checks: Callable[[], dict[str, ReadyCheck]]) -> None:
    """/healthz (the loop answers), /readyz (every dependency answers) and /metrics on ``app``."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def readyz(_: web.Request) -> web.Response:
        results = {name: await _safe(check) for name, check in checks().items()}
        return web.json_response(results, status=200 if all(results.values()) else 503)

    async def metrics_view(_: web.Request) -> web.Response:
        body = generate_latest(metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_view)


async def _safe(check: ReadyCheck) -> bool:
    try:
        return bool(await asyncio.wait_for(check(), timeout=3.0))
    except Exception:  # a failing dependency makes the service unready, never crashes the probe
        return False


async def serve(settings: Settings, metrics: Metrics, build: Callable[[], Awaitable[Service]],
                app: web.Application | None = None) -> int:
    """Run one service process until SIGTERM; returns the process exit code."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    metrics["zkpot_build"].info({"version": __version__, "service": settings.service})
    holder: dict[str, Service] = {}
    app = app or web.Application()
    add_probes(app, metrics, lambda: holder["svc"].ready_checks() if "svc" in holder else {"starting": _false})
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = settings.int("ZKPOT_HTTP_PORT")
    await web.TCPSite(runner, "0.0.0.0", port).start()
    log.info("http endpoints up", extra={"port": port})
    try:
        svc = await build()
        holder["svc"] = svc
        await svc.start()
        log.info("service started")
        return await _run_until_stopped(svc, stopping)
    finally:
        await runner.cleanup()


async def _false() -> bool:
    return False


async def _run_until_stopped(svc: Service, stopping: asyncio.Event) -> int:
    done = asyncio.create_task(svc.done())
    stop_wait = asyncio.create_task(stopping.wait())
    await asyncio.wait({done, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if done.done() and done.exception() is not None:
        log.error("service failed", exc_info=done.exception())
        code = 1
    t = time.monotonic()
    try:
        await asyncio.wait_for(svc.stop(), timeout=GRACE_S)
    except TimeoutError:
        log.error("stop exceeded the grace period", extra={"grace_s": GRACE_S})
        code = code or 1
    for task in (done, stop_wait):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    log.info("service stopped", extra={"stop_s": round(time.monotonic() - t, 2), "exit_code": code})
    return code
