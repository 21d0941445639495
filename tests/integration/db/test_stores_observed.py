"""The observed-messages contract that the trainer, producer and validator stores share: each test runs on each of
the three, on the in-memory twin and on the SQL repository over a real PostgreSQL (conftest.py)."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from zkpot.db import ProducerRepo, TrainerRepo, ValidatorRepo
from zkpot.db.errors import UnknownStatus
from zkpot.db.memory import MemoryProducerRepo, MemoryTrainerRepo, MemoryValidatorRepo
from zkpot.db.rows import ObservedRow

ME, PEER = "ab" * 32, "cd" * 32
STORES: dict[str, tuple[type, type]] = {"trainer": (MemoryTrainerRepo, TrainerRepo),
                                        "block-producer": (MemoryProducerRepo, ProducerRepo),
                                        "validator": (MemoryValidatorRepo, ValidatorRepo)}


@pytest.fixture(params=list(STORES))
def store(request: pytest.FixtureRequest, store_engine: Callable[[str], AsyncEngine] | None) -> Any:
    """The service's store on this test's backend (``store_engine``: None for the in-memory twin)."""
    memory, sql = STORES[request.param]
    return memory() if store_engine is None else sql(store_engine(request.param))


def _message(ref: str, *, kind: str = "mask_keys", round: int = 3, sender: str = PEER, stored_ms: int = 1_000,
             payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"kind": kind, "round": round, "sender": sender, "ref": ref, "stored_ms": stored_ms,
            "payload": {"ref": ref, "keys": [1, 2]} if payload is None else payload}


class TestObservedStore:
    async def test_a_message_is_kept_and_read_back_whole(self, store) -> None:
        payload = {"member": "2", "shares": [{"to": "3", "box": "ff" * 8}], "big": 2**62, "none": None}
        assert await store.observe(ME, **_message("m1", payload=payload, stored_ms=1_700_000_000_123)) is True
        assert await store.observed(ME, 3, "mask_keys") == [ObservedRow(
            owner=ME, kind="mask_keys", round=3, sender=PEER, ref="m1", payload=payload, stored_ms=1_700_000_000_123)]

    async def test_a_redelivery_keeps_the_first_copy(self, store) -> None:
        assert await store.observe(ME, **_message("m1", payload={"n": 1})) is True
        assert await store.observe(ME, **_message("m1", payload={"n": 2}, round=4, stored_ms=9)) is False
        assert await store.observe(ME, **_message("m1", kind="reveal", payload={"n": 3})) is True  # other kind
        assert [row.payload for row in await store.observed(ME, 3, "mask_keys")] == [{"n": 1}]
        assert await store.observed(ME, 4, "mask_keys") == []
        assert [row.payload for row in await store.observed(ME, 3, "reveal")] == [{"n": 3}]

    async def test_a_round_reads_back_in_store_time_then_ref_order(self, store) -> None:
        for ref, stored_ms in [("c", 20), ("b", 10), ("z", 5), ("a", 20)]:
            await store.observe(ME, **_message(ref, stored_ms=stored_ms))
        await store.observe(ME, **_message("other-round", round=4, stored_ms=1))
        await store.observe(ME, **_message("other-kind", kind="share_bundle", stored_ms=1))
        assert [row.ref for row in await store.observed(ME, 3, "mask_keys")] == ["z", "b", "a", "c"]

    async def test_owners_sharing_a_schema_see_only_their_own(self, store) -> None:
        assert await store.observe(ME, **_message("m1", payload={"seen_by": "me"})) is True
        assert await store.observe(PEER, **_message("m1", payload={"seen_by": "peer"})) is True
        assert [row.payload for row in await store.observed(ME, 3, "mask_keys")] == [{"seen_by": "me"}]
        assert [row.owner for row in await store.observed(PEER, 3, "mask_keys")] == [PEER]
        assert await store.forget_observed(PEER, 10) == 1
        assert len(await store.observed(ME, 3, "mask_keys")) == 1

    async def test_forgetting_drops_the_rounds_before_one(self, store) -> None:
        for round_ in (1, 2, 3, 4):
            await store.observe(ME, **_message(f"r{round_}", round=round_))
            await store.observe(ME, **_message(f"r{round_}", round=round_, kind="reveal"))
        assert await store.forget_observed(ME, 3) == 4
        assert await store.forget_observed(ME, 3) == 0
        assert await store.observed(ME, 2, "reveal") == []
        assert [row.ref for row in await store.observed(ME, 3, "reveal")] == ["r3"]
        assert await store.observe(ME, **_message("r1", round=1)) is True  # forgotten: a late copy is new again

    async def test_a_read_back_payload_is_a_copy(self, store) -> None:
        await store.observe(ME, **_message("m1", payload={"k": (1, 2)}))
        (first,) = await store.observed(ME, 3, "mask_keys")
        assert first.payload == {"k": [1, 2]}
        first.payload["k"].append(3)
        (again,) = await store.observed(ME, 3, "mask_keys")
        assert again.payload == {"k": [1, 2]}

    @pytest.mark.parametrize("kind", ["", "k" * 33])
    async def test_a_kind_must_be_short_and_not_empty(self, store, kind: str) -> None:
        with pytest.raises(UnknownStatus, match="observed kind"):
            await store.observe(ME, **_message("m1", kind=kind))
        assert await store.observe(ME, **_message("m1", kind="k" * 32)) is True


class TestLatestObservedRound:
    async def test_the_highest_round_of_a_kind_for_the_owner(self, store) -> None:
        assert await store.latest_observed_round(ME, "round_open") is None
        for ref, round_ in (("a", 2), ("b", 7), ("c", 5)):
            await store.observe(ME, **_message(ref, kind="round_open", round=round_))
        await store.observe(ME, **_message("d", kind="mask_keys", round=9))
        await store.observe(PEER, **_message("e", kind="round_open", round=11))
        assert await store.latest_observed_round(ME, "round_open") == 7
