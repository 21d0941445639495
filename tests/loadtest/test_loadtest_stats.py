"""Percentiles, summaries and rates of the report."""

import numpy as np
import pytest

from loadtest.stats import histogram_quantile, percentile, rate, span, summary


@pytest.mark.parametrize("q", [0, 25, 50, 95, 99, 100])
def test_percentile_matches_numpy_linear(q: float) -> None:
    values = [0.31, 0.02, 1.7, 0.5, 0.44, 0.9, 0.03]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_percentile_of_nothing_is_none_and_q_is_checked() -> None:
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_rounds_and_stays_json_friendly() -> None:
    assert summary([1.0, 2.0, 3.0, 4.0]) == {"n": 4, "mean": 2.5, "p50": 2.5, "p95": 3.85, "p99": 3.97, "max": 4.0}
    assert summary([]) == {"n": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}


def test_rate_needs_a_window_and_events() -> None:
    assert rate(10, 100.0, 104.0) == 2.5
    assert rate(10, None, 104.0) is None
    assert rate(10, 5.0, 5.0) is None
    assert rate(0, 1.0, 2.0) is None
    assert span([3.0, 1.0, 2.0]) == (1.0, 3.0) and span([]) == (None, None)


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = [(0.1, 10.0), (0.2, 30.0), (0.5, 40.0), (float("inf"), 40.0)]
    assert histogram_quantile(0.25, buckets) == 0.1  # rank 10 ends the first bucket
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.15)  # rank 20: half-way through (0.1, 0.2]
    assert histogram_quantile(0.95, buckets) == pytest.approx(0.2 + 0.3 * 8 / 10)
    assert histogram_quantile(0.1, buckets) == pytest.approx(0.04)  # the first bucket starts at 0


def test_histogram_quantile_in_the_inf_bucket_and_without_data() -> None:
    assert histogram_quantile(0.99, [(1.0, 1.0), (float("inf"), 10.0)]) == 1.0
    assert histogram_quantile(0.5, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    assert histogram_quantile(0.5, []) is None
