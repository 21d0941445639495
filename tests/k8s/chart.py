"""Render the chart with the pinned helm and reach the other pinned tools (tools/k8s/fetch-tools.sh)."""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "zkpot"
VALUES = ROOT / "k8s" / "values"
TEST_VALUES = Path(__file__).resolve().parent / "values"  # sets only the tests render (no cluster runs them)
TOOLS = ROOT / ".cache" / "k8s-tools"
HELM = TOOLS / "bin" / "helm"
KUBECTL = TOOLS / "bin" / "kubectl"
CHECKOV = TOOLS / "checkov" / "bin" / "checkov"
CRD_MODELS = TOOLS / "crd-models"
# The Kubernetes version docs/kubernetes.md names (kind node image, kubectl from the same npm layer).
KUBE_VERSION = "1.32.0"
RELEASE = NAMESPACE = "zkpot"
# Each example values set: files merged in order, as `helm -f a -f b`.
VALUE_SETS: dict[str, tuple[str, ...]] = {
    "default": (),
    "dev": ("dev",),
    "kind": ("dev", "kind"),
    "minikube": ("dev", "minikube"),
    "loadtest": ("dev", "kind", "loadtest"),
    "member-provers": ("dev", "member-provers"),
    "e2e": ("dev", "e2e"),  # the cluster test (make k8s-e2e)
}


@functools.cache
def ensure_tools() -> None:
    """Fetch helm, kubectl, checkov and the CRD validators once (fast when cached)."""
    subprocess.run([str(ROOT / "tools" / "k8s" / "fetch-tools.sh"), "--no-apt"], check=True, cwd=ROOT)


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        raise AssertionError("promtool is missing: `make k8s-tools` installs the Debian package prometheus")
    return path


def value_files(name: str) -> list[Path]:
    """The files of one values set, each from k8s/values or else tests/k8s/values."""
    return [VALUES / f"{f}.yaml" if (VALUES / f"{f}.yaml").is_file() else TEST_VALUES / f"{f}.yaml"
            for f in VALUE_SETS[name]]


def value_args(name: str) -> list[str]:
    return [arg for f in value_files(name) for arg in ("-f", str(f))]


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    ensure_tools()
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, check=check, cwd=ROOT)


def template(extra: Sequence[str] = (), check: bool = True) -> subprocess.CompletedProcess[str]:
    return helm("template", RELEASE, str(CHART), "--namespace", NAMESPACE, *extra, check=check)


def template_docs(extra: Sequence[str] = ()) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(template(extra).stdout) if d]


@functools.cache
def rendered(name: str) -> tuple[str, tuple[dict[str, Any], ...]]:
    """The manifests of one values set: the YAML text and its documents."""
    text = template(value_args(name)).stdout
    return text, tuple(d for d in yaml.safe_load_all(text) if d)


def docs_of(name: str, kind: str) -> list[dict[str, Any]]:
    return [d for d in rendered(name)[1] if d["kind"] == kind]


def workloads(docs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")]


def component(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


def tier(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["zkpot.io/tier"])


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]
