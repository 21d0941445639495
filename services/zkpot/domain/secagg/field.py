"""Arithmetic in the BN254 scalar field, where masks and sums live so the KZG commitments can check them.

Elements are plain Python ints in ``[0, R)`` held in lists (they exceed 64 bits). A signed integer maps to its
residue; ``lift`` maps a residue back to the signed integer in ``(-R/2, R/2)``, which is exact as long as the true
sum stays within that range.
"""

from collections.abc import Iterable, Sequence

R = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001
ELEMENT_BYTES = 32  # big-endian width of one element on the wire (R < 2**254)
_HALF = R // 2


def to_field(ints: Iterable[int]) -> list[int]:
    """Signed integers as field elements (negative ones wrap to ``R - |x|``)."""
    return [x % R for x in ints]


def lift(elements: Iterable[int]) -> list[int]:
    """Field elements as the signed integers in ``(-R/2, R/2)`` they represent."""
    return [e - R if e > _HALF else e for e in elements]


def add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    _same_length(a, b)
    return [(x + y) % R for x, y in zip(a, b, strict=True)]


def sub(a: Sequence[int], b: Sequence[int]) -> list[int]:
    _same_length(a, b)
    return [(x - y) % R for x, y in zip(a, b, strict=True)]


def add_into(acc: list[int], b: Sequence[int], sign: int = 1) -> None:
    """``acc += sign * b`` in place, without reducing: call ``reduce`` once after many additions."""
    _same_length(acc, b)
    if sign == 1:
        acc[:] = [x + y for x, y in zip(acc, b, strict=True)]
    else:
        acc[:] = [x - y for x, y in zip(acc, b, strict=True)]


def reduce(acc: Iterable[int]) -> list[int]:
    return [x % R for x in acc]


def _same_length(a: Sequence[int], b: Sequence[int]) -> None:
    if len(a) != len(b):
        raise ValueError(f"vectors of lengths {len(a)} and {len(b)}")
