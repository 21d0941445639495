"""The BlobIndex contract; a SQL index joins the ``index`` fixture's params and must pass the same class."""

from __future__ import annotations

import pytest
from zkpot.gateway.index import BlobIndex, KindStats, MemoryIndex
from zkpot.gateway.wire import BlobKind
from zkpot.storage.cid import compute_cid

CID_A = compute_cid(b"a")
CID_B = compute_cid(b"b")


@pytest.fixture(params=["memory"])
def index(request: pytest.FixtureRequest) -> BlobIndex:
    return MemoryIndex()


class TestBlobIndexContract:
    async def test_record_says_whether_the_cid_was_new(self, index: BlobIndex) -> None:
        assert await index.record(CID_A, BlobKind.PROOF, 10)
        assert not await index.record(CID_A, BlobKind.PROOF, 10)

    async def test_a_known_cid_keeps_its_first_kind_and_first_seen(self, index: BlobIndex) -> None:
        await index.record(CID_A, BlobKind.MODEL, 10)
        first = await index.get(CID_A)
        await index.record(CID_A, BlobKind.GLOBAL, 10)
        assert await index.get(CID_A) == first
        assert first is not None and first.kind is BlobKind.MODEL and first.size == 10 and not first.pinned

    async def test_mark_pinned_flags_a_recorded_blob_and_ignores_others(self, index: BlobIndex) -> None:
        await index.record(CID_A, BlobKind.PROOF, 1)
        await index.mark_pinned(CID_A)
        await index.mark_pinned(CID_B)
        record = await index.get(CID_A)
        assert record is not None and record.pinned
        assert await index.get(CID_B) is None

    async def test_stats_count_and_sum_per_kind_with_every_kind_present(self, index: BlobIndex) -> None:
        assert await index.stats() == {kind: KindStats() for kind in BlobKind}
        await index.record(CID_A, BlobKind.PROOF, 10)
        await index.record(CID_B, BlobKind.PROOF, 5)
        stats = await index.stats()
        assert stats[BlobKind.PROOF] == KindStats(2, 15)
        assert stats[BlobKind.MODEL] == KindStats(0, 0)
