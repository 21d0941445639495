"""``GatewayClient``: how the other services store and fetch blobs through the ipfs-gateway.

It trusts nothing the gateway says about content: ``put`` checks the returned CID against the bytes it sent and
``get`` hashes what it received. Uploads are signed with ``signer`` (see ``wire``); a client without one can only
read. Failures arrive as ``zkpot.storage.errors`` or, for a refused upload, ``UploadRefused`` (401/403: not
retryable, the key or the clock is wrong) and its subclass ``QuotaExceeded`` (429: retry later). Only
``StorageUnavailable`` (a 503 or a connection failure) is retried here, with exponential backoff, and raised once
the attempts run out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aiohttp

from zkpot.domain.errors import Disposition
from zkpot.domain.keys import SigningKey
from zkpot.gateway.wire import BLOBS, REFUSALS, BlobKind, Code, UploadClaim, sign_upload
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


class UploadRefused(StorageError):
    """The gateway refused to store an upload (unsigned, unknown key, bad signature, clock skew, a kind the key may
    not upload, a body that is not the signed one): fix the configuration; retrying will not help."""

    disposition = Disposition.FAIL

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(f"ipfs-gateway refused the upload ({status} {code}): {detail}")
        self.status, self.code, self.detail = status, code, detail


class QuotaExceeded(UploadRefused):
    """The uploader's quota for the gateway's window is used up; retry after ``retry_after_s``."""

    disposition = Disposition.RETRY

    def __init__(self, status: int, code: str, detail: str, retry_after_s: float) -> None:
        super().__init__(status, code, detail)
        self.retry_after_s = retry_after_s


class GatewayClient(HttpClient):
    """Client of the gateway at ``base_url`` (``ZKPOT_GATEWAY_URL``)."""

    peer = "ipfs-gateway"

    def __init__(self, base_url: str, *, signer: SigningKey | None = None, session: aiohttp.ClientSession | None = None,
                 attempts: int = 4, backoff_s: float = 0.25, timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
                 clock: Callable[[], float] = time.time) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        super().__init__(session, timeout)
        self.base_url = base_url.rstrip("/")
        self.signer = signer
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.clock = clock

    async def put(self, kind: BlobKind | str, data: bytes, *, round: int = 0, signer: SigningKey | None = None) -> str:
        """Store ``data`` as a blob of ``kind`` for ``round`` (0: no round; the gateway never expires it) and
        return its CID (``ValueError`` for an unknown kind). ``signer`` overrides the client's key for this upload
        (a load test playing many members); with neither, the upload goes unsigned and is refused."""
        kind = BlobKind(kind)
        expected = await cid_of(data)
        key = signer or self.signer

        async def attempt() -> Any:
            headers = {} if key is None else sign_upload(key, UploadClaim(
                "POST", BLOBS, kind, expected, len(data), int(self.clock() * 1000), round))
            async with self._request("POST", f"{self.base_url}{BLOBS}", params={"kind": kind}, data=data,
                                     headers=headers) as resp:
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
    raise _error(resp.status, code, detail, cid, body, resp.headers.get("Retry-After"))


def _error(status: int, code: str, detail: str, cid: str, body: dict[str, Any],
           retry_after: str | None = None) -> StorageError:
    if status == 429:
        return QuotaExceeded(status, code, detail, _seconds(retry_after))
    if status in REFUSALS.values():
        return UploadRefused(status, code, detail)
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


def _seconds(text: str | None, default: float = 60.0) -> float:
    try:
        return max(0.0, float(text)) if text is not None else default
    except ValueError:
        return default
