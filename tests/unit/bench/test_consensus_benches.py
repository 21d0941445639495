"""The consensus benchmarks on a tiny configuration: the protocol round's figures are measured (and its sum is
exact), the undefended curve takes each lie, and the plot is drawn."""

from __future__ import annotations

from pathlib import Path

from zkpot.bench import byzantine, secagg
from zkpot.ml.model import Arch

from tests.unit.services.support import HomomorphicFake


def test_a_protocol_round_of_five_members_with_a_dropout_is_measured_and_exact() -> None:
    row = secagg.measure(HomomorphicFake(), 5, 4, dropped=1)
    assert row["sum_exact"] and row["aggregate_holds"]
    assert (row["degree"], row["threshold"]) == (4, 3)
    sizes = row["bytes_per_member"]
    assert sizes["masked"] > 32 * row["elements"]  # the vector blob, 32 bytes an element, and its message
    assert sizes["total"] == sum(v for k, v in sizes.items() if k != "total")
    assert all(v >= 0 for v in row["member_s"].values())
    before = secagg.first_design(HomomorphicFake(), 5)
    assert "| 5 | 4 | 3 |" in secagg.table([row], [before])


def test_the_undefended_curve_takes_each_lie() -> None:
    options = byzantine.Options(rounds=4, clients=2, epochs=1)
    curve = byzantine.undefended(Arch(), 30, options, ["noise", "own_model", "drop_member", "honest"])
    assert len(curve) == 4 and curve[0] < 0.5  # N(0,1) weights as the global model
    assert curve[1] == curve[0]  # the stale model carried over


def test_the_plot_is_drawn(tmp_path: Path) -> None:
    result = {"options": {"clients": 3}, "pipeline": "fast",
              "honest": {"accuracy": [0.8, 0.9]}, "byzantine": {"accuracy": [0.8, 0.9]},
              "undefended": {"accuracy": [0.1, 0.1], "attacks": ["noise", "silent"]}}
    assert byzantine.plot(result, tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
