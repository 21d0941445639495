"""Load test of a ZKPoT network: many simulated federated clients submitting real, pre-generated proofs.

``python -m loadtest --clients 200 --rounds 3 --json`` starts its own devnet (members registered in genesis, no
trainer processes) or drives a running one (``--dir``, or ``--nats-url``/``--gateway-url``/``--genesis``/``--keys``),
and reports throughput, per-round phases, verification latency, lost or duplicated transactions and resource use.
See docs/performance.md, "Load".
"""
