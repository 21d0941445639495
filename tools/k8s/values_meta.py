"""The chart's values.schema.json and the values table of its README, both derived from values.yaml.

Every key in values.yaml carries a ``# --`` comment, or is a mapping whose keys all do. A documented key is a
row of the README table; the schema gives each key the type of its default (or a refinement from ``REFINED``)
and closes every mapping with ``additionalProperties: false``, so a misspelt key fails ``helm install``.

``python tools/k8s/values_meta.py`` rewrites both files; tests/k8s checks that they are up to date.
"""

from __future__ import annotations

import fnmatch
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "charts" / "zkpot"
BEGIN, END = "<!-- values:begin -->", "<!-- values:end -->"
KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-/]+):(?P<rest>.*)$")

STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
QUANTITY = {"type": ["string", "integer"], "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"}
DURATION = {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h|d|w|y)$"}
NATS_SIZE = {"type": "string", "pattern": r"^[0-9]+(K|M|G|T|KB|MB|GB|TB)?$"}
# `helm --set x=2.5` passes a string (only integers and booleans are converted), so numbers accept both.
POSITIVE = {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": r"^[0-9]*\.?[0-9]+$"}]}
QUANTITIES = {"type": "object", "additionalProperties": False,
              "properties": {"cpu": QUANTITY, "memory": QUANTITY, "ephemeral-storage": QUANTITY}}
RESOURCES = {"type": "object", "additionalProperties": False,
             "properties": {"requests": QUANTITIES, "limits": QUANTITIES}}


def _closed(*names: str) -> dict[str, Any]:
    """An object with these (Kubernetes API) field names and no others."""
    return {"type": "object", "additionalProperties": False, "properties": {n: {} for n in names}}


REFINED: dict[str, dict[str, Any]] = {
    "*pullPolicy": {"type": "string", "enum": ["Always", "IfNotPresent", "Never"]},
    "image.digest": {"type": "string", "pattern": r"^(sha256:[0-9a-f]{64})?$"},
    "logLevel": {"type": "string", "enum": ["DEBUG", "INFO", "WARNING", "ERROR"]},
    "httpPort": {"type": "integer", "minimum": 1024, "maximum": 65535},
    "*.replicas": {"type": "integer", "minimum": 1},
    "prover.replicas": {"type": "integer", "minimum": 0},
    "nats.replicas": {"type": "integer", "enum": [1, 3]},
    "*.firstIndex": {"type": "integer", "minimum": 0},
    "*resources": RESOURCES,
    "*.size": QUANTITY,
    "*.tmpSize": QUANTITY,
    "prover.cpu.*": QUANTITY,
    "prover.provingKeyGiB": POSITIVE,
    "prover.workers": {"type": "integer", "minimum": 1},
    "blockProducer.aggregationWorkers": {"type": "integer", "minimum": 1},
    "trainer.epochs": {"type": "integer", "minimum": 1},
    "ipfsGateway.maxBlobBytes": {"type": "integer", "minimum": 1},
    **{f"loadtest.{k}": {"type": "integer", "minimum": 1}
       for k in ("clients", "rounds", "concurrency", "poolWorkers", "roundTimeoutSeconds")},
    "loadtest.firstClient": {"type": "integer", "minimum": 0},
    "postgresql.roles.prefix": {"type": "string", "pattern": r"^[a-z][a-z0-9_]{0,39}$"},
    "postgresql.roles.connectionLimit": {"type": "integer", "minimum": 1},
    "postgresql.roles.passwords": {"type": "object", "additionalProperties": False, "properties": {
        account: {"type": "string", "pattern": r"^[A-Za-z0-9._~-]{16,}$"}
        for account in ("trainer", "prover", "validator", "block-producer", "ipfs-gateway", "reader")}},
    "postgresql.roles.job.*Seconds*": {"type": "integer", "minimum": 1},
    "postgresql.roles.job.backoffLimit": {"type": "integer", "minimum": 0},
    "nats.max*Store": NATS_SIZE,
    "nats.maxPayload": NATS_SIZE,
    "nats.lameDuckDurationSeconds": {"type": "integer", "minimum": 30},
    "nats.lameDuckGracePeriodSeconds": {"type": "integer", "minimum": 1},
    "monitoring.podMonitor.interval": DURATION,
    "monitoring.podMonitor.scrapeTimeout": DURATION,
    "monitoring.alerts.proverQueueFor": DURATION,
    "monitoring.alerts.roundStalledAfter": DURATION,
    "monitoring.alerts.rejectionRatio": {"anyOf": [
        {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        {"type": "string", "pattern": r"^(0?\.[0-9]*[1-9][0-9]*|1(\.0*)?)$"}]},
    "monitoring.alerts.proofLatencyP95Seconds": POSITIVE,
    "monitoring.alerts.proverQueueDepth": {"type": "integer", "minimum": 0},
    "keys.inline": {"type": "object", "additionalProperties": False, "patternProperties": {
        r"^((producer|aggregator|prover)|(validator|client)-[0-9]+)\.key$": {"type": "string",
                                                                             "pattern": "^[0-9a-fA-F]+$"}}},
    "artifacts.accessModes": {"type": "array", "minItems": 1, "items": {
        "enum": ["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]}},
    "imagePullSecrets": {"type": "array", "items": {"type": "object", "additionalProperties": False,
                                                     "required": ["name"], "properties": {"name": {"type": "string"}}}},
    "nodeSelector": STRING_MAP,
    "*podAnnotations": STRING_MAP,
    "*labels": STRING_MAP,
    "*podLabels": STRING_MAP,
    "tolerations": {"type": "array", "items": _closed("key", "operator", "value", "effect", "tolerationSeconds")},
    "affinity": _closed("nodeAffinity", "podAffinity", "podAntiAffinity"),
    "podSecurityContext": _closed(
        "appArmorProfile", "fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot", "runAsUser",
        "seLinuxChangePolicy", "seLinuxOptions", "seccompProfile", "supplementalGroups", "supplementalGroupsPolicy",
        "sysctls", "windowsOptions"),
    "containerSecurityContext": _closed(
        "allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
        "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser", "seLinuxOptions", "seccompProfile",
        "windowsOptions"),
    "networkPolicy.extraEgress": {"type": "array", "items": _closed("to", "ports")},
}
TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


@dataclass(frozen=True)
class Entry:
    """One documented key: its dotted path, its description and its default."""

    path: str
    doc: str
    default: Any


def documented(text: str) -> list[Entry]:
    """The keys of values.yaml that carry a ``# --`` comment, in file order."""
    values = yaml.safe_load(text)
    out: list[Entry] = []
    stack: list[tuple[int, str]] = []
    doc: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            doc = [stripped[4:].strip()]
        elif stripped.startswith("#") and doc is not None:
            doc.append(stripped[1:].strip())
        elif (m := KEY.match(line)) and not stripped.startswith("-"):
            indent = len(m["indent"])
            while stack and stack[-1][0] >= indent:
                stack.pop()
            stack.append((indent, m["key"]))
            if doc is not None:
                path = ".".join(k for _, k in stack)
                out.append(Entry(path, " ".join(doc), lookup(values, path)))
            doc = None
        elif not stripped:
            doc = None
    return out


def lookup(values: Any, path: str) -> Any:
    for part in path.split("."):
        values = values[part]
    return values


def undocumented(values: dict[str, Any], docs: set[str], prefix: str = "") -> list[str]:
    """Keys with no ``# --`` comment whose value is not a mapping of documented keys."""
    missing = []
    for key, value in values.items():
        path = f"{prefix}{key}"
        if path in docs:
            continue
        if isinstance(value, dict) and value:
            missing += undocumented(value, docs, f"{path}.")
        else:
            missing.append(path)
    return missing


def _refined(path: str) -> dict[str, Any] | None:
    hits = [(len(p), s) for p, s in REFINED.items() if fnmatch.fnmatchcase(path, p)]
    return max(hits, key=lambda h: h[0])[1] if hits else None


def _node(value: Any, path: str, docs: dict[str, str]) -> dict[str, Any]:
    node = dict(_refined(path) or {})
    if not node:
        if isinstance(value, dict) and value and path not in docs:
            node = {"type": "object", "additionalProperties": False,
                    "properties": {k: _node(v, f"{path}.{k}" if path else k, docs) for k, v in value.items()}}
        elif isinstance(value, dict | list) and not value:
            raise ValueError(f"{path}: an empty default needs a schema in REFINED")
        elif isinstance(value, dict):
            node = {"type": "object", "additionalProperties": False,
                    "properties": {k: _node(v, f"{path}.{k}", {}) for k, v in value.items()}}
        else:
            node = {"type": TYPES[type(value)]}
    if path in docs:
        node["description"] = docs[path]
    return node


def schema(text: str) -> dict[str, Any]:
    """values.schema.json for the values.yaml ``text``."""
    values = yaml.safe_load(text)
    docs = {e.path: e.doc for e in documented(text)}
    root = _node(values, "", docs)
    return {"$schema": "https://json-schema.org/draft-07/schema#", "title": "zkpot chart values", **root}


def table(text: str) -> str:
    """The README's markdown table of every documented value."""
    rows = ["| Key | Default | Description |", "|---|---|---|"]
    for e in documented(text):
        default = json.dumps(e.default) if not isinstance(e.default, str) or e.default else '""'
        default = default if len(default) <= 60 else "see values.yaml"
        rows.append(f"| `{e.path}` | `{default}` | {e.doc.replace('|', '/')} |")
    return "\n".join(rows)


def render_readme(readme: str, text: str) -> str:
    head, _, rest = readme.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{table(text)}\n{END}{tail}"


def write(chart: Path = CHART) -> None:
    text = (chart / "values.yaml").read_text()
    (chart / "values.schema.json").write_text(json.dumps(schema(text), indent=2) + "\n")
    readme = chart / "README.md"
    readme.write_text(render_readme(readme.read_text(), text))


if __name__ == "__main__":
    write(Path(sys.argv[1]) if len(sys.argv) > 1 else CHART)
