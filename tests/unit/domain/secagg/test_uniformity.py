"""A masked vector must look uniform in the field; the same tests must fail on the vector before masking."""

from collections.abc import Sequence

from scipy import stats
from zkpot.domain.secagg import R, to_field

from .rounds import run

ALPHA = 0.001


def chi_square_p(vector: Sequence[int]) -> float:
    counts = [0] * 16
    for y in vector:
        counts[y * 16 // R] += 1
    return float(stats.chisquare(counts).pvalue)


def ks_p(vector: Sequence[int]) -> float:
    return float(stats.kstest([y / R for y in vector], "uniform").pvalue)


def test_masked_vectors_are_indistinguishable_from_uniform_and_the_inputs_are_not() -> None:
    r, survivors = run(4, 2000, degree=3, threshold=2)
    for u in survivors:
        masked = r.masked[u].vector
        assert chi_square_p(masked) > ALPHA and ks_p(masked) > ALPHA
        plain = to_field(r.xs[u])
        assert chi_square_p(plain) < ALPHA and ks_p(plain) < ALPHA
