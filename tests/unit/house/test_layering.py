"""The house stays by role: no import cycles, and nothing imports upward (domain <- ml/pool <- zk <- roles <-
adapters <- services <- apps <- cli <- loadtest). The checker is tested on small graphs first, so a breach in the
real graph cannot pass unnoticed."""

from __future__ import annotations

import pytest

from tests.unit.house.importgraph import LAYERS, breaches, cycles, layer_of, read_graph

TOY_LAYERS = (("zkpot.domain",), ("zkpot.zk",), ("zkpot.cli",))


def test_a_cycle_is_found() -> None:
    graph = {"zkpot.zk.a": {"zkpot.zk.b"}, "zkpot.zk.b": {"zkpot.zk.c"}, "zkpot.zk.c": {"zkpot.zk.a"},
             "zkpot.zk.d": {"zkpot.zk.a"}}
    assert cycles(graph) == [["zkpot.zk.a", "zkpot.zk.b", "zkpot.zk.c"]]


def test_an_acyclic_graph_has_no_cycle() -> None:
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_an_upward_import_is_a_breach_and_a_downward_one_is_not() -> None:
    graph = {"zkpot.domain.rules": {"zkpot.zk.prove"}, "zkpot.cli.main": {"zkpot.zk.prove", "zkpot.domain.rules"},
             "zkpot.zk.prove": set()}
    assert breaches(graph, TOY_LAYERS) == ["zkpot.domain.rules -> zkpot.zk.prove"]


def test_the_longest_package_prefix_decides_the_layer() -> None:
    assert layer_of("zkpot.errors") == 1
    assert layer_of("zkpot") == 1
    assert layer_of("zkpot.zk.fast.prove") == 2
    assert layer_of("loadtest.cli") == len(LAYERS) - 1
    with pytest.raises(KeyError):
        layer_of("zkpot_other", TOY_LAYERS)


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return read_graph()


def test_the_graph_is_read_from_the_source(graph: dict[str, set[str]]) -> None:
    assert "zkpot.zk.fast.prove" in graph["zkpot.zk.fast.build"]
    assert "zkpot.domain.events" in graph["zkpot.audit"]
    assert len(graph) > 100


def test_no_module_import_cycles(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_every_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    unplaced = []
    for module in graph:
        try:
            layer_of(module)
        except KeyError:
            unplaced.append(module)
    assert unplaced == [], "add these packages to importgraph.LAYERS"


def test_nothing_imports_a_higher_layer(graph: dict[str, set[str]]) -> None:
    assert breaches(graph) == []
