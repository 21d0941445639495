"""The ipfs-gateway's HTTP API as an aiohttp application; the service's main wires a store, an index and metrics.

    POST /v1/blobs?kind=<kind>   signed raw bytes -> 201 {"cid","size","kind"} (200 when the blob was already known)
    GET  /v1/blobs/{cid}         the bytes, checked against the CID here whatever the store did
    POST /v1/blobs/{cid}/pin     200 {"cid","pinned": true}
    GET  /v1/stats               {"kinds": {kind: {"count","bytes"}}, "total": {"count","bytes"}}

Anyone may read (blobs are ciphertext or public); only a registered uploader may write, and only the kinds its
role produces, within its kind's size cap and its quota (see ``wire`` for the signature, ``access`` for who may
do what). An upload is checked in this order, each step before any body byte is read: signature headers, known
key, signature, signed time, kind allowed, signed size against the kind's cap (and against Content-Length),
quota (a CID already stored costs nothing). The body is then streamed, never past its signed size, and its CID
must be the signed one. Every failure is answered as JSON ``{"error","detail"}``; every refused upload is also
logged and counted (``zkpot_gateway_refusals`` by reason). Nothing a client sends can crash the app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from zkpot.gateway.access import Limits, Uploader
from zkpot.gateway.index import BlobIndex, KindStats
from zkpot.gateway.wire import BLOBS, STATS, BlobKind, Code, Refused, check_signed, read_upload, status_of
from zkpot.metrics import Metrics
from zkpot.storage._http import READ_CHUNK
from zkpot.storage.base import BlobStore, checked, cid_of
from zkpot.storage.cid import normalize_cid
from zkpot.storage.errors import BlobTooLarge, InvalidCid, StorageError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
QUOTA_RETRY_AFTER_S = 60
UPLOADER = web.RequestKey("uploader", str)  # the party name of an authenticated upload, for the refusal log


class BadRequest(Exception):
    """A request the gateway refuses before touching the store."""

    def __init__(self, code: Code, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def create_app(store: BlobStore, index: BlobIndex, metrics: Metrics, *, uploaders: Mapping[str, Uploader],
               limits: Limits | None = None, clock: Callable[[], float] = time.time) -> web.Application:
    """The gateway app. ``uploaders`` maps public keys (hex) to who may upload; ``clock`` gives Unix seconds."""
    gateway = _Gateway(store, index, metrics, uploaders, limits or Limits(), clock)
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
    def __init__(self, store: BlobStore, index: BlobIndex, metrics: Metrics, uploaders: Mapping[str, Uploader],
                 limits: Limits, clock: Callable[[], float]) -> None:
        self.store, self.index, self.uploaders, self.limits, self.clock = store, index, uploaders, limits, clock
        self.bytes_in = metrics["zkpot_gateway_bytes_in"]
        self.bytes_out = metrics["zkpot_gateway_bytes_out"]
        self.seconds = metrics["zkpot_gateway_request_seconds"]
        self.requests = metrics["zkpot_gateway_requests"]
        self.blobs = metrics["zkpot_gateway_blobs"]
        self.refusals = metrics["zkpot_gateway_refusals"]

    async def on_startup(self, _app: web.Application) -> None:
        await self._count_blobs()

    async def put(self, request: web.Request) -> web.Response:
        kind = _kind(request.query.get("kind"))
        upload = read_upload(request.method, BLOBS, kind, request.headers)
        check_signed(upload, self.uploaders, int(self.clock() * 1000), self.limits.clock_skew_s * 1000)
        uploader = self.uploaders[upload.key]
        request[UPLOADER] = uploader.name
        if kind not in uploader.kinds:
            allowed = ", ".join(sorted(uploader.kinds)) or "nothing"
            raise Refused(Code.KIND_NOT_ALLOWED, f"{uploader.name} may not upload {kind} blobs (only {allowed})")
        claim, cap = upload.claim, self.limits.cap(kind)
        if claim.size > cap:
            raise BlobTooLarge(claim.size, cap)
        if request.content_length is not None and request.content_length != claim.size:
            raise Refused(Code.BODY_MISMATCH, f"Content-Length {request.content_length} is not the signed size "
                                              f"{claim.size}")
        cid = _signed_cid(claim.cid)
        if await self.index.get(cid) is None:
            await self._check_quota(upload.key, uploader, claim.size)
        data = await self._read_body(request, claim.size)
        if await cid_of(data) != cid:
            raise Refused(Code.BODY_MISMATCH, f"the body does not hash to the signed CID {cid}")
        await self.store.add(data)
        new = await self.index.record(cid, kind, len(data), uploader=upload.key, round=claim.round)
        await self.index.mark_pinned(cid)  # every store pins on add
        self.bytes_in.labels(kind).inc(len(data))
        if new:
            await self._count_blobs()
        record = await self.index.get(cid)
        known_kind = record.kind if record else kind
        return web.json_response({"cid": cid, "size": len(data), "kind": known_kind}, status=201 if new else 200)

    async def get(self, request: web.Request) -> web.Response:
        cid = normalize_cid(request.match_info["cid"])
        data = await checked(cid, await self.store.cat(cid, self.limits.max_blob_bytes))
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

    async def _check_quota(self, key: str, uploader: Uploader, size: int) -> None:
        limits = self.limits
        if not limits.quota_blobs and not limits.quota_bytes:
            return
        used = await self.index.usage(key, limits.quota_window_s)
        if limits.quota_blobs and used.count + 1 > limits.quota_blobs:
            raise Refused(Code.QUOTA_EXCEEDED, f"{uploader.name} stored {used.count} blobs in the last "
                                               f"{limits.quota_window_s} s (at most {limits.quota_blobs})")
        if limits.quota_bytes and used.bytes + size > limits.quota_bytes:
            raise Refused(Code.QUOTA_EXCEEDED, f"{uploader.name} stored {used.bytes} bytes in the last "
                                               f"{limits.quota_window_s} s; {size} more would pass "
                                               f"{limits.quota_bytes}")

    @staticmethod
    async def _read_body(request: web.Request, size: int) -> bytes:
        """The body in chunks, refused as soon as it passes ``size`` (at most ``size`` + one chunk is held)."""
        buf = bytearray()
        async for chunk in request.content.iter_chunked(READ_CHUNK):
            buf += chunk
            if len(buf) > size:
                raise Refused(Code.BODY_MISMATCH, f"the body is longer than the signed size {size}")
        if len(buf) != size:
            raise Refused(Code.BODY_MISMATCH, f"the body has {len(buf)} bytes, not the signed {size}")
        return bytes(buf)

    @web.middleware
    async def observe(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Middleware: turns every failure into a JSON error, counts and times every request, and logs and counts
        every refused upload."""
        route = request.match_info.route.name or "other"
        started = time.perf_counter()
        try:
            response = await handler(request)
        except Exception as exc:  # noqa: BLE001 - the one place failures become answers
            status, code, detail, extra = _answer(exc)
            response = error_response(status, code, detail, **extra)
            if route == "put" and 400 <= status < 500:
                self._refused(request, response, code, detail)
        self.requests.labels(route, str(response.status)).inc()
        self.seconds.labels(route).observe(time.perf_counter() - started)
        return response

    def _refused(self, request: web.Request, response: web.Response, code: str, detail: str) -> None:
        self.refusals.labels(code).inc()
        log.warning("upload refused", extra={"reason": code, "status": response.status, "detail": detail,
                                             "uploader": request.get(UPLOADER), "peer": request.remote})
        if code == Code.QUOTA_EXCEEDED:
            response.headers["Retry-After"] = str(QUOTA_RETRY_AFTER_S)
        if not request.content.is_eof():
            response.force_close()  # the rest of the body is not worth reading: end the connection instead

    async def _count_blobs(self) -> None:
        for kind, s in (await self.index.stats()).items():
            self.blobs.labels(kind).set(s.count)


