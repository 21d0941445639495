"""Every Prometheus metric the services export, declared once.

Each service process builds its metrics on its own ``CollectorRegistry`` (``Metrics(service)``), so a test or
the devnet can run several services in one process without clashes. Dashboards and alert rules in the chart are
checked against ``SPECS``: a query naming a metric that is not declared here fails the test suite.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.metrics import MetricWrapperBase

ALL = ("trainer", "prover", "validator", "block-producer", "ipfs-gateway")
PROOF_BUCKETS = (1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200)
VERIFY_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10)
ROUND_BUCKETS = (10, 30, 60, 120, 180, 300, 450, 600, 900, 1800, 3600)
FAST_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


@dataclasses.dataclass(frozen=True)
class Spec:
    name: str
    kind: str  # counter | gauge | histogram | info
    help: str
    labels: tuple[str, ...] = ()
    services: tuple[str, ...] = ALL
    buckets: tuple[float, ...] = ()


SPECS: tuple[Spec, ...] = (
    Spec("zkpot_build", "info", "Version of the running service", ()),
    # messaging (every service)
    Spec("zkpot_messages", "counter", "Messages handled, by subject and outcome (ack, nak, term)",
         ("subject", "outcome")),
    Spec("zkpot_messages_malformed", "counter", "Messages dropped as malformed, by subject and reason (too_large, "
         "too_deep, not_json, not_object, error: the payload did not decode; handler: its fields did not)",
         ("subject", "reason")),
    Spec("zkpot_handler_seconds", "histogram", "Time to handle one message", ("subject",),
         buckets=FAST_BUCKETS + (60, 120, 300, 600)),
    # trainer
    Spec("zkpot_train_seconds", "histogram", "Local training time per round", (), ("trainer",),
         buckets=FAST_BUCKETS + (60, 120, 300)),
    Spec("zkpot_local_accuracy", "gauge", "Float accuracy of this member's latest local model on the public "
         "test samples", (), ("trainer",)),
    Spec("zkpot_rounds_joined", "counter", "Rounds this member trained in", (), ("trainer",)),
    Spec("zkpot_secagg_bytes", "counter", "Bytes this member sent in secure aggregation, by phase (masked: its "
         "masked vector blob; keys, shares, reveal: the signed messages)", ("phase",), ("trainer",)),
    Spec("zkpot_secagg_refusals", "counter", "Secure-aggregation steps refused, by reason code", ("reason",),
         ("trainer", "block-producer")),
    # prover
    Spec("zkpot_proof_seconds", "histogram", "Proof generation latency (witness + prove)", (), ("prover",),
         buckets=PROOF_BUCKETS),
    Spec("zkpot_witness_seconds", "histogram", "Witness generation latency", (), ("prover",),
         buckets=FAST_BUCKETS + (60,)),
    Spec("zkpot_prove_queue_depth", "gauge", "Proof jobs waiting in the work queue", (), ("prover",)),
    Spec("zkpot_prove_jobs", "counter", "Proof jobs finished, by status (done, failed)", ("status",),
         ("prover",)),
    Spec("zkpot_prover_busy", "gauge", "Proof jobs in progress in this prover", (), ("prover",)),
    # validation (validator; the producer counts what it includes)
    Spec("zkpot_verify_seconds", "histogram", "Proof verification latency", (), ("validator", "block-producer"),
         buckets=VERIFY_BUCKETS),
    Spec("zkpot_tx_received", "counter", "Transactions received", (), ("validator", "block-producer")),
    Spec("zkpot_tx_accepted", "counter", "Transactions accepted (attested valid / included)", (),
         ("validator", "block-producer")),
    Spec("zkpot_tx_rejected", "counter", "Transactions rejected, by reason code", ("reason",),
         ("validator", "block-producer")),
    Spec("zkpot_block_votes", "counter", "Votes cast on proposed blocks, by verdict reason", ("reason",),
         ("validator",)),
    # chain and rounds
    Spec("zkpot_blocks_finalized", "counter", "Blocks finalized", (), ("validator", "block-producer")),
    Spec("zkpot_chain_height", "gauge", "Height of the latest final block", (), ("validator", "block-producer")),
    Spec("zkpot_current_round", "gauge", "Round currently open", (), ("validator", "block-producer", "trainer")),
    Spec("zkpot_round_duration_seconds", "histogram", "Time from round open to final block", (),
         ("block-producer",), buckets=ROUND_BUCKETS),
    Spec("zkpot_round_phase_seconds", "histogram", "Time spent per round phase (collection, aggregation, "
         "finalization)", ("phase",), ("block-producer",), buckets=ROUND_BUCKETS),
    Spec("zkpot_global_accuracy", "gauge", "Accuracy of the latest global model on the public test samples", (),
         ("validator", "block-producer")),
    Spec("zkpot_leader_accuracy", "gauge", "Proven accuracy of the latest round leader", (),
         ("validator", "block-producer")),
    Spec("zkpot_round_txs", "gauge", "Transactions in the latest block, by outcome (accepted, rejected)",
         ("outcome",), ("block-producer",)),
    Spec("zkpot_proposals", "counter", "Blocks this member's producer proposed, by view (0: as the proven-best "
         "member; more: as a fallback)", ("view",), ("block-producer",)),
    # ipfs-gateway
    Spec("zkpot_gateway_bytes_in", "counter", "Bytes stored through the gateway, by blob kind", ("kind",),
         ("ipfs-gateway",)),
    Spec("zkpot_gateway_bytes_out", "counter", "Bytes served by the gateway, by blob kind", ("kind",),
         ("ipfs-gateway",)),
    Spec("zkpot_gateway_request_seconds", "histogram", "Gateway request latency, by operation", ("op",),
         ("ipfs-gateway",), buckets=FAST_BUCKETS),
    Spec("zkpot_gateway_requests", "counter", "Gateway requests, by operation and status code", ("op", "code"),
         ("ipfs-gateway",)),
    Spec("zkpot_gateway_blobs", "gauge", "Blobs in the gateway index, by kind", ("kind",), ("ipfs-gateway",)),
    Spec("zkpot_gateway_refusals", "counter", "Uploads the gateway refused, by reason code", ("reason",),
         ("ipfs-gateway",)),
    Spec("zkpot_gateway_retention_removed", "counter", "Blobs of old rounds removed by the retention rule, by kind",
         ("kind",), ("ipfs-gateway",)),
)
SPEC_BY_NAME = {s.name: s for s in SPECS}


def exported_names(spec: Spec) -> set[str]:
    """The sample names Prometheus stores for ``spec`` (what a PromQL query may name)."""
    if spec.kind == "counter":
        return {f"{spec.name}_total", f"{spec.name}_created"}
    if spec.kind == "histogram":
        return {f"{spec.name}_bucket", f"{spec.name}_sum", f"{spec.name}_count", f"{spec.name}_created"}
    if spec.kind == "info":
        return {f"{spec.name}_info"}
    return {spec.name}


def all_exported_names(service: str | None = None) -> set[str]:
    return {n for s in SPECS if service is None or service in s.services for n in exported_names(s)}


class Metrics:
    """One service's metrics on its own registry; ``m["zkpot_tx_received"]`` returns the collector."""

    def __init__(self, service: str, registry: CollectorRegistry | None = None) -> None:
        self.service = service
        self.registry = registry or CollectorRegistry()
        self._m: dict[str, MetricWrapperBase] = {}
        for spec in SPECS:
            if service in spec.services:
                self._m[spec.name] = _make(spec, self.registry)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._m[name]
        except KeyError:
            raise KeyError(f"{self.service} does not export {name}") from None


def _make(spec: Spec, registry: CollectorRegistry) -> MetricWrapperBase:
    if spec.kind == "counter":
        return Counter(spec.name, spec.help, spec.labels, registry=registry)
    if spec.kind == "gauge":
        return Gauge(spec.name, spec.help, spec.labels, registry=registry)
    if spec.kind == "histogram":
        return Histogram(spec.name, spec.help, spec.labels, registry=registry, buckets=spec.buckets)
    if spec.kind == "info":
        return Info(spec.name.removesuffix("_info"), spec.help, spec.labels, registry=registry)
    raise ValueError(f"unknown metric kind {spec.kind}")
