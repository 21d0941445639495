"""k8s/values/e2e.yaml (the cluster test's values) fits one node of 2 CPUs: the requests of everything the release
runs at once, the circuit-setup hook aside (it runs before the services start), stay well below 2 CPUs, leaving
room for CoreDNS, Prometheus and the load-test Job the e2e adds."""

from __future__ import annotations

from .chart import rendered, workloads


def cpu(v: str) -> float:
    return float(v[:-1]) / 1000 if str(v).endswith("m") else float(v)


def test_e2e_requests_fit_a_two_cpu_node() -> None:
    total = 0.0
    for d in workloads(rendered("e2e")[1]):
        if d["kind"] == "Job":
            continue
        spec = d["spec"]["template"]["spec"]
        replicas = d["spec"].get("replicas", 1)
        total += replicas * sum(cpu(c.get("resources", {}).get("requests", {}).get("cpu", "0"))
                                for c in spec["containers"])
    assert total <= 1.2, f"requests add up to {total:.2f} CPU"