def _kind(text: str | None) -> BlobKind:
    try:
        return BlobKind(text or "")
    except ValueError:
        allowed = ", ".join(BlobKind)
        raise BadRequest(Code.UNKNOWN_KIND, f"kind must be one of {allowed}; got {text!r}") from None


def _signed_cid(text: str) -> str:
    try:
        return normalize_cid(text)
    except InvalidCid as exc:
        raise BadRequest(Code.INVALID_CID, f"the signed CID: {exc}") from None


def _answer(exc: Exception) -> tuple[int, str, str, dict[str, object]]:
    """Status, error code, detail and extra fields of the JSON answer to ``exc``."""
    if isinstance(exc, BlobTooLarge):
        return 413, Code.TOO_LARGE, str(exc), {"size": exc.size, "max_size": exc.max_size}
    if isinstance(exc, Refused):
        return exc.status, exc.code, str(exc), {}
    if isinstance(exc, StorageError):
        status, code = status_of(exc)
        if status >= 500:
            log.warning("gateway store error: %s", exc)
        return status, code, str(exc), {}
    if isinstance(exc, BadRequest):
        return 400, exc.code, str(exc), {}
    if isinstance(exc, web.HTTPException):  # no such route, wrong method
        return exc.status, exc.reason.lower().replace(" ", "_"), exc.text or exc.reason, {}
    log.exception("gateway request failed unexpectedly")
    return 500, Code.INTERNAL, f"{type(exc).__name__}: {exc}", {}
