"""The metrics parser, the PNG chart, the summary lines and the command line's refusals."""

from pathlib import Path

import pytest

from loadtest.chart import write_chart
from loadtest.cli import main
from loadtest.collect import parse_metrics
from loadtest.report import TxTimes
from loadtest.summary import headline

METRICS = """# HELP zkpot_verify_seconds Proof verification latency
# TYPE zkpot_verify_seconds histogram
zkpot_verify_seconds_bucket{le="0.5"} 2.0
zkpot_verify_seconds_bucket{le="+Inf"} 3.0
zkpot_verify_seconds_count 3.0
zkpot_verify_seconds_sum 2.5
zkpot_verify_seconds_created 1.7e9
# HELP zkpot_tx_rejected_total Transactions rejected
# TYPE zkpot_tx_rejected_total counter
zkpot_tx_rejected_total{reason="proof_invalid"} 1.0
# HELP python_gc_objects_collected_total Objects collected
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 5.0
"""

REPORT = {
    "config": {"clients": 2, "validators": 4, "target": "own devnet"},
    "transactions": {"submitted": 2, "included": 2, "rejected": 0, "rejected_by_reason": {}, "lost": 0,
                     "duplicated": 0, "misplaced": 0},
    "throughput": {"ingested_tx_per_s": 4.2, "verified_tx_per_s": 0.6, "finalized_tx_per_s": None},
    "verification": {"verdict_s": {"n": 8, "p50": 1.2, "p95": 1.6, "p99": 1.64}},
    "rounds": [{"round": 1, "collection_s": 3.3, "aggregation_s": 16.1, "finalization_s": 9.1,
                "verification_s": 3.2}],
    "resources": {"validator-0": {"cpu_s": 3.0, "peak_rss_mb": 240.0}, "gone": {"cpu_s": None, "peak_rss_mb": 0}},
}


def test_parse_metrics_keeps_zkpot_samples_without_buckets() -> None:
    assert parse_metrics(METRICS) == {'zkpot_verify_seconds_bucket{le="0.5"}': 2.0,
                                      'zkpot_verify_seconds_bucket{le="+Inf"}': 3.0,
                                      "zkpot_verify_seconds_count": 3.0, "zkpot_verify_seconds_sum": 2.5,
                                      'zkpot_tx_rejected_total{reason="proof_invalid"}': 1.0}
    other = METRICS.replace("zkpot_verify_seconds", "zkpot_handler_seconds")
    assert not [k for k in parse_metrics(other) if "_bucket" in k]  # only the verify histogram keeps buckets


def test_chart_is_a_png(tmp_path: Path) -> None:
    times = [TxTimes("a", 1, 10.0, 10.1, 10.2, 13.0), TxTimes("b", 1, 10.0, 10.2, None, None)]
    path = write_chart(tmp_path / "out" / "chart.png", REPORT, times, [0.9, 1.2, 1.6])
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_headline_says_what_was_lost_and_how_fast() -> None:
    lines = headline(REPORT)
    assert "lost 0, duplicated 0" in lines[0]
    assert "ingested 4.2" in lines[1] and "end to end -" in lines[1]
    assert "p99 1.64" in lines[2]


@pytest.mark.parametrize(("argv", "message"), [
    (["--nats-url", "nats://x:1"], "also give --gateway-url, --genesis, --keys"),
    (["--clients", "0"], "at least 1"),
])
def test_bad_command_lines_are_refused_with_a_reason(argv: list[str], message: str, capsys) -> None:  # noqa: ANN001
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_metrics_option_takes_name_equals_url(capsys, tmp_path: Path) -> None:  # noqa: ANN001
    from loadtest.cli import _metrics

    assert _metrics(["validator-0=http://v:8080/metrics"]) == {"validator-0": "http://v:8080/metrics"}
    with pytest.raises(Exception, match="NAME=URL"):
        _metrics(["no-equals-sign"])
