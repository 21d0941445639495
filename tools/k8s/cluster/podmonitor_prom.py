"""Turn the PodMonitors of a live cluster into a prometheus.yml, as the Prometheus operator does.

Reads `kubectl get podmonitors -A -o json` on stdin, writes the config on stdout. Each podMetricsEndpoint becomes
one job `podMonitor/<ns>/<name>/<i>` with kubernetes_sd (role pod) in the PodMonitor's namespace (or its
namespaceSelector's), keeping pods whose labels match spec.selector.matchLabels and whose container port is named
as the endpoint's port, dropping finished pods, adding the operator's labels (namespace, pod, container, endpoint,
job), then the endpoint's own relabelings — the same rules prometheus-operator generates, so the e2e scrapes
exactly what the chart's PodMonitors select.
"""

from __future__ import annotations

import json
import re
import sys

import yaml


def sanitize(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def relabeling(r: dict) -> dict:
    keys = {"sourceLabels": "source_labels", "targetLabel": "target_label", "regex": "regex",
            "replacement": "replacement", "action": "action", "separator": "separator", "modulus": "modulus"}
    return {keys[k]: v for k, v in r.items() if k in keys}


def jobs(pm: dict) -> list[dict]:
    meta, spec = pm["metadata"], pm["spec"]
    ns, name = meta["namespace"], meta["name"]
    sel = spec.get("namespaceSelector", {})
    namespaces = None if sel.get("any") else (sel.get("matchNames") or [ns])
    out = []
    for i, ep in enumerate(spec.get("podMetricsEndpoints", [])):
        rl = [{"source_labels": ["job"], "target_label": "__tmp_prometheus_job_name"},
              {"source_labels": ["__meta_kubernetes_pod_phase"], "regex": "(Failed|Succeeded)", "action": "drop"}]
        for k, v in sorted(spec.get("selector", {}).get("matchLabels", {}).items()):
            rl.append({"action": "keep", "regex": f"({v});true",
                       "source_labels": [f"__meta_kubernetes_pod_label_{sanitize(k)}",
                                         f"__meta_kubernetes_pod_labelpresent_{sanitize(k)}"]})
        if "port" in ep:
            rl.append({"action": "keep", "source_labels": ["__meta_kubernetes_pod_container_port_name"],
                       "regex": ep["port"]})
        rl += [{"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
               {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
               {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
               {"target_label": "job", "replacement": f"{ns}/{name}"},
               {"target_label": "endpoint", "replacement": ep.get("port", str(i))}]
        rl += [relabeling(r) for r in ep.get("relabelings", [])]
        sd: dict = {"role": "pod"}
        if namespaces:
            sd["namespaces"] = {"names": namespaces}
        job = {"job_name": f"podMonitor/{ns}/{name}/{i}", "honor_labels": False,
               "kubernetes_sd_configs": [sd], "metrics_path": ep.get("path", "/metrics"),
               "scheme": ep.get("scheme", "http"), "relabel_configs": rl}
        for src, dst in (("interval", "scrape_interval"), ("scrapeTimeout", "scrape_timeout")):
            if src in ep:
                job[dst] = ep[src]
        out.append(job)
    return out


def main() -> None:
    items = json.load(sys.stdin)["items"]
    config = {"global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
              "scrape_configs": [j for pm in items for j in jobs(pm)]}
    yaml.safe_dump(config, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
