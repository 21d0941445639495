import pytest

from .promql import Selector, selectors


def names(expr: str) -> list[str]:
    return [s.name for s in selectors(expr)]


@pytest.mark.parametrize(("expr", "expected"), [
    ("up", ["up"]),
    ('max(zkpot_prove_queue_depth{namespace="z",component="prover"}) > 10', ["zkpot_prove_queue_depth"]),
    ("histogram_quantile(0.95, sum by (le, phase) (rate(zkpot_round_phase_seconds_bucket{a=~\"$namespace\"}"
     "[$__rate_interval])))", ["zkpot_round_phase_seconds_bucket"]),
    ("sum(rate(a_total[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) > 0.2", ["a_total", "b_total"]),
    ("(count(up{component=\"validator\"} == 1) or vector(0)) < 3", ["up"]),
    ("sum(x) without (pod) * on (namespace) group_left (node) y offset 1h30m", ["x", "y"]),
    ('{__name__="zkpot_chain_height", pod="p"}', ["zkpot_chain_height"]),
    ("label_values(zkpot_build_info, namespace)", ["zkpot_build_info"]),
    ("label_values(namespace)", []),
    ('count_values("version", zkpot_build_info) and bool 1', ["zkpot_build_info"]),
    ("rate(m{l=\"a}b\"}[1m]) @ start()", ["m"]),
])
def test_names(expr: str, expected: list[str]) -> None:
    assert names(expr) == expected


def test_equality_matchers_only() -> None:
    [sel] = selectors('zkpot_verify_seconds_bucket{component="validator", pod=~"v.*", reason!="x"}')
    assert sel == Selector("zkpot_verify_seconds_bucket")
    assert sel.equal == {"component": "validator"}


def test_unbalanced_parentheses_are_an_error() -> None:
    with pytest.raises(ValueError, match="unbalanced"):
        selectors("sum by (le (x)")


def test_nameless_selector_is_an_error() -> None:
    with pytest.raises(ValueError, match="without a metric name"):
        selectors('{job="x"}')
