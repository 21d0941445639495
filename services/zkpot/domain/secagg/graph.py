"""Who masks with whom: SecAgg+'s sparse neighbourhood graph, and the rule that makes the survivors' masks cancel.

The graph puts the members on a ring in an order drawn from the round seed and links each to the ``degree // 2``
nearest on either side (an odd degree acts as the even one below it); ring distance is symmetric, so v is u's
neighbour exactly when u is v's. A degree of at least ``len(members) - 1`` links everyone (plain SecAgg).
"""

import hashlib
from collections.abc import Mapping, Sequence

from zkpot.domain.secagg.messages import MaskedInput, MaskKeys


def neighbours(members: Sequence[str], me: str, degree: int, round_seed: bytes) -> tuple[str, ...]:
    """``me``'s neighbours among ``members`` (sorted); the same ``round_seed`` gives every member the same ring."""
    if len(set(members)) != len(members) or me not in members:
        raise ValueError("members must be distinct and include me")
    if degree < 0:
        raise ValueError(f"a degree is not negative, got {degree}")
    ring = sorted(members, key=lambda m: (hashlib.sha256(round_seed + bytes.fromhex(m)).digest(), m))
    n, side = len(ring), degree // 2
    if degree >= n - 1 or 2 * side >= n - 1:
        return tuple(sorted(m for m in members if m != me))
    at = ring.index(me)
    return tuple(sorted(ring[(at + step) % n] for step in (*range(-side, 0), *range(1, side + 1))))


def consistent_survivors(keys: Mapping[str, MaskKeys], masked: Mapping[str, MaskedInput]) -> tuple[str, ...]:
    """The members of ``masked`` whose masks cancel (sorted); the caller treats the others as dropped.

    A member is kept when it advertised keys, every neighbour it lists advertised keys, and every neighbour it
    lists that also sent a masked input lists it back. Only a member that masked with someone who did not mask
    with it is left out, and leaving it out only removes constraints on the rest, so one pass is the fixed point.
    """
    def agrees(u: str) -> bool:
        listed = masked[u].neighbours
        return u in keys and all(v in keys and (v not in masked or u in masked[v].neighbours) for v in listed)

    return tuple(sorted(u for u in masked if agrees(u)))


def mask_sign(me: str, peer: str) -> int:
    """+1 when ``me`` adds the pair's mask (it comes first in hex order), -1 when it subtracts it."""
    return 1 if me < peer else -1
