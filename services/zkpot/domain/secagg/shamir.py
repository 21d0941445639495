"""Shamir t-of-n secret sharing over the BN254 scalar field, for 32-byte secrets.

A 32-byte secret is split into two 16-byte halves, each a field element shared with its own random polynomial
of degree t - 1. A share is self-describing bytes: its x-coordinate (4 bytes, 1..n) then the two y values (32
bytes each), so shares from different senders can be pooled without knowing how the owner numbered them.
``recover`` rebuilds from any subset and, given a check of the secret, finds a largest subset that passes,
so a share altered by a liar is left out and named.
"""

import itertools
from collections.abc import Callable, Mapping, Sequence

from zkpot.domain.reasons import Reason
from zkpot.domain.secagg.crypto import Randomness
from zkpot.domain.secagg.errors import SecAggError
from zkpot.domain.secagg.field import ELEMENT_BYTES, R

SECRET_BYTES = 32
X_BYTES = 4
SHARE_BYTES = X_BYTES + 2 * ELEMENT_BYTES
Check = Callable[[bytes], bool]
MAX_ATTEMPTS = 1024  # reconstructions tried by ``recover`` before it gives up on finding the liars
_HALF = SECRET_BYTES // 2


def split(secret: bytes, threshold: int, xs: Sequence[int], randomness: Randomness) -> dict[int, bytes]:
    """Shares of ``secret`` at each of ``xs`` (distinct, 1..2**32-1); any ``threshold`` of them rebuild it."""
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"a shared secret is {SECRET_BYTES} bytes, got {len(secret)}")
    if not 1 <= threshold <= len(xs) or len(set(xs)) != len(xs) or not all(0 < x < 2 ** (8 * X_BYTES) for x in xs):
        raise ValueError(f"need 1 <= threshold ({threshold}) <= {len(xs)} distinct positive x-coordinates")
    polys = [[int.from_bytes(half, "big")] + [_random_element(randomness) for _ in range(threshold - 1)]
             for half in (secret[:_HALF], secret[_HALF:])]
    return {x: _encode(x, [_evaluate(poly, x) for poly in polys]) for x in xs}


def combine(shares: Sequence[bytes], threshold: int) -> bytes:
    """The secret that ``shares`` (at least ``threshold``, distinct x) interpolate to at 0."""
    if len(shares) < threshold:
        raise SecAggError(Reason.SECAGG_TOO_FEW_SHARES, f"{len(shares)} shares, the threshold is {threshold}")
    points = [decode(share) for share in shares]
    xs = [x for x, _ in points]
    if len(set(xs)) != len(xs):
        raise SecAggError(Reason.SECAGG_BAD_SHARE, "two shares have the same x-coordinate")
    weights = _lagrange_at_zero(xs)
    halves = [sum(w * ys[i] for w, (_, ys) in zip(weights, points, strict=True)) % R for i in range(2)]
    if any(h >= 2 ** (8 * _HALF) for h in halves):
        raise SecAggError(Reason.SECAGG_BAD_SHARE, "the shares do not interpolate to a 32-byte secret")
    return b"".join(h.to_bytes(_HALF, "big") for h in halves)


def recover(shares: Mapping[str, bytes], threshold: int,
            check: Check) -> tuple[bytes, frozenset[str]]:
    """The secret from ``shares`` (keyed by who revealed them) that passes ``check``, and who gave shares outside
    the largest passing subset (bad bytes, or values off the polynomial): the inconsistent revealers."""
    valid = {who: share for who, share in shares.items() if _parses(share)}
    if len(valid) < threshold:
        raise SecAggError(Reason.SECAGG_TOO_FEW_SHARES,
                          f"{len(valid)} well-formed shares of {len(shares)}, the threshold is {threshold}")
    names = sorted(valid)
    attempts = 0
    for size in range(len(names), threshold - 1, -1):
        for subset in itertools.combinations(names, size):
            attempts += 1
            if attempts > MAX_ATTEMPTS:
                raise SecAggError(Reason.SECAGG_BAD_SHARE, f"no subset of the shares checks after {MAX_ATTEMPTS} tries")
            secret = _try_combine([valid[n] for n in subset], threshold)
            if secret is not None and check(secret):
                return secret, frozenset(shares) - frozenset(subset)
    raise SecAggError(Reason.SECAGG_BAD_SHARE, f"no {threshold} or more of the {len(names)} shares rebuild the secret")


def decode(share: bytes) -> tuple[int, list[int]]:
    """``(x, [y1, y2])`` of a share; ``SecAggError(secagg_bad_share)`` for bad bytes."""
    if len(share) != SHARE_BYTES:
        raise SecAggError(Reason.SECAGG_BAD_SHARE, f"a share is {SHARE_BYTES} bytes, got {len(share)}")
    x = int.from_bytes(share[:X_BYTES], "big")
    ys = [int.from_bytes(share[i:i + ELEMENT_BYTES], "big") for i in (X_BYTES, X_BYTES + ELEMENT_BYTES)]
    if x == 0 or any(y >= R for y in ys):
        raise SecAggError(Reason.SECAGG_BAD_SHARE, "a share has x = 0 or a value outside the field")
    return x, ys


def _parses(share: bytes) -> bool:
    try:
        decode(share)
    except SecAggError:
        return False
    return True


def _try_combine(shares: Sequence[bytes], threshold: int) -> bytes | None:
    try:
        return combine(shares, threshold)
    except SecAggError:
        return None


def _encode(x: int, ys: Sequence[int]) -> bytes:
    return x.to_bytes(X_BYTES, "big") + b"".join(y.to_bytes(ELEMENT_BYTES, "big") for y in ys)


def _evaluate(poly: Sequence[int], x: int) -> int:
    acc = 0
    for coefficient in reversed(poly):
        acc = (acc * x + coefficient) % R
    return acc


def _lagrange_at_zero(xs: Sequence[int]) -> list[int]:
    """Weights w_i with f(0) = sum w_i f(x_i) for every polynomial f of degree below ``len(xs)``."""
    weights = []
    for i, xi in enumerate(xs):
        num, den = 1, 1
        for j, xj in enumerate(xs):
            if j != i:
                num = num * xj % R
                den = den * (xj - xi) % R
        weights.append(num * pow(den, -1, R) % R)
    return weights


def _random_element(randomness: Randomness) -> int:
    return int.from_bytes(randomness(64), "big") % R
