"""Turn the chart's scrape settings into a prometheus.yml for static local targets (a devnet, a test).

In a cluster the chart's PodMonitors scrape every zkpot pod's ``/metrics`` on port ``http`` and copy the pod's
``app.kubernetes.io/component`` label into ``component``; the operator adds ``namespace`` and ``pod``. The alert
rules and dashboards select on those labels, so a local Prometheus given this config (and the rules from
``rule_groups``) evaluates them unchanged.

    values = chart_values([Path("k8s/values/dev.yaml")])
    config = prometheus_config(values, {"prover": ["127.0.0.1:9101"]}, namespace="zkpot")
    write_yaml(Path("prometheus.yml"), config)

CLI: ``python tools/k8s/promconfig.py --target prover=127.0.0.1:9101 [--values FILE] [--namespace NS]
[--rules FILE] > prometheus.yml``.
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "zkpot"
SERVICES = ("trainer", "prover", "validator", "block-producer", "ipfs-gateway")
EXPORTERS = ("nats", "postgresql")


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's merge of values files: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def chart_values(files: Iterable[Path] = (), chart: Path = CHART) -> dict[str, Any]:
    """The chart's values.yaml with ``files`` merged on top, in order (like ``helm -f``)."""
    values: dict[str, Any] = yaml.safe_load((chart / "values.yaml").read_text())
    for f in files:
        values = merge(values, yaml.safe_load(f.read_text()) or {})
    return values


def prometheus_config(values: Mapping[str, Any], targets: Mapping[str, Sequence[str]], namespace: str = "zkpot",
                      rule_files: Sequence[str] = ()) -> dict[str, Any]:
    """A prometheus.yml scraping ``targets`` (component -> host:port list) as the chart's PodMonitors would.

    Each target gets the labels the PodMonitor relabeling gives a pod: component, namespace and pod
    (``<component>-<i>``). Components are the five services and the NATS/PostgreSQL exporters.
    """
    pm = values["monitoring"]["podMonitor"]
    unknown = set(targets) - set(SERVICES) - set(EXPORTERS)
    if unknown:
        raise ValueError(f"unknown component(s) {sorted(unknown)}; expected {SERVICES + EXPORTERS}")
    static = [
        {"targets": [addr], "labels": {"component": comp, "namespace": namespace, "pod": f"{comp}-{i}"}}
        for comp, addrs in targets.items() for i, addr in enumerate(addrs)
    ]
    config: dict[str, Any] = {
        "global": {"scrape_interval": pm["interval"], "scrape_timeout": pm["scrapeTimeout"],
                   "evaluation_interval": pm["interval"]},
        "scrape_configs": [{"job_name": f"{namespace}/zkpot", "metrics_path": "/metrics", "static_configs": static}],
    }
    if rule_files:
        config["rule_files"] = list(rule_files)
    return config


def rule_groups(manifests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The rule groups of every PrometheusRule in rendered ``manifests``, as a Prometheus rule file."""
    groups = [g for doc in manifests if doc and doc.get("kind") == "PrometheusRule" for g in doc["spec"]["groups"]]
    return {"groups": groups}


def write_yaml(path: Path, data: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(data), sort_keys=False))
    return path


def _targets(pairs: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        comp, sep, addr = pair.partition("=")
        if not sep or not addr:
            raise SystemExit(f"--target wants component=host:port, got {pair!r}")
        out.setdefault(comp, []).append(addr)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--target", action="append", default=[], help="component=host:port (repeatable)")
    p.add_argument("--values", action="append", type=Path, default=[], help="chart values file (repeatable)")
    p.add_argument("--namespace", default="zkpot", help="namespace label the rules select (the release's)")
    p.add_argument("--rules", action="append", default=[], help="rule file to load (repeatable)")
    args = p.parse_args(argv)
    config = prometheus_config(chart_values(args.values), _targets(args.target), args.namespace, args.rules)
    sys.stdout.write(yaml.safe_dump(config, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
