"""``GatewayClient``: how the other services store and fetch blobs through the ipfs-gateway.

It trusts nothing the gateway says about content: ``put`` checks the returned CID against the bytes it sent and
``get`` hashes what it received. Failures arrive as ``zkpot.storage.errors``; only ``StorageUnavailable`` (a 503
or a connection failure) is retried here, with exponential backoff, and raised once the attempts run out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from zkpot.gateway.wire import BLOBS, BlobKind, Code
from zkpot.storage._http import DEFAULT_TIMEOUT, HttpClient, read_limited
from zkpot.storage.base import checked, cid_of
from zkpot.storage.cid import normalize_cid
from zkpot.storage.errors import (
    BlobNotFound,
    BlobTooLarge,
    CidMismatch,
    InvalidCid,
    StorageError,
    StorageUnavailable,
)

T = TypeVar("T")


class GatewayClient(HttpClient):
    """Client of the gateway at ``base_url`` (``ZKPOT_GATEWAY_URL``)."""

    peer = "ipfs-gateway"

    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None, attempts: int = 4,
                 backoff_s: float = 0.25, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        super().__init__(session, timeout)
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self.backoff_s = backoff_s

    async def put(self, kind: BlobKind | str, data: bytes) -> str:
        """Store ``data`` as a blob of ``kind`` and return its CID (``ValueError`` for an unknown kind)."""
        kind = BlobKind(kind)
        expected = await cid_of(data)

        async def attempt() -> Any:
            async with self._request("POST", f"{self.base_url}{BLOBS}", params={"kind": kind}, data=data) as resp:
                await _raise_for_error(resp, expected)
                return await resp.json()

        answer = await self._retrying(attempt)
        returned = normalize_cid(str(answer.get("cid"))) if isinstance(answer, dict) else repr(answer)
        if returned != expected:
            raise CidMismatch(expected, returned)
        return expected

    async def get(self, cid: str, max_size: int) -> bytes:
        """The blob's bytes, hashed here against ``cid``; ``BlobTooLarge`` past ``max_size``."""
        key = normalize_cid(cid)

        async def attempt() -> bytes:
            async with self._request("GET", f"{self.base_url}{BLOBS}/{key}") as resp:
                await _raise_for_error(resp, key)
                return await read_limited(resp.content, max_size, resp.content_length)

        return await checked(key, await self._retrying(attempt))

    async def pin(self, cid: str) -> None:
        key = normalize_cid(cid)

        async def attempt() -> None:
            async with self._request("POST", f"{self.base_url}{BLOBS}/{key}/pin") as resp:
                await _raise_for_error(resp, key)

        await self._retrying(attempt)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        for n in range(self.attempts - 1):
            try:
                return await attempt()
            except StorageUnavailable:
                await asyncio.sleep(self.backoff_s * 2**n)
        return await attempt()


async def _raise_for_error(resp: aiohttp.ClientResponse, cid: str) -> None:
    """Raise the storage error a non-2xx answer stands for; ``cid`` is the blob the request was about."""
    if resp.status < 300:
        return
    try:
        body = await resp.json(content_type=None)
        code, detail = str(body["error"]), str(body["detail"])
    except (ValueError, KeyError, TypeError, aiohttp.ClientError):
        body, code, detail = {}, "", f"HTTP {resp.status} {resp.reason}"
    raise _error(resp.status, code, detail, cid, body)


def _error(status: int, code: str, detail: str, cid: str, body: dict[str, Any]) -> StorageError:
    if status == 503:
        return StorageUnavailable(f"ipfs-gateway: {detail}")
    if status == 404 and code == Code.NOT_FOUND:
        return BlobNotFound(cid)
    if status == 400 and code == Code.INVALID_CID:
        return InvalidCid(detail)
    if status == 502 and code == Code.CID_MISMATCH:
        return CidMismatch(cid, f"other bytes (the gateway's store: {detail})")
    if status == 413 and code == Code.TOO_LARGE:
        return BlobTooLarge(_int(body.get("size")), _int(body.get("max_size")))
    return StorageError(f"ipfs-gateway answered {status} {code}: {detail}")


def _int(value: object) -> int:
    return value if isinstance(value, int) else -1
