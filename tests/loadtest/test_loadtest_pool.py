"""Pool cache keys, the entry files, distinct commitments and the one-generation-at-a-time lock."""

import threading
from pathlib import Path

import pytest
from zkpot.errors import InputError

from loadtest.pool import (
    PoolEntry,
    Recipe,
    check_distinct,
    circuit_key,
    entry_dir,
    entry_key,
    generation_lock,
    read_entry,
    write_entry,
)

SUMMARY = {"pipeline": "plain", "spec": {"samples": 16}, "vk_sha256": "ab" * 32, "srs_sha256": "cd" * 32,
           "instances_digest": "ef" * 32, "logrows": 15}


def entry(index: int, commitment: str = "") -> PoolEntry:
    return PoolEntry(index, commitment or f"c{index}", 12, 16, 125, b"npz-bytes", b'{"proof": []}', 21.5)


def test_circuit_key_depends_on_everything_genesis_pins_of_the_proof_system() -> None:
    base = circuit_key(SUMMARY)
    assert circuit_key(dict(reversed(SUMMARY.items()))) == base  # key order is irrelevant
    for fact in SUMMARY:
        assert circuit_key(SUMMARY | {fact: "other"}) != base, fact
    assert circuit_key(SUMMARY | {"chunks": [{"vk_sha256": "00"}]}) != base


def test_circuit_key_needs_the_pipeline_and_its_spec() -> None:
    for missing in ("pipeline", "spec"):
        with pytest.raises(InputError, match="pipeline and spec"):
            circuit_key({k: v for k, v in SUMMARY.items() if k != missing})


def test_entry_key_differs_by_circuit_recipe_and_index() -> None:
    key = entry_key("circuit", Recipe(), 3)
    assert key == entry_key("circuit", Recipe(), 3)
    others = {entry_key("other", Recipe(), 3), entry_key("circuit", Recipe(epochs=16), 3),
              entry_key("circuit", Recipe(), 4)}
    assert key not in others and len(others) == 3
    with pytest.raises(InputError):
        entry_key("circuit", Recipe(), -1)


def test_entries_round_trip_and_a_partial_one_reads_as_missing(tmp_path: Path) -> None:
    path = entry_dir("circuit", Recipe(), 7, tmp_path)
    assert path.parent == tmp_path / "loadtest" / "circuit"
    assert read_entry(path) is None
    write_entry(path, entry(7), {"recipe": Recipe().to_dict()})
    assert read_entry(path) == entry(7)
    (path / "proof.json").unlink()
    assert read_entry(path) is None


def test_write_entry_replaces_a_stale_entry(tmp_path: Path) -> None:
    path = entry_dir("circuit", Recipe(), 0, tmp_path)
    write_entry(path, entry(0, "old"), {})
    write_entry(path, entry(0, "new"), {})
    assert read_entry(path).commitment == "new"  # type: ignore[union-attr]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary folder left


def test_a_pool_with_a_repeated_commitment_is_refused() -> None:
    check_distinct([entry(0), entry(1)])
    with pytest.raises(InputError, match="entries 0 and 2"):
        check_distinct([entry(0, "same"), entry(1), entry(2, "same")])


def test_a_second_generation_waits_for_the_first(tmp_path: Path) -> None:
    order: list[str] = []
    waited = threading.Event()

    def second() -> None:
        with generation_lock(tmp_path, on_wait=waited.set):
            order.append("second")

    with generation_lock(tmp_path):
        thread = threading.Thread(target=second)
        thread.start()
        assert waited.wait(10), "the second generation did not notice the first"
        order.append("first")
    thread.join(10)
    assert order == ["first", "second"]
