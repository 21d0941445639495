"""KuboStore's mapping of a misbehaving or absent node, against small in-process HTTP servers standing in for it.

The behaviour of a real node is covered by tests/integration/storage (js-ipfs); here are the answers a healthy
node never gives.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from zkpot.infra.ports import free_port
from zkpot.storage.cid import compute_cid
from zkpot.storage.errors import BlobTooLarge, CidMismatch, StorageError, StorageUnavailable
from zkpot.storage.kubo import ADD_PARAMS, KuboStore

Handler = Callable[[web.Request], Awaitable[web.Response]]
OTHER_CID = compute_cid(b"something else")


Start = Callable[[str, Handler], Awaitable[KuboStore]]


@pytest.fixture
async def node() -> AsyncIterator[Start]:
    """Starts a fake node answering one RPC command with ``handler``; it reports every CID as pinned."""
    servers: list[TestServer] = []
    stores: list[KuboStore] = []

    async def start(command: str, handler: Handler) -> KuboStore:
        app = web.Application()
        app.router.add_post(f"/api/v0/{command}", handler)
        app.router.add_post("/api/v0/pin/ls", _pinned)
        server = TestServer(app)
        await server.start_server()
        servers.append(server)
        stores.append(KuboStore(str(server.make_url(""))))
        return stores[-1]

    yield start
    for store in stores:
        await store.close()
    for server in servers:
        await server.close()


async def _pinned(request: web.Request) -> web.Response:
    return await _json({"Keys": {request.query["arg"]: {"Type": "recursive"}}})


async def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def answer_json(body: object, status: int = 200) -> Handler:
    async def handler(_: web.Request) -> web.Response:
        return await _json(body, status)

    return handler


def answer_bytes(body: bytes) -> Handler:
    async def handler(_: web.Request) -> web.Response:
        return web.Response(body=body)

    return handler


async def test_a_node_with_other_import_parameters_is_caught(node: Start) -> None:
    seen: dict[str, str] = {}

    async def add(request: web.Request) -> web.Response:
        seen.update(request.query)
        await request.read()
        return await _json({"Name": "blob", "Hash": OTHER_CID, "Size": "4"})

    store = await node("add", add)
    with pytest.raises(CidMismatch) as caught:
        await store.add(b"data")
    assert (caught.value.expected, caught.value.actual) == (compute_cid(b"data"), OTHER_CID)
    assert seen == ADD_PARAMS


async def test_an_unreadable_add_answer_is_a_storage_error(node: Start) -> None:
    store = await node("add", answer_json({"Name": "blob"}))
    with pytest.raises(StorageError, match="unreadable answer") as caught:
        await store.add(b"data")
    assert not isinstance(caught.value, StorageUnavailable)


async def test_a_node_error_is_unavailable_with_its_message(node: Start) -> None:
    store = await node("add", answer_json({"Message": "disk full", "Code": 0, "Type": "error"}, 500))
    with pytest.raises(StorageUnavailable, match="disk full"):
        await store.add(b"data")


async def test_a_refused_request_is_not_retryable(node: Start) -> None:
    store = await node("add", answer_json({"Message": "unknown option", "Code": 1, "Type": "error"}, 400))
    with pytest.raises(StorageError, match="unknown option") as caught:
        await store.add(b"data")
    assert not isinstance(caught.value, StorageUnavailable)


async def test_cat_stops_reading_past_the_limit(node: Start) -> None:
    store = await node("cat", answer_bytes(b"x" * 100_000))  # a node ignoring the length argument
    with pytest.raises(BlobTooLarge):
        await store.cat(OTHER_CID, 10)


async def test_cat_checks_what_the_node_returns(node: Start) -> None:
    store = await node("cat", answer_bytes(b"not the blob"))
    with pytest.raises(CidMismatch):
        await store.cat(OTHER_CID, 100)


async def test_no_node_listening_is_unavailable() -> None:
    async with KuboStore(f"http://127.0.0.1:{free_port()}") as store:
        with pytest.raises(StorageUnavailable):
            await store.add(b"data")
        with pytest.raises(StorageUnavailable):
            await store.has(OTHER_CID)
