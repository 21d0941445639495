"""A whole secure-aggregation round run in memory, with hooks for dropouts and liars, for the protocol tests."""

import dataclasses
import random
from collections.abc import Mapping, Sequence

from zkpot.domain.keys import SigningKey
from zkpot.domain.secagg import (
    MaskedVector,
    MaskKeys,
    Member,
    Reveal,
    ShareBundle,
    consistent_survivors,
    encode_vector,
    neighbours,
)
from zkpot.domain.secagg.prg import SeededRandomness

ROUND = 7
TX_ID = "ab" * 32


@dataclasses.dataclass
class Round:
    members: dict[str, Member]
    xs: dict[str, list[int]]
    keys: dict[str, MaskKeys] = dataclasses.field(default_factory=dict)
    bundles: dict[str, ShareBundle] = dataclasses.field(default_factory=dict)
    masked: dict[str, MaskedVector] = dataclasses.field(default_factory=dict)
    reveals: list[Reveal] = dataclasses.field(default_factory=list)

    def plain_sum(self, survivors: Sequence[str]) -> list[int]:
        return [sum(col) for col in zip(*(self.xs[u] for u in survivors), strict=True)]


def signing_keys(n: int, seed: int = 1) -> list[SigningKey]:
    return [SigningKey.from_seed(bytes([seed, i]) * 16) for i in range(n)]


def member_ids(n: int, seed: int = 1) -> list[str]:
    """The members ``setup(n, ..., seed)`` has, sorted."""
    return sorted(k.public_hex for k in signing_keys(n, seed))


def setup(n: int, length: int, degree: int, seed: int = 1) -> Round:
    """``n`` members with seeded secrets and random inputs in [-10**6, 10**6]."""
    keys = signing_keys(n, seed)
    ids = [k.public_hex for k in keys]
    rnd = random.Random(seed)
    members = {k.public_hex: Member(k, ROUND, neighbours(ids, k.public_hex, degree, b"round-seed"),
                                    SeededRandomness(bytes([seed, i]))) for i, k in enumerate(keys)}
    xs = {u: [rnd.randint(-10**6, 10**6) for _ in range(length)] for u in members}
    return Round(members, xs)


def advertise_and_share(r: Round, threshold: int, silent: Sequence[str] = ()) -> None:
    r.keys = {u: m.keys() for u, m in r.members.items()}
    r.bundles = {u: m.share(r.keys, threshold) for u, m in r.members.items() if u not in silent}


def mask_all(r: Round, absent: Sequence[str] = (), bundles: Mapping[str, Mapping[str, ShareBundle]] | None = None,
             ) -> None:
    """Every member not ``absent`` masks; ``bundles`` overrides what a member received."""
    for u, m in r.members.items():
        if u in absent or u not in r.bundles:
            continue
        y, _ = m.mask(r.xs[u], (bundles or {}).get(u, r.bundles))
        blob = encode_vector(y)
        r.masked[u] = MaskedVector.from_blob(m.masked_input(TX_ID, blob, "cid"), blob, len(y))


def reveal_all(r: Round, silent: Sequence[str] = ()) -> list[str]:
    """The consistent survivors reveal (except ``silent``); returns the survivors."""
    survivors = list(consistent_survivors(r.keys, {u: v.message for u, v in r.masked.items()}))
    dropped = [u for u in r.members if u not in survivors]
    r.reveals = [r.members[u].reveal(r.bundles, survivors, dropped) for u in survivors if u not in silent]
    r.masked = {u: r.masked[u] for u in survivors}
    return survivors


def run(n: int, length: int, degree: int, threshold: int, *, no_share: Sequence[str] = (),
        no_mask: Sequence[str] = (), no_reveal: Sequence[str] = (), seed: int = 1) -> tuple[Round, list[str]]:
    r = setup(n, length, degree, seed)
    advertise_and_share(r, threshold, no_share)
    mask_all(r, no_mask)
    return r, reveal_all(r, no_reveal)


def ids(r: Round) -> list[str]:
    return sorted(r.members)
