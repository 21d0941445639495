import pytest
from zkpot.domain.secagg.field import R
from zkpot.domain.secagg.prg import SeededRandomness, expand, pair_mask, self_mask

SEED = bytes(range(32))


def test_expand_is_deterministic_and_prefix_stable() -> None:
    assert expand(SEED, 100, b"a") == expand(SEED, 100, b"a")
    assert expand(SEED, 100, b"a")[:10] == expand(SEED, 10, b"a")
    assert all(0 <= e < R for e in expand(SEED, 1000, b"a"))


def test_labels_and_seeds_separate_the_streams() -> None:
    streams = [expand(SEED, 8, b"a"), expand(SEED, 8, b"b"), expand(bytes(32), 8, b"a"),
               self_mask(SEED, 8), pair_mask(SEED, 8)]
    assert len({tuple(s) for s in streams}) == len(streams)


def test_the_stream_is_pinned() -> None:
    """Masks are recomputed by other parties, so the stream may never change: a fixed vector."""
    assert expand(bytes(32), 2, b"label")[1] == 0x14BE334085C42FA0B2FF17F0853545FA105541B9C56E72D4BA93A548453E9572
    assert expand(bytes(32), 0, b"") == []


def test_bad_seed_or_length_is_refused() -> None:
    with pytest.raises(ValueError):
        expand(b"short", 1, b"a")
    with pytest.raises(ValueError):
        expand(SEED, -1, b"a")


def test_seeded_randomness_is_reproducible_and_reads_on() -> None:
    a, b = SeededRandomness(b"x"), SeededRandomness(b"x")
    first = a(16)
    assert first == b(16) and a(16) != first and SeededRandomness(b"y")(16) != first
