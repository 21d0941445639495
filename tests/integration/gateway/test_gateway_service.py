"""The gateway's composition root on a real PostgreSQL: uploaders from the genesis file and ZKPOT_GATEWAY_UPLOADERS,
limits and retention from the settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from zkpot.config import Settings
from zkpot.gateway import BlobKind, GatewayClient, UploadRefused
from zkpot.metrics import Metrics
from zkpot.services.gateway import Gateway, build_gateway
from zkpot.storage.errors import BlobTooLarge
from zkpot.task import write_genesis

from tests.unit.domain.builders import CLIENTS, GENESIS, PRODUCER, VALIDATORS, key

pytestmark = pytest.mark.integration
EXTRA = key(50)


@pytest.fixture
async def served(migrated_database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Gateway, str]]:
    write_genesis(GENESIS, tmp_path / "genesis.json")
    settings = Settings.from_env("ipfs-gateway", {
        "ZKPOT_NATS_URL": "nats://unused", "ZKPOT_DATABASE_URL": migrated_database_url,
        "ZKPOT_GENESIS": str(tmp_path / "genesis.json"), "ZKPOT_IPFS_BACKEND": "local",
        "ZKPOT_BLOB_DIR": str(tmp_path / "blobs"), "ZKPOT_GATEWAY_UPLOADERS": EXTRA.public_hex,
        "ZKPOT_GATEWAY_MAX_PROOF_BYTES": "10", "ZKPOT_GATEWAY_RETAIN_ROUNDS": "1",
        "ZKPOT_GATEWAY_RETENTION_INTERVAL_S": "1"})
    gateway, app = await build_gateway(settings, Metrics("ipfs-gateway"))
    async with TestServer(app) as server:
        await gateway.start()
        try:
            yield gateway, str(server.make_url(""))
        finally:
            await gateway.stop()


async def test_genesis_parties_and_extra_keys_upload_what_their_roles_may(served: tuple[Gateway, str]) -> None:
    _, url = served
    async with GatewayClient(url, backoff_s=0) as client:
        await client.put(BlobKind.MODEL, b"sealed", signer=CLIENTS[0])
        await client.put(BlobKind.GLOBAL, b"global", signer=PRODUCER)
        await client.put(BlobKind.PROOF, b"proof", signer=EXTRA)
        refusals = [(VALIDATORS[0], BlobKind.PROOF, UploadRefused), (key(51), BlobKind.MODEL, UploadRefused),
                    (CLIENTS[0], BlobKind.PROOF, BlobTooLarge)]  # proofs are capped at 10 bytes here
        for signer, kind, error in refusals:
            with pytest.raises(error):
                await client.put(kind, b"p" * 11, signer=signer)


async def test_the_retention_task_removes_old_rounds(served: tuple[Gateway, str]) -> None:
    gateway, url = served
    async with GatewayClient(url, backoff_s=0) as client:
        old = await client.put(BlobKind.MODEL, b"round 1", round=1, signer=CLIENTS[0])
        await client.put(BlobKind.GLOBAL, b"global 3", round=3, signer=PRODUCER)
        async with asyncio.timeout(10):
            while await gateway.store.has(old):
                await asyncio.sleep(0.05)
