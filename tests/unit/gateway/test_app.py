"""The gateway app over MemoryStore and LocalStore, served on a real loopback port by aiohttp's test server.

Uploads are signed (tests/unit/gateway/parties.py); test_app_uploads.py covers the refused ones.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from zkpot.gateway import BlobKind, Limits, MemoryIndex, create_app
from zkpot.metrics import Metrics
from zkpot.storage import BlobStore, LocalStore, MemoryStore
from zkpot.storage.cid import compute_cid
from zkpot.storage.errors import StorageUnavailable

from tests.unit.gateway.parties import UPLOADERS, signed

LIMIT = 1000
UNKNOWN = compute_cid(b"never stored")


@dataclass
class Gateway:
    http: TestClient
    store: BlobStore
    index: MemoryIndex
    metrics: Metrics

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0

    async def put(self, data: bytes, kind: str = "proof") -> tuple[int, dict[str, object]]:
        resp = await self.http.post("/v1/blobs", params={"kind": kind}, data=data, headers=signed(data, kind))
        return resp.status, await resp.json()


async def serve(store: BlobStore, limits: Limits | None = None,
                index: MemoryIndex | None = None) -> AsyncIterator[Gateway]:
    index, metrics = index or MemoryIndex(), Metrics("ipfs-gateway")
    app = create_app(store, index, metrics, uploaders=UPLOADERS, limits=limits or Limits(max_blob_bytes=LIMIT))
    async with TestClient(TestServer(app)) as http:
        yield Gateway(http, store, index, metrics)


@pytest.fixture(params=["memory", "local"])
async def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Gateway]:
    async for gw in serve(MemoryStore() if request.param == "memory" else LocalStore(tmp_path)):
        yield gw


class UncheckingStore(MemoryStore):
    """A store that forgets to check what it returns: the gateway must still refuse bad bytes."""

    async def cat(self, cid: str, max_size: int) -> bytes:
        return self.blobs[cid]


class BrokenStore(MemoryStore):
    """Every call fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def add(self, data: bytes) -> str:
        raise self.error

    async def cat(self, cid: str, max_size: int) -> bytes:
        raise self.error


async def test_upload_answers_201_with_the_cid_then_200_for_the_same_bytes(gateway: Gateway) -> None:
    assert await gateway.put(b"proof bytes") == (201, {"cid": compute_cid(b"proof bytes"), "size": 11,
                                                       "kind": "proof"})
    assert await gateway.put(b"proof bytes") == (200, {"cid": compute_cid(b"proof bytes"), "size": 11,
                                                       "kind": "proof"})


async def test_a_blob_keeps_the_kind_it_was_first_stored_as(gateway: Gateway) -> None:
    await gateway.put(b"same", "model")
    assert (await gateway.put(b"same", "global"))[1]["kind"] == "model"


async def test_download_returns_the_bytes(gateway: Gateway) -> None:
    _, body = await gateway.put(b"model bytes", "model")
    resp = await gateway.http.get(f"/v1/blobs/{body['cid']}")
    assert resp.status == 200
    assert await resp.read() == b"model bytes"
    assert resp.headers["ETag"] == f'"{body["cid"]}"'


@pytest.mark.parametrize("kind", ["", "weights", "PROOF"])
async def test_an_unknown_kind_is_400(gateway: Gateway, kind: str) -> None:
    status, body = await gateway.put(b"x", kind)
    assert (status, body["error"]) == (400, "unknown_kind")
    assert "proof, model, global, masked, aggregate, other" in str(body["detail"])


async def test_a_missing_kind_is_400(gateway: Gateway) -> None:
    resp = await gateway.http.post("/v1/blobs", data=b"x")
    assert (resp.status, (await resp.json())["error"]) == (400, "unknown_kind")


async def test_upload_over_the_limit_is_413_and_stores_nothing(gateway: Gateway) -> None:
    status, body = await gateway.put(b"x" * (LIMIT + 1))
    assert (status, body["error"], body["max_size"]) == (413, "blob_too_large", LIMIT)
    assert not await gateway.store.has(compute_cid(b"x" * (LIMIT + 1)))
    assert (await gateway.put(b"x" * LIMIT))[0] == 201


async def test_unknown_blob_is_404_and_a_malformed_cid_400(gateway: Gateway) -> None:
    missing = await gateway.http.get(f"/v1/blobs/{UNKNOWN}")
    malformed = await gateway.http.get("/v1/blobs/not-a-cid")
    assert (missing.status, (await missing.json())["error"]) == (404, "not_found")
    assert (malformed.status, (await malformed.json())["error"]) == (400, "invalid_cid")


