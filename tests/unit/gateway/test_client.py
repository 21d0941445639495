"""GatewayClient against the real gateway app (on a loopback port), and against gateways that misbehave."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from zkpot.domain import Disposition, SigningKey
from zkpot.gateway import GatewayClient, Limits, MemoryIndex, QuotaExceeded, UploadRefused, create_app
from zkpot.infra.ports import free_port
from zkpot.metrics import Metrics
from zkpot.storage import BlobStore, MemoryStore
from zkpot.storage.cid import compute_cid
from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

from tests.unit.gateway.parties import MEMBER, PRODUCER, STRANGER, UPLOADERS

LIMIT = 1000
UNKNOWN = compute_cid(b"never stored")
Connect = Callable[..., Awaitable[GatewayClient]]


class FlakyStore(MemoryStore):
    """Unavailable for the first ``failures`` uploads, then a plain MemoryStore."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def add(self, data: bytes) -> str:
        if self.failures > 0:
            self.failures -= 1
            raise StorageUnavailable("warming up")
        return await super().add(data)


def gateway_app(store: BlobStore, metrics: Metrics | None = None, limits: Limits | None = None) -> web.Application:
    return create_app(store, MemoryIndex(), metrics or Metrics("ipfs-gateway"), uploaders=UPLOADERS,
                      limits=limits or Limits(max_blob_bytes=LIMIT))


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Serves an app on a loopback port and returns a client of it (signed by a member unless told otherwise,
    four attempts, no backoff delay)."""
    servers: list[TestServer] = []
    clients: list[GatewayClient] = []

    async def start(app: web.Application, signer: SigningKey | None = MEMBER) -> GatewayClient:
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        clients.append(GatewayClient(str(server.make_url("")), signer=signer, attempts=4, backoff_s=0))
        return clients[-1]

    yield start
    for client in clients:
        await client.close()
    for server in servers:
        await server.close()


def lying_gateway(cid: str, body: bytes) -> web.Application:
    """Answers every upload with ``cid`` and every download with ``body``."""

    async def put(_: web.Request) -> web.Response:
        return web.json_response({"cid": cid, "size": 1, "kind": "proof"}, status=201)

    async def get(_: web.Request) -> web.Response:
        return web.Response(body=body)

    app = web.Application()
    app.router.add_post("/v1/blobs", put)
    app.router.add_get("/v1/blobs/{cid}", get)
    return app


def failing_gateway(status: int, text: str) -> tuple[web.Application, list[int]]:
    """Answers everything with ``status`` and a plain-text body; the list counts the requests."""
    calls: list[int] = []

    async def fail(_: web.Request) -> web.Response:
        calls.append(status)
        return web.Response(status=status, text=text)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fail)
    return app, calls


async def test_put_get_and_pin_round_trip(connect: Connect) -> None:
    client = await connect(gateway_app(MemoryStore()))
    cid = await client.put("proof", b"proof bytes")
    assert cid == compute_cid(b"proof bytes")
    assert await client.get(cid, 100) == b"proof bytes"
    await client.pin(cid)


async def test_get_refuses_more_than_the_caller_allows(connect: Connect) -> None:
    client = await connect(gateway_app(MemoryStore()))
    cid = await client.put("model", b"z" * 50)
    with pytest.raises(BlobTooLarge):
        await client.get(cid, 49)


async def test_unknown_blob_is_not_found(connect: Connect) -> None:
    client = await connect(gateway_app(MemoryStore()))
    with pytest.raises(BlobNotFound):
        await client.get(UNKNOWN, 100)
    with pytest.raises(BlobNotFound):
        await client.pin(UNKNOWN)


async def test_bad_arguments_fail_before_any_request(connect: Connect) -> None:
    app, calls = failing_gateway(500, "should not be asked")
    client = await connect(app)
    with pytest.raises(InvalidCid):
        await client.get("not-a-cid", 100)
    with pytest.raises(ValueError, match="weights"):
        await client.put("weights", b"x")
    assert calls == []


@pytest.mark.parametrize("size", [LIMIT + 1, 1000 * LIMIT])
async def test_an_upload_over_the_gateway_limit_is_too_large(connect: Connect, size: int) -> None:
    client = await connect(gateway_app(MemoryStore()))
    with pytest.raises(BlobTooLarge) as caught:
        await client.put("model", b"g" * size)
    assert (caught.value.size, caught.value.max_size) == (size, LIMIT)


async def test_a_tampered_store_reaches_the_caller_as_a_cid_mismatch(connect: Connect) -> None:
    store = MemoryStore()
    client = await connect(gateway_app(store))
    cid = await client.put("proof", b"honest")
    store.blobs[cid] = b"tampered"
    with pytest.raises(CidMismatch) as caught:
        await client.get(cid, 100)
    assert caught.value.expected == cid


async def test_a_lying_gateway_is_caught_on_upload_and_download(connect: Connect) -> None:
    client = await connect(lying_gateway(UNKNOWN, b"not the blob"))
    with pytest.raises(CidMismatch):
        await client.put("proof", b"data")
    with pytest.raises(CidMismatch):
        await client.get(UNKNOWN, 100)


async def test_503_is_retried_until_the_store_is_back(connect: Connect) -> None:
    metrics = Metrics("ipfs-gateway")
    client = await connect(gateway_app(FlakyStore(failures=2), metrics))
    assert await client.put("proof", b"eventually") == compute_cid(b"eventually")
    assert metrics.registry.get_sample_value("zkpot_gateway_requests_total", {"op": "put", "code": "503"}) == 2


async def test_unavailable_after_the_last_attempt(connect: Connect) -> None:
    app, calls = failing_gateway(503, "busy")
    client = await connect(app)
    with pytest.raises(StorageUnavailable):
        await client.get(UNKNOWN, 100)
    assert len(calls) == client.attempts


async def test_an_unexpected_answer_is_not_retried(connect: Connect) -> None:
    app, calls = failing_gateway(500, "<html>proxy error</html>")
    client = await connect(app)
    with pytest.raises(StorageError, match="500") as caught:
        await client.put("proof", b"x")
    assert not isinstance(caught.value, StorageUnavailable)
    assert len(calls) == 1


async def test_no_gateway_listening_is_unavailable() -> None:
    async with GatewayClient(f"http://127.0.0.1:{free_port()}", attempts=2, backoff_s=0) as client:
        with pytest.raises(StorageUnavailable):
            await client.put("proof", b"x")


async def test_uploads_are_signed_with_the_round(connect: Connect) -> None:
    index = MemoryIndex()
    app = create_app(MemoryStore(), index, Metrics("ipfs-gateway"), uploaders=UPLOADERS)
    client = await connect(app)
    cid = await client.put("model", b"sealed", round=3)
    record = await index.get(cid)
    assert record is not None and (record.uploader, record.round) == (MEMBER.public_hex, 3)


async def test_a_signer_given_to_one_upload_overrides_the_clients(connect: Connect) -> None:
    client = await connect(gateway_app(MemoryStore()), signer=None)
    assert await client.put("global", b"global model", signer=PRODUCER) == compute_cid(b"global model")


@pytest.mark.parametrize(("signer", "kind", "status", "code"), [(None, "model", 401, "unsigned"),
                                                                (STRANGER, "model", 403, "unknown_uploader"),
                                                                (MEMBER, "global", 403, "kind_not_allowed")])
async def test_a_refused_upload_is_upload_refused_and_not_retried(connect: Connect, signer: SigningKey | None,
                                                                  kind: str, status: int, code: str) -> None:
    metrics = Metrics("ipfs-gateway")
    client = await connect(gateway_app(MemoryStore(), metrics), signer=signer)
    with pytest.raises(UploadRefused) as caught:
        await client.put(kind, b"x")
    assert (caught.value.status, caught.value.code, caught.value.disposition) == (status, code, Disposition.FAIL)
    assert not isinstance(caught.value, QuotaExceeded)
    assert metrics.registry.get_sample_value("zkpot_gateway_requests_total", {"op": "put", "code": str(status)}) == 1


async def test_over_quota_is_quota_exceeded_to_retry_later(connect: Connect) -> None:
    client = await connect(gateway_app(MemoryStore(), limits=Limits(quota_blobs=1)))
    await client.put("model", b"first")
    with pytest.raises(QuotaExceeded) as caught:
        await client.put("model", b"second")
    assert (caught.value.status, caught.value.retry_after_s, caught.value.disposition) == (429, 60, Disposition.RETRY)


def test_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        GatewayClient("http://127.0.0.1:1", attempts=0)
