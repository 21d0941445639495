"""Small statistics for the report: percentiles, rates and summaries that stay JSON-friendly (None, not NaN)."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's default); None if empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must lie in 0..100, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summary(values: Sequence[float], digits: int = 4) -> dict[str, float | int | None]:
    """n, mean, p50, p95, p99 and max, rounded; every figure None when there are no values."""
    def r(x: float | None) -> float | None:
        return None if x is None else round(x, digits)

    return {
        "n": len(values),
        "mean": r(sum(values) / len(values)) if values else None,
        "p50": r(percentile(values, 50)),
        "p95": r(percentile(values, 95)),
        "p99": r(percentile(values, 99)),
        "max": r(max(values)) if values else None,
    }


def rate(count: int, start: float | None, end: float | None) -> float | None:
    """Events per second over [start, end]; None when the window is unknown or empty."""
    if start is None or end is None or end <= start or count <= 0:
        return None
    return round(count / (end - start), 3)


def span(times: Sequence[float]) -> tuple[float | None, float | None]:
    return (min(times), max(times)) if times else (None, None)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """Prometheus's histogram_quantile: ``buckets`` are (upper bound, cumulative count), +Inf included.

    Linear interpolation inside the bucket the rank falls in (from 0 for the first); a rank in the +Inf bucket
    gives the largest finite bound. None without observations.
    """
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return lower_bound
