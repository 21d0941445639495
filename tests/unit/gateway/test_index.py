"""The BlobIndex contract; a SQL index joins the ``index`` fixture's params and must pass the same class."""

from __future__ import annotations

import pytest
from zkpot.gateway.index import BlobIndex, KindStats, MemoryIndex
from zkpot.gateway.wire import BlobKind
from zkpot.storage.cid import compute_cid

CID_A = compute_cid(b"a")
CID_B = compute_cid(b"b")
CID_C = compute_cid(b"c")
KEY_1, KEY_2 = "01" * 32, "02" * 32


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

    async def test_a_blob_keeps_its_first_uploader_and_round(self, index: BlobIndex) -> None:
        await index.record(CID_A, BlobKind.PROOF, 1, uploader=KEY_1, round=4)
        await index.record(CID_A, BlobKind.PROOF, 1, uploader=KEY_2, round=9)
        record = await index.get(CID_A)
        assert record is not None and (record.uploader, record.round) == (KEY_1, 4)
        await index.record(CID_B, BlobKind.OTHER, 1)
        unsigned = await index.get(CID_B)
        assert unsigned is not None and (unsigned.uploader, unsigned.round) == (None, 0)

    async def test_usage_counts_what_one_uploader_stored_first(self, index: BlobIndex) -> None:
        await index.record(CID_A, BlobKind.MODEL, 10, uploader=KEY_1)
        await index.record(CID_A, BlobKind.MODEL, 10, uploader=KEY_1)
        await index.record(CID_B, BlobKind.MODEL, 5, uploader=KEY_1)
        await index.record(CID_C, BlobKind.PROOF, 7, uploader=KEY_2)
        assert await index.usage(KEY_1, 3600) == KindStats(2, 15)
        assert await index.usage(KEY_2, 3600) == KindStats(1, 7)
        assert await index.usage("ff" * 32, 3600) == KindStats(0, 0)

    async def test_the_highest_round_of_a_kind(self, index: BlobIndex) -> None:
        assert await index.highest_round(BlobKind.GLOBAL) == 0
        await index.record(CID_A, BlobKind.GLOBAL, 1, round=3)
        await index.record(CID_B, BlobKind.GLOBAL, 1, round=5)
        await index.record(CID_C, BlobKind.MODEL, 1, round=9)
        assert await index.highest_round(BlobKind.GLOBAL) == 5

    async def test_expired_lists_blobs_of_the_kinds_and_rounds_oldest_first(self, index: BlobIndex) -> None:
        rows = [(b"m2", BlobKind.MODEL, 2), (b"p1", BlobKind.PROOF, 1), (b"p3", BlobKind.PROOF, 3),
                (b"g1", BlobKind.GLOBAL, 1), (b"m0", BlobKind.MODEL, 0), (b"m4", BlobKind.MODEL, 4)]
        for data, kind, round_ in rows:
            await index.record(compute_cid(data), kind, 1, round=round_)
        expired = await index.expired({BlobKind.MODEL, BlobKind.PROOF}, 3, 10)
        assert [(r.cid, r.round) for r in expired] == [(compute_cid(b"p1"), 1), (compute_cid(b"m2"), 2),
                                                       (compute_cid(b"p3"), 3)]
        assert [r.cid for r in await index.expired({BlobKind.MODEL, BlobKind.PROOF}, 3, 1)] == [compute_cid(b"p1")]

    async def test_forget_drops_the_record(self, index: BlobIndex) -> None:
        await index.record(CID_A, BlobKind.PROOF, 3, uploader=KEY_1)
        await index.forget(CID_A)
        await index.forget(CID_B)
        assert await index.get(CID_A) is None
        assert await index.usage(KEY_1, 3600) == KindStats(0, 0)
        assert (await index.stats())[BlobKind.PROOF] == KindStats(0, 0)
