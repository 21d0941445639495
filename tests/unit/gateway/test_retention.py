"""The retention rule over MemoryStore and MemoryIndex: only models and proofs of rounds long past go."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from zkpot.gateway import BlobKind, MemoryIndex
from zkpot.gateway.retention import Retention
from zkpot.metrics import Metrics
from zkpot.storage import MemoryStore
from zkpot.storage.errors import StorageUnavailable

MODEL, PROOF, GLOBAL = BlobKind.MODEL, BlobKind.PROOF, BlobKind.GLOBAL


async def stored(store: MemoryStore, index: MemoryIndex, kind: BlobKind, round_: int) -> str:
    cid = await store.add(f"{kind}:{round_}".encode())
    await index.record(cid, kind, 1, uploader="01" * 32, round=round_)
    return cid


def retention(store: MemoryStore, index: MemoryIndex, rounds: int, metrics: Metrics | None = None) -> Retention:
    return Retention(store, index, metrics or Metrics("ipfs-gateway"), rounds)


async def test_models_and_proofs_behind_the_last_rounds_go_and_globals_stay() -> None:
    store, index, metrics = MemoryStore(), MemoryIndex(), Metrics("ipfs-gateway")
    blobs = {(kind, r): await stored(store, index, kind, r) for kind in (MODEL, PROOF) for r in range(7)}
    globals_ = [await stored(store, index, GLOBAL, r) for r in range(1, 6)]  # the latest global model: round 5
    removed = await retention(store, index, 2, metrics).run_once()
    assert removed == Counter({MODEL: 3, PROOF: 3})  # rounds 1, 2, 3 (5 - 2); round 0 is not tied to a round
    gone = {key for key, cid in blobs.items() if not await store.has(cid)}
    assert gone == {(kind, r) for kind in (MODEL, PROOF) for r in (1, 2, 3)}
    assert all([await store.has(cid) for cid in globals_])
    assert all([await index.get(blobs[key]) is None for key in gone])
    assert metrics.registry.get_sample_value("zkpot_gateway_retention_removed_total", {"kind": "model"}) == 3
    assert await retention(store, index, 2).run_once() == Counter()


@pytest.mark.parametrize(("latest_global", "rounds"), [(0, 2), (50, 0)], ids=["no later global", "retention off"])
async def test_nothing_goes_without_a_later_global_model_or_with_retention_off(latest_global: int,
                                                                               rounds: int) -> None:
    """Only the producer uploads global models, so a member signing a far-future round moves no horizon."""
    store, index = MemoryStore(), MemoryIndex()
    old = await stored(store, index, MODEL, 1)
    await stored(store, index, PROOF, 10**9)
    if latest_global:
        await stored(store, index, GLOBAL, latest_global)
    assert await retention(store, index, rounds).run_once() == Counter()
    assert await store.has(old)


async def test_a_blob_already_gone_from_the_store_is_forgotten_too() -> None:
    store, index = MemoryStore(), MemoryIndex()
    cid = await stored(store, index, MODEL, 1)
    await stored(store, index, GLOBAL, 5)
    await store.remove(cid)  # a crash between the store's removal and the index's
    assert await retention(store, index, 1).run_once() == Counter({MODEL: 1})
    assert await index.get(cid) is None


class FlakyIndex(MemoryIndex):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def highest_round(self, kind: BlobKind) -> int:
        self.calls += 1
        if self.calls == 1:
            raise StorageUnavailable("database restarting")
        return await super().highest_round(kind)


async def test_running_forever_survives_a_failed_pass(caplog: pytest.LogCaptureFixture) -> None:
    store, index = MemoryStore(), FlakyIndex()
    cid = await stored(store, index, PROOF, 1)
    await stored(store, index, GLOBAL, 3)
    task = asyncio.create_task(retention(store, index, 1).run_forever(0.01))
    async with asyncio.timeout(5):
        while await store.has(cid):
            await asyncio.sleep(0.01)
    task.cancel()
    assert "retention pass failed" in caplog.text
