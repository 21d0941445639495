"""Generate the chart's Grafana dashboards (charts/zkpot/dashboards/*.json) from short panel lists.

Run ``python tools/k8s/dashboards.py`` after editing a panel; tests/k8s checks that the committed JSON equals
this output and that every query names only metrics the services export (zkpot.metrics) or a documented
exporter metric. Every query selects ``namespace=~"$namespace"`` so one Grafana can show several releases.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "charts" / "zkpot" / "dashboards"
NS = 'namespace=~"$namespace"'
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Panel:
    title: str
    exprs: tuple[tuple[str, str], ...]  # (PromQL, legend)
    kind: str = "timeseries"  # timeseries | stat
    unit: str = "short"
    width: int = 12
    description: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    panels: tuple[Panel, ...] = field(default_factory=tuple)


def q(expr: str) -> str:
    """Insert the namespace matcher: ``{}`` becomes it alone, ``{c=`` adds a component matcher, ``{ns,`` others."""
    return expr.replace("{}", "{" + NS + "}").replace("{c=", "{" + NS + ",component=").replace("{ns,", "{" + NS + ",")


def quantiles(metric: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)) -> tuple[tuple[str, str], ...]:
    group = f"le, {by}" if by else "le"
    suffix = " {{" + by + "}}" if by else ""
    return tuple(
        (q(f"histogram_quantile({x}, sum by ({group}) (rate({metric}[{RATE}])))"), f"p{round(x * 100)}{suffix}")
        for x in qs
    )


def _stat(title: str, expr: str, unit: str = "short") -> Panel:
    return Panel(title, ((q(expr), title),), kind="stat", unit=unit, width=6)


NETWORK = Dashboard("zkpot-network", "ZKPoT / Network overview", "Chain height, rounds, accuracy and the leader", (
    _stat("Chain height", 'max(zkpot_chain_height{c="block-producer"})'),
    _stat("Open round", 'max(zkpot_current_round{c="block-producer"})'),
    _stat("Global accuracy", 'max(zkpot_global_accuracy{c="block-producer"})', "percentunit"),
    _stat("Leader's proven accuracy", 'max(zkpot_leader_accuracy{c="block-producer"})', "percentunit"),
    Panel("Round duration", quantiles("zkpot_round_duration_seconds_bucket{}", qs=(0.5, 0.95)), unit="s"),
    Panel("Round phases (p95)", quantiles("zkpot_round_phase_seconds_bucket{}", "phase", (0.95,)), unit="s"),
    Panel("Accuracy", (
        (q('max(zkpot_global_accuracy{c="block-producer"})'), "global model"),
        (q('max(zkpot_leader_accuracy{c="block-producer"})'), "leader (proven)"),
        (q('max by (pod) (zkpot_local_accuracy{c="trainer"})'), "local {{pod}}"),
    ), unit="percentunit"),
    Panel("Transactions in the latest block", (
        (q('sum by (outcome) (zkpot_round_txs{c="block-producer"})'), "{{outcome}}"),
    )),
    Panel("Chain height per node", ((q("max by (pod) (zkpot_chain_height{})"), "{{pod}}"),),
          description="A validator whose height lags the producer is catching up or stuck."),
    Panel("Blocks finalized per minute", (
        (q(f'sum(rate(zkpot_blocks_finalized_total{{c="block-producer"}}[{RATE}])) * 60'), "blocks/min"),
    )),
))

PROVING = Dashboard("zkpot-proving", "ZKPoT / Proving", "Proof latency, queue and throughput per prover", (
    _stat("Queue depth", 'max(zkpot_prove_queue_depth{c="prover"})'),
    _stat("Jobs in progress", 'sum(zkpot_prover_busy{c="prover"})'),
    _stat("Proofs per hour", 'sum(rate(zkpot_prove_jobs_total{c="prover",status="done"}[1h])) * 3600'),
    _stat("Failed jobs (1h)", 'sum(increase(zkpot_prove_jobs_total{c="prover",status="failed"}[1h]))'),
    Panel("Proof latency", quantiles("zkpot_proof_seconds_bucket{}", qs=(0.5, 0.9, 0.95, 0.99)), unit="s"),
    Panel("Witness latency", quantiles("zkpot_witness_seconds_bucket{}", qs=(0.5, 0.95)), unit="s"),
    Panel("Queue depth per prover", ((q('max by (pod) (zkpot_prove_queue_depth{c="prover"})'), "{{pod}}"),)),
    Panel("Throughput per prover", (
        (q(f'sum by (pod) (rate(zkpot_prove_jobs_total{{c="prover",status="done"}}[{RATE}])) * 60'), "{{pod}}"),
    ), unit="short", description="Finished proofs per minute"),
    Panel("Prover memory (working set)", (
        (q('max by (pod) (container_memory_working_set_bytes{ns,container="prover"})'), "{{pod}}"),
    ), unit="bytes", description="The proving key stays in memory: about twice its size per worker."),
    Panel("Work-queue backlog (JetStream)", (
        (q('sum by (consumer_name) (nats_consumer_num_pending{c="nats"})'), "{{consumer_name}}"),
    )),
))

VALIDATION = Dashboard("zkpot-validation", "ZKPoT / Validation", "Verification latency and rejections by reason", (
    _stat("Validators up", 'count(up{c="validator"} == 1)'),
    _stat("Tx accepted / min", f'sum(rate(zkpot_tx_accepted_total{{c="validator"}}[{RATE}])) * 60'),
    _stat("Tx rejected / min", f'sum(rate(zkpot_tx_rejected_total{{c="validator"}}[{RATE}])) * 60'),
    _stat("Verify p95", 'histogram_quantile(0.95, sum by (le) (rate(zkpot_verify_seconds_bucket{c="validator"}'
                        f'[{RATE}])))', "s"),
    Panel("Verify latency", quantiles("zkpot_verify_seconds_bucket{}", "component"), unit="s"),
    Panel("Rejections by reason", (
        (q(f"sum by (reason) (rate(zkpot_tx_rejected_total{{}}[{RATE}])) * 60"), "{{reason}}"),
    ), description="Per minute, validators and block-producer"),
    Panel("Transactions per validator", (
        (q(f'sum by (pod) (rate(zkpot_tx_received_total{{c="validator"}}[{RATE}])) * 60'), "received {{pod}}"),
        (q(f'sum by (pod) (rate(zkpot_tx_accepted_total{{c="validator"}}[{RATE}])) * 60'), "accepted {{pod}}"),
    )),
    Panel("Block votes by reason", (
        (q(f'sum by (reason) (rate(zkpot_block_votes_total{{c="validator"}}[{RATE}])) * 60'), "{{reason}}"),
    )),
    Panel("Message handling (p95) by subject", quantiles("zkpot_handler_seconds_bucket{}", "subject", (0.95,)),
          unit="s"),
    Panel("Messages by outcome", (
        (q(f"sum by (outcome) (rate(zkpot_messages_total{{}}[{RATE}]))"), "{{outcome}}"),
    ), unit="ops"),
))

INFRA = Dashboard("zkpot-infrastructure", "ZKPoT / Infrastructure", "NATS, PostgreSQL, the IPFS gateway, pods", (
    _stat("NATS connections", 'sum(nats_varz_connections{c="nats"})'),
    _stat("PostgreSQL up", 'min(pg_up{c="postgresql"})'),
    _stat("Blobs stored", 'sum(zkpot_gateway_blobs{c="ipfs-gateway"})'),
    _stat("Pod restarts (1h)", "sum(increase(kube_pod_container_status_restarts_total{}[1h]))"),
    Panel("NATS messages", (
        (q(f'sum(rate(nats_varz_in_msgs{{c="nats"}}[{RATE}]))'), "in"),
        (q(f'sum(rate(nats_varz_out_msgs{{c="nats"}}[{RATE}]))'), "out"),
    ), unit="ops"),
    Panel("JetStream consumers pending", (
        (q('sum by (consumer_name) (nats_consumer_num_pending{c="nats"})'), "pending {{consumer_name}}"),
        (q('sum by (consumer_name) (nats_consumer_num_ack_pending{c="nats"})'), "ack pending {{consumer_name}}"),
    )),
    Panel("PostgreSQL", (
        (q('sum(pg_stat_database_numbackends{c="postgresql"})'), "connections"),
        (q(f'sum(rate(pg_stat_database_xact_commit{{c="postgresql"}}[{RATE}]))'), "commits/s"),
    )),
    Panel("Database size", ((q('max by (datname) (pg_database_size_bytes{c="postgresql"})'), "{{datname}}"),),
          unit="bytes"),
    Panel("Gateway requests", (
        (q(f'sum by (op, code) (rate(zkpot_gateway_requests_total{{c="ipfs-gateway"}}[{RATE}]))'), "{{op}} {{code}}"),
    ), unit="reqps"),
    Panel("Gateway latency (p95)", quantiles("zkpot_gateway_request_seconds_bucket{}", "op", (0.95,)), unit="s"),
    Panel("Gateway bytes", (
        (q(f'sum by (kind) (rate(zkpot_gateway_bytes_in_total{{c="ipfs-gateway"}}[{RATE}]))'), "in {{kind}}"),
        (q(f'sum by (kind) (rate(zkpot_gateway_bytes_out_total{{c="ipfs-gateway"}}[{RATE}]))'), "out {{kind}}"),
    ), unit="Bps"),
    Panel("Memory by container", (
        (q('sum by (container) (container_memory_working_set_bytes{ns,container!=""})'), "{{container}}"),
    ), unit="bytes"),
    Panel("CPU by container", (
        (q(f'sum by (container) (rate(container_cpu_usage_seconds_total{{ns,container!=""}}[{RATE}]))'),
         "{{container}}"),
    ), unit="short"),
))

DASHBOARDS = (NETWORK, PROVING, VALIDATION, INFRA)
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def _panel(p: Panel, pid: int, x: int, y: int) -> dict[str, object]:
    height = 4 if p.kind == "stat" else 8
    targets = [{"refId": chr(65 + i), "expr": e, "legendFormat": legend, "datasource": DATASOURCE}
               for i, (e, legend) in enumerate(p.exprs)]
    return {"id": pid, "type": p.kind, "title": p.title, "description": p.description, "datasource": DATASOURCE,
            "gridPos": {"h": height, "w": p.width, "x": x, "y": y}, "targets": targets,
            "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []}, "options": {}}


def _layout(panels: tuple[Panel, ...]) -> list[dict[str, object]]:
    out, x, y, row_h = [], 0, 0, 0
    for pid, p in enumerate(panels, start=1):
        height = 4 if p.kind == "stat" else 8
        if x + p.width > 24:
            x, y, row_h = 0, y + row_h, 0
        out.append(_panel(p, pid, x, y))
        x, row_h = x + p.width, max(row_h, height)
    return out


def render(d: Dashboard) -> dict[str, object]:
    """The Grafana dashboard model (schemaVersion 39) of ``d``."""
    variables = [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0},
        {"name": "namespace", "label": "Namespace", "type": "query", "datasource": DATASOURCE,
         "query": {"query": "label_values(zkpot_build_info, namespace)", "refId": "namespace"},
         "definition": "label_values(zkpot_build_info, namespace)", "refresh": 2, "includeAll": True,
         "multi": True, "current": {}, "hide": 0},
    ]
    return {"uid": d.uid, "title": d.title, "description": d.description, "tags": ["zkpot"],
            "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s", "timezone": "browser",
            "time": {"from": "now-3h", "to": "now"}, "templating": {"list": variables},
            "annotations": {"list": []}, "panels": _layout(d.panels)}


def write(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for d in DASHBOARDS:
        path = out / f"{d.uid.removeprefix('zkpot-')}.json"
        path.write_text(json.dumps(render(d), indent=1) + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(written)
