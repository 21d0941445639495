"""A real Prometheus, configured from the chart's scrape settings by tools/k8s/promconfig.py, scrapes /metrics
endpoints serving zkpot.metrics and loads the chart's alert rules; the samples read back through its HTTP API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import start_http_server
from zkpot.metrics import Metrics

from tools.k8s.promconfig import chart_values, merge, prometheus_config, rule_groups, write_yaml

from .chart import NAMESPACE, VALUES, rendered
from .prometheus import running

pytestmark = pytest.mark.integration


@pytest.fixture
def endpoints() -> Iterator[dict[str, list[str]]]:
    """A prover and a block-producer /metrics endpoint on loopback, with a few recorded values."""
    prover, producer = Metrics("prover"), Metrics("block-producer")
    for seconds in (8.0, 12.0, 40.0):
        prover["zkpot_proof_seconds"].observe(seconds)
    prover["zkpot_prove_queue_depth"].set(3)
    producer["zkpot_chain_height"].set(7)
    producer["zkpot_blocks_finalized"].inc(7)
    servers = [start_http_server(0, addr="127.0.0.1", registry=m.registry) for m in (prover, producer)]
    ports = [s.server_port for s, _ in servers]
    yield {"prover": [f"127.0.0.1:{ports[0]}"], "block-producer": [f"127.0.0.1:{ports[1]}"]}
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_prometheus_scrapes_zkpot_metrics_with_the_chart_labels(tmp_path, endpoints) -> None:
    values = merge(chart_values([VALUES / "dev.yaml"]),
                   {"monitoring": {"podMonitor": {"interval": "1s", "scrapeTimeout": "1s"}}})
    rules = write_yaml(tmp_path / "rules.yaml", rule_groups(rendered("dev")[1]))
    config = prometheus_config(values, endpoints, namespace=NAMESPACE, rule_files=[str(rules)])
    with running(config, tmp_path) as prom:
        height = prom.wait_for(f'zkpot_chain_height{{component="block-producer",namespace="{NAMESPACE}"}}')
        proofs = prom.wait_for(f'zkpot_proof_seconds_count{{component="prover",namespace="{NAMESPACE}"}}')
        queue = prom.wait_for('zkpot_prove_queue_depth{component="prover"}')
        groups = prom.api("rules")["groups"]
    assert [s["value"][1] for s in height] == ["7"]
    assert height[0]["metric"]["pod"] == "block-producer-0"
    assert [s["value"][1] for s in proofs] == ["3"]
    assert [s["value"][1] for s in queue] == ["3"]
    loaded = {r["name"]: r["health"] for g in groups for r in g["rules"]}
    assert "ZkpotProverQueueBacklog" in loaded and set(loaded.values()) <= {"ok", "unknown"}


def test_unknown_component_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown component"):
        prometheus_config(chart_values(), {"miner": ["127.0.0.1:1"]})