async def test_pin_answers_200_for_a_held_blob_and_404_otherwise(gateway: Gateway) -> None:
    _, body = await gateway.put(b"pin me")
    resp = await gateway.http.post(f"/v1/blobs/{body['cid']}/pin")
    assert (resp.status, await resp.json()) == (200, {"cid": body["cid"], "pinned": True})
    record = await gateway.index.get(str(body["cid"]))
    assert record is not None and record.pinned
    assert (await gateway.http.post(f"/v1/blobs/{UNKNOWN}/pin")).status == 404


async def test_stats_count_blobs_and_bytes_per_kind(gateway: Gateway) -> None:
    await gateway.put(b"p1", "proof")
    await gateway.put(b"p22", "proof")
    await gateway.put(b"p22", "proof")
    await gateway.put(b"g", "global")
    body = await (await gateway.http.get("/v1/stats")).json()
    assert body["kinds"]["proof"] == {"count": 2, "bytes": 5}
    assert body["kinds"]["global"] == {"count": 1, "bytes": 1}
    assert body["kinds"]["model"] == {"count": 0, "bytes": 0}
    assert body["total"] == {"count": 3, "bytes": 6}


async def test_metrics_count_requests_bytes_and_blobs(gateway: Gateway) -> None:
    _, body = await gateway.put(b"abc", "model")
    await gateway.put(b"abc", "model")
    await gateway.http.get(f"/v1/blobs/{body['cid']}")
    await gateway.http.get(f"/v1/blobs/{UNKNOWN}")
    assert gateway.sample("zkpot_gateway_requests_total", op="put", code="201") == 1
    assert gateway.sample("zkpot_gateway_requests_total", op="put", code="200") == 1
    assert gateway.sample("zkpot_gateway_requests_total", op="get", code="404") == 1
    assert gateway.sample("zkpot_gateway_bytes_in_total", kind="model") == 6
    assert gateway.sample("zkpot_gateway_bytes_out_total", kind="model") == 3
    assert gateway.sample("zkpot_gateway_blobs", kind="model") == 1
    assert gateway.sample("zkpot_gateway_request_seconds_count", op="get") == 2


async def test_unknown_routes_and_methods_answer_json(gateway: Gateway) -> None:
    missing = await gateway.http.get("/v2/nothing")
    wrong_method = await gateway.http.delete(f"/v1/blobs/{UNKNOWN}")
    assert (missing.status, (await missing.json())["error"]) == (404, "not_found")
    assert (wrong_method.status, (await wrong_method.json())["error"]) == (405, "method_not_allowed")
    assert gateway.sample("zkpot_gateway_requests_total", op="other", code="404") == 1


async def test_bytes_that_do_not_hash_to_the_cid_are_502_even_if_the_store_misses_it() -> None:
    store = UncheckingStore()
    async for gw in serve(store):
        _, body = await gw.put(b"honest bytes")
        store.blobs[str(body["cid"])] = b"tampered"
        resp = await gw.http.get(f"/v1/blobs/{body['cid']}")
        assert (resp.status, (await resp.json())["error"]) == (502, "cid_mismatch")


async def test_a_read_of_a_blob_over_the_limit_is_413() -> None:
    store = MemoryStore()
    cid = await store.add(b"y" * (LIMIT + 1))
    async for gw in serve(store):
        resp = await gw.http.get(f"/v1/blobs/{cid}")
        assert (resp.status, (await resp.json())["error"]) == (413, "blob_too_large")


async def test_an_unavailable_store_is_503() -> None:
    async for gw in serve(BrokenStore(StorageUnavailable("node down"))):
        status, body = await gw.put(b"x")
        assert (status, body["error"]) == (503, "store_unavailable")
        assert "node down" in str(body["detail"])
        assert (await gw.http.get(f"/v1/blobs/{UNKNOWN}")).status == 503


async def test_an_unexpected_failure_is_a_500_answer_and_the_app_keeps_serving() -> None:
    async for gw in serve(BrokenStore(RuntimeError("bug"))):
        status, body = await gw.put(b"x")
        assert (status, body["error"]) == (500, "internal")
        assert (await gw.http.get("/v1/stats")).status == 200


def test_every_kind_has_a_distinct_wire_name() -> None:
    assert sorted(BlobKind) == ["aggregate", "global", "masked", "model", "other", "proof"]
