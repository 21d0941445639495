"""Uploads the gateway refuses: unsigned, unknown, badly signed, stale, of a kind the key may not upload, not the
signed body, too large (streamed: refused without being read whole), over quota. Each is answered with its
reason code, logged and counted."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from zkpot.gateway import BlobKind, Limits, MemoryIndex
from zkpot.storage import MemoryStore
from zkpot.storage.cid import compute_cid

from tests.unit.gateway.parties import MEMBER, PRODUCER, PROVER, STRANGER, VALIDATOR, signed
from tests.unit.gateway.test_app import Gateway, serve

LIMIT = 1000
CHUNK = 64 * 1024


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    async for gw in serve(MemoryStore(), Limits(max_blob_bytes=LIMIT)):
        yield gw


async def post(gw: Gateway, data: object, kind: str, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    resp = await gw.http.post("/v1/blobs", params={"kind": kind}, data=data, headers=headers)
    return resp.status, await resp.json()


async def refused(gw: Gateway, status: int, code: str, data: bytes = b"blob", kind: str = "model",
                  headers: dict[str, str] | None = None) -> str:
    answer = await post(gw, data, kind, signed(data, kind) if headers is None else headers)
    assert (answer[0], answer[1]["error"]) == (status, code)
    assert not await gw.store.has(compute_cid(data))
    assert gw.sample("zkpot_gateway_refusals_total", reason=code) >= 1
    return str(answer[1]["detail"])


class Counting:
    """A chunked request body that counts what the client was asked for."""

    def __init__(self, chunks: int) -> None:
        self.chunks, self.sent = chunks, 0

    async def body(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += CHUNK
            yield b"z" * CHUNK


async def test_an_unsigned_upload_is_401_logged_and_counted(gateway: Gateway,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, "zkpot.gateway.app"):
        assert "X-Zkpot-Signature" in await refused(gateway, 401, "unsigned", headers={})
    assert [r.__dict__["reason"] for r in caplog.records if r.getMessage() == "upload refused"] == ["unsigned"]
    assert gateway.sample("zkpot_gateway_requests_total", op="put", code="401") == 1


async def test_an_unregistered_key_is_403(gateway: Gateway) -> None:
    await refused(gateway, 403, "unknown_uploader", headers=signed(b"blob", "model", STRANGER))


async def test_a_tampered_signature_is_401(gateway: Gateway) -> None:
    headers = signed(b"blob", "model") | {"X-Zkpot-Signature": signed(b"blob", "proof", MEMBER)["X-Zkpot-Signature"]}
    await refused(gateway, 401, "bad_signature", headers=headers)


@pytest.mark.parametrize("minutes", [-6, 6])
async def test_a_stale_or_future_timestamp_is_401(gateway: Gateway, minutes: int) -> None:
    time_ms = int((time.time() + 60 * minutes) * 1000)
    await refused(gateway, 401, "stale_timestamp", headers=signed(b"blob", "model", time_ms=time_ms))


@pytest.mark.parametrize(("kind", "signer"), [("proof", VALIDATOR), ("global", MEMBER), ("model", PROVER),
                                              ("proof", PRODUCER), ("other", MEMBER)])
async def test_a_key_uploads_only_the_kinds_of_its_role(gateway: Gateway, kind: str, signer: object) -> None:
    detail = await refused(gateway, 403, "kind_not_allowed", kind=kind, headers=signed(b"blob", kind, signer))  # type: ignore[arg-type]
    assert f"may not upload {kind}" in detail


async def test_a_body_other_than_the_signed_one_is_403_and_not_stored(gateway: Gateway) -> None:
    detail = await refused(gateway, 403, "body_mismatch", b"evil", headers=signed(b"good", "model"))
    assert "signed CID" in detail


async def test_a_content_length_other_than_the_signed_size_is_403(gateway: Gateway) -> None:
    await refused(gateway, 403, "body_mismatch", b"blob!", headers=signed(b"blob!", "model", size=4))


async def test_a_signed_size_over_the_cap_is_413_before_the_body_is_read(gateway: Gateway) -> None:
    body = Counting(chunks=1024)
    status, answer = await post(gateway, body.body(), "model", signed(b"", "model", size=1024 * CHUNK))
    assert (status, answer["error"], answer["size"], answer["max_size"]) == (413, "blob_too_large", 1024 * CHUNK,
                                                                              LIMIT)
    assert body.sent < 256 * CHUNK  # what the sockets buffer; the app itself read at most one chunk
    assert gateway.sample("zkpot_gateway_refusals_total", reason="blob_too_large") == 1


async def test_a_streamed_body_longer_than_signed_is_refused_without_being_read_whole(gateway: Gateway) -> None:
    body = Counting(chunks=1024)
    status, answer = await post(gateway, body.body(), "model", signed(b"", "model", size=LIMIT))
    assert (status, answer["error"]) == (403, "body_mismatch")
    assert body.sent < 256 * CHUNK  # what the sockets buffer; the app itself read at most one chunk


async def test_each_kind_has_its_own_cap() -> None:
    async for gw in serve(MemoryStore(), Limits(max_blob_bytes=LIMIT, kind_max_bytes={BlobKind.PROOF: 10})):
        assert (await gw.put(b"p" * 11, "proof"))[0] == 413
        assert (await gw.put(b"p" * 10, "proof"))[0] == 201
        assert (await gw.put(b"m" * 11, "model"))[0] == 201


async def test_a_blob_records_its_uploader_and_signed_round(gateway: Gateway) -> None:
    status, _ = await post(gateway, b"model", "model", signed(b"model", "model", round=7))
    record = await gateway.index.get(compute_cid(b"model"))
    assert status == 201 and record is not None and (record.uploader, record.round) == (MEMBER.public_hex, 7)


async def test_over_the_blob_quota_is_429_and_a_stored_cid_costs_nothing() -> None:
    async for gw in serve(MemoryStore(), Limits(max_blob_bytes=LIMIT, quota_blobs=2)):
        assert [(await gw.put(data, "model"))[0] for data in (b"1", b"2", b"1")] == [201, 201, 200]
        resp = await gw.http.post("/v1/blobs", params={"kind": "model"}, data=b"3", headers=signed(b"3", "model"))
        assert (resp.status, (await resp.json())["error"], resp.headers["Retry-After"]) == (429, "quota_exceeded",
                                                                                            "60")
        assert (await gw.put(b"2", "model"))[0] == 200  # already stored: no new bytes, no quota
        assert (await gw.put(b"3", "proof"))[0] == 201  # another uploader (the prover) has its own quota


async def test_over_the_byte_quota_is_429() -> None:
    async for gw in serve(MemoryStore(), Limits(max_blob_bytes=LIMIT, quota_bytes=10)):
        assert (await gw.put(b"a" * 6, "model"))[0] == 201
        status, answer = await gw.put(b"b" * 5, "model")
        assert (status, answer["error"]) == (429, "quota_exceeded")
        assert (await gw.put(b"b" * 4, "model"))[0] == 201


async def test_the_quota_window_rolls() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    index = MemoryIndex(clock=lambda: now[0])
    async for gw in serve(MemoryStore(), Limits(max_blob_bytes=LIMIT, quota_blobs=1, quota_window_s=3600), index):
        assert (await gw.put(b"1", "model"))[0] == 201
        assert (await gw.put(b"2", "model"))[0] == 429
        now[0] += timedelta(seconds=3601)
        assert (await gw.put(b"2", "model"))[0] == 201
