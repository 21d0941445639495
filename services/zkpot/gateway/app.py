"""The ipfs-gateway's HTTP API as an aiohttp application; the service's main wires a store, an index and metrics.

    POST /v1/blobs?kind=<kind>   raw bytes -> 201 {"cid","size","kind"} (200 when the blob was already known)
    GET  /v1/blobs/{cid}         the bytes, checked against the CID here whatever the store did
    POST /v1/blobs/{cid}/pin     200 {"cid","pinned": true}
    GET  /v1/stats               {"kinds": {kind: {"count","bytes"}}, "total": {"count","bytes"}}

Every failure is answered as JSON ``{"error","detail"}`` (see ``wire``); nothing a client sends can crash the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from zkpot.gateway.index import BlobIndex, KindStats
from zkpot.gateway.wire import BLOBS, STATS, BlobKind, Code, status_of
from zkpot.metrics import Metrics
from zkpot.storage._http import read_limited
from zkpot.storage.base import BlobStore, checked
from zkpot.storage.cid import normalize_cid
from zkpot.storage.errors import BlobTooLarge, StorageError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadRequest(Exception):
    """A request the gateway refuses before touching the store."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def create_app(store: BlobStore, index: BlobIndex, metrics: Metrics, *, max_blob_bytes: int) -> web.Application:
    """The gateway app. ``max_blob_bytes`` bounds both uploads (413) and what a read may return."""
    gateway = _Gateway(store, index, metrics, max_blob_bytes)
    app = web.Application(middlewares=[gateway.observe])
    app.router.add_post(BLOBS, gateway.put, name="put")
    app.router.add_get(BLOBS + "/{cid}", gateway.get, name="get")
    app.router.add_post(BLOBS + "/{cid}/pin", gateway.pin, name="pin")
    app.router.add_get(STATS, gateway.stats, name="stats")
    app.on_startup.append(gateway.on_startup)
    return app


def error_response(status: int, code: str, detail: str, **extra: object) -> web.Response:
    return web.json_response({"error": code, "detail": detail, **extra}, status=status)


class _Gateway:
    def __init__(self, store: BlobStore, index: BlobIndex, metrics: Metrics, max_blob_bytes: int) -> None:
        self.store = store
        self.index = index
        self.max_blob_bytes = max_blob_bytes
        self.bytes_in = metrics["zkpot_gateway_bytes_in"]
        self.bytes_out = metrics["zkpot_gateway_bytes_out"]
        self.seconds = metrics["zkpot_gateway_request_seconds"]
        self.requests = metrics["zkpot_gateway_requests"]
        self.blobs = metrics["zkpot_gateway_blobs"]

    async def on_startup(self, _app: web.Application) -> None:
        await self._count_blobs()

    async def put(self, request: web.Request) -> web.Response:
        kind = _kind(request.query.get("kind"))
        data = await read_limited(request.content, self.max_blob_bytes, request.content_length)
        cid = await self.store.add(data)
        new = await self.index.record(cid, kind, len(data))
        await self.index.mark_pinned(cid)  # every store pins on add
        self.bytes_in.labels(kind).inc(len(data))
        if new:
            await self._count_blobs()
        record = await self.index.get(cid)
        known_kind = record.kind if record else kind
        return web.json_response({"cid": cid, "size": len(data), "kind": known_kind}, status=201 if new else 200)

    async def get(self, request: web.Request) -> web.Response:
        cid = normalize_cid(request.match_info["cid"])
        data = await checked(cid, await self.store.cat(cid, self.max_blob_bytes))
        record = await self.index.get(cid)
        self.bytes_out.labels(record.kind if record else BlobKind.OTHER).inc(len(data))
        headers = {"ETag": f'"{cid}"', "Cache-Control": "public, max-age=31536000, immutable"}
        return web.Response(body=data, content_type="application/octet-stream", headers=headers)

    async def pin(self, request: web.Request) -> web.Response:
        cid = normalize_cid(request.match_info["cid"])
        await self.store.pin(cid)
        await self.index.mark_pinned(cid)
        return web.json_response({"cid": cid, "pinned": True})

    async def stats(self, _request: web.Request) -> web.Response:
        per_kind = await self.index.stats()
        total = KindStats(sum(s.count for s in per_kind.values()), sum(s.bytes for s in per_kind.values()))
        kinds = {str(kind): {"count": s.count, "bytes": s.bytes} for kind, s in per_kind.items()}
        return web.json_response({"kinds": kinds, "total": {"count": total.count, "bytes": total.bytes}})

    @web.middleware
    async def observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Middleware: turns every failure into a JSON error and counts and times every request."""
        route = request.match_info.route.name or "other"
        started = time.perf_counter()
        try:
            response = await handler(request)
        except Exception as exc:  # noqa: BLE001 - the one place failures become answers
            response = _error_for(exc)
        self.requests.labels(route, str(response.status)).inc()
        self.seconds.labels(route).observe(time.perf_counter() - started)
        return response

    async def _count_blobs(self) -> None:
        for kind, s in (await self.index.stats()).items():
            self.blobs.labels(kind).set(s.count)


def _kind(text: str | None) -> BlobKind:
    try:
        return BlobKind(text or "")
    except ValueError:
        allowed = ", ".join(BlobKind)
        raise BadRequest(Code.UNKNOWN_KIND, f"kind must be one of {allowed}; got {text!r}") from None


def _error_for(exc: Exception) -> web.Response:
    if isinstance(exc, BlobTooLarge):
        return error_response(413, Code.TOO_LARGE, str(exc), size=exc.size, max_size=exc.max_size)
    if isinstance(exc, StorageError):
        status, code = status_of(exc)
        if status >= 500:
            log.warning("gateway store error: %s", exc)
        return error_response(status, code, str(exc))
    if isinstance(exc, BadRequest):
        return error_response(400, exc.code, str(exc))
    if isinstance(exc, web.HTTPException):  # no such route, wrong method
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason)
    log.exception("gateway request failed unexpectedly")
    return error_response(500, Code.INTERNAL, f"{type(exc).__name__}: {exc}")
