"""``BlobStore`` over the Kubo RPC API (``/api/v0``), as served by Kubo in Kubernetes and by js-ipfs in tests.

The store holds exactly the blobs pinned on the node: ``add`` pins, ``has`` asks the pin set, and ``cat`` and
``pin`` refuse a CID that is not pinned instead of letting the node look for it on the network (a node with no
peers would wait forever). ``add`` compares the node's CID with ``compute_cid`` so a node configured with other
import parameters is caught at once rather than producing CIDs the embedded store would not.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping

import aiohttp

from zkpot.storage._http import DEFAULT_TIMEOUT, HttpClient, read_limited
from zkpot.storage.base import checked, cid_of
from zkpot.storage.cid import CHUNK_SIZE, normalize_cid
from zkpot.storage.errors import BlobNotFound, CidMismatch, StorageError, StorageUnavailable

ADD_PARAMS = {
    "cid-version": "1",
    "raw-leaves": "true",
    "chunker": f"size-{CHUNK_SIZE}",
    "hash": "sha2-256",
    "pin": "true",
    "cid-base": "base32",
}


class KuboStore(HttpClient):
    """Client of one node's RPC API at ``api_url`` (``http://host:5001``)."""

    peer = "IPFS RPC API"

    def __init__(self, api_url: str, *, session: aiohttp.ClientSession | None = None,
                 timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT) -> None:
        super().__init__(session, timeout)
        self.api_url = api_url.rstrip("/").removesuffix("/api/v0")

    async def add(self, data: bytes) -> str:
        expected = await cid_of(data)
        form = aiohttp.FormData()
        form.add_field("file", data, filename="blob", content_type="application/octet-stream")
        body = await self._call("add", ADD_PARAMS, form)
        actual = normalize_cid(_last_json_line(body)["Hash"])
        if actual != expected:
            raise CidMismatch(expected, actual)
        return actual

    async def cat(self, cid: str, max_size: int) -> bytes:
        key = await self._require(cid)
        async with self._open("cat", {"arg": key, "length": str(max_size + 1)}) as resp:
            data = await read_limited(resp.content, max_size)
        return await checked(key, data)

    async def pin(self, cid: str) -> None:
        """Blobs enter only through ``add``, which pins them; so this confirms the pin (idempotent)."""
        await self._require(cid)

    async def has(self, cid: str) -> bool:
        try:
            await self._call("pin/ls", {"arg": normalize_cid(cid), "type": "recursive"})
        except BlobNotFound:
            return False
        return True

    async def remove(self, cid: str) -> bool:
        """Unpin; the blocks stay on the node until its garbage collection runs (``ipfs repo gc``, or Kubo's
        ``--enable-gc``), but ``has``, ``cat`` and ``pin`` refuse the blob at once."""
        try:
            await self._call("pin/rm", {"arg": normalize_cid(cid), "recursive": "true"})
        except BlobNotFound:
            return False
        return True

    async def _require(self, cid: str) -> str:
        key = normalize_cid(cid)
        if not await self.has(key):
            raise BlobNotFound(key)
        return key

    async def _call(self, command: str, params: Mapping[str, str], data: aiohttp.FormData | None = None) -> bytes:
        async with self._open(command, params, data) as resp:
            return await resp.read()

    @contextlib.asynccontextmanager
    async def _open(self, command: str, params: Mapping[str, str],
                    data: aiohttp.FormData | None = None) -> AsyncIterator[aiohttp.ClientResponse]:
        async with self._request("POST", f"{self.api_url}/api/v0/{command}", params=params, data=data) as resp:
            if resp.status != 200:
                raise _rpc_error(command, params, resp.status, await resp.read())
            yield resp


def _rpc_error(command: str, params: Mapping[str, str], status: int, body: bytes) -> StorageError:
    """Kubo answers errors as ``{"Message", "Code", "Type"}``, mostly with status 500."""
    try:
        message = str(json.loads(body)["Message"])
    except (ValueError, KeyError, TypeError):
        message = body[:200].decode("utf-8", "replace")
    if "not pinned" in message:
        return BlobNotFound(params.get("arg", "?"))
    if status >= 500:
        return StorageUnavailable(f"IPFS RPC {command} failed ({status}): {message}")
    return StorageError(f"IPFS RPC {command} rejected ({status}): {message}")


def _last_json_line(body: bytes) -> dict[str, str]:
    """``add`` streams one JSON object per line (progress, then the file); the last names the root."""
    try:
        answer = json.loads(body.strip().splitlines()[-1])
        if not isinstance(answer, dict) or not isinstance(answer.get("Hash"), str):
            raise ValueError("no Hash")
        return answer
    except (ValueError, IndexError) as exc:
        raise StorageError(f"IPFS RPC add: unreadable answer {body[:200]!r} ({exc})") from None
