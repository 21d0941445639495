"""HTTP plumbing shared by the Kubo adapter and the gateway client: one mapping of transport errors, one
size-bounded body reader, one session life cycle."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, Self

import aiohttp

from zkpot.storage.errors import BlobTooLarge, StorageUnavailable

READ_CHUNK = 256 * 1024
DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=120)


@contextlib.asynccontextmanager
async def transport_errors(peer: str) -> AsyncIterator[None]:
    """Turn connection failures, timeouts and broken bodies into ``StorageUnavailable`` (retryable)."""
    try:
        yield
    except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
        raise StorageUnavailable(f"{peer}: {type(exc).__name__}: {exc}") from exc


async def read_limited(stream: aiohttp.StreamReader, max_size: int, declared: int | None = None) -> bytes:
    """Read a whole body, but raise ``BlobTooLarge`` as soon as it (or its declared length) passes ``max_size``."""
    if declared is not None and declared > max_size:
        raise BlobTooLarge(declared, max_size)
    buf = bytearray()
    async for chunk in stream.iter_chunked(READ_CHUNK):
        buf += chunk
        if len(buf) > max_size:
            raise BlobTooLarge(len(buf), max_size)
    return bytes(buf)


class HttpClient:
    """Owns an aiohttp session unless given one (then its owner closes it); usable as ``async with``."""

    peer = "http"  # names the other side in StorageUnavailable messages

    def __init__(self, session: aiohttp.ClientSession | None, timeout: aiohttp.ClientTimeout) -> None:
        self._session = session
        self._owns_session = session is None
        self._timeout = timeout

    @contextlib.asynccontextmanager
    async def _request(self, method: str, url: str, **kwargs: Any) -> AsyncIterator[aiohttp.ClientResponse]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        async with transport_errors(self.peer), self._session.request(method, url, **kwargs) as resp:
            yield resp

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
