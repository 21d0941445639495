"""k8s/ (kind, minikube, kube-prometheus-stack values, dev keys) and skaffold.yaml agree with the chart."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tools.k8s.promconfig import chart_values

from .chart import KUBE_VERSION, KUBECTL, ROOT, VALUES, component, ensure_tools, pod_spec, template_docs


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_cluster_configs_run_the_validated_kubernetes_version() -> None:
    minor = ".".join(KUBE_VERSION.split(".")[:2])
    [node] = load("k8s/kind/cluster.yaml")["nodes"]
    assert node["image"].startswith(f"kindest/node:v{minor}.")
    assert f"--kubernetes-version=v{minor}." in (ROOT / "k8s/minikube/start.sh").read_text()
    assert f"Kubernetes {minor}" in (ROOT / "docs/kubernetes.md").read_text()


def test_grafana_sidecar_picks_up_the_chart_dashboards() -> None:
    sidecar = load("k8s/monitoring/kube-prometheus-stack.yaml")["grafana"]["sidecar"]["dashboards"]
    labels = chart_values()["monitoring"]["dashboards"]["labels"]
    assert labels == {sidecar["label"]: sidecar["labelValue"]}
    assert sidecar["searchNamespace"] == "ALL"


def test_prometheus_runs_where_the_network_policies_allow_scrapes() -> None:
    assert "--namespace monitoring" in (ROOT / "k8s/monitoring/install.sh").read_text()
    assert chart_values()["networkPolicy"]["prometheus"]["namespace"] == "monitoring"
    spec = load("k8s/monitoring/kube-prometheus-stack.yaml")["prometheus"]["prometheusSpec"]
    assert spec["podMonitorSelectorNilUsesHelmValues"] is False and spec["ruleSelectorNilUsesHelmValues"] is False


def test_skaffold_builds_the_image_the_chart_deploys() -> None:
    config = load("skaffold.yaml")
    [artifact] = config["build"]["artifacts"]
    assert (ROOT / artifact["docker"]["dockerfile"]).is_file()
    [release] = config["deploy"]["helm"]["releases"]
    assert (ROOT / release["chartPath"] / "Chart.yaml").is_file()
    assert release["setValueTemplates"]["image.repository"] == f"{{{{.IMAGE_REPO_{artifact['image']}}}}}"
    assert chart_values([ROOT / f for f in release["valuesFiles"]])["image"]["repository"] == artifact["image"]
    profiles = {p["name"]: p["patches"][0]["value"] for p in config["profiles"]}
    assert profiles == {"kind": "k8s/values/kind.yaml", "minikube": "k8s/values/minikube.yaml"}
    assert all((ROOT / f).is_file() for f in profiles.values())


@pytest.mark.integration
@pytest.mark.parametrize("mode", [[], ["--member-provers"]])
def test_dev_keys_make_the_secret_the_chart_mounts(tmp_path, mode: list[str]) -> None:
    ensure_tools()
    subprocess.run([str(ROOT / "k8s/dev-keys.sh"), "--out", str(tmp_path), "--clients", "2", "--validators", "4",
                    *mode],
                   check=True, capture_output=True,
                   env={**os.environ, "ZKPOT": str(Path(sys.executable).with_name("zkpot")), "KUBECTL": str(KUBECTL)})
    secret = yaml.safe_load((tmp_path / "secret.yaml").read_text())
    kubernetes_validate.validate(secret, KUBE_VERSION, strict=True)
    files = {name: base64.b64decode(v).decode() for name, v in secret["data"].items()}
    docs = template_docs(["-f", str(VALUES / "dev.yaml"), "-f", str(tmp_path / "values.yaml")])
    mounted = {item["key"] for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job")
               for v in pod_spec(d)["volumes"] if v["name"] in ("keys", "public") and "secret" in v
               for item in v["secret"]["items"]}
    assert mounted <= set(files), f"the chart mounts keys the bundle lacks: {mounted - set(files)}"
    assert {"client-0.key", "client-1.key", "validator-3.key", "producer.key", "aggregator.key"} <= mounted
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "StatefulSet" and component(d) == "trainer"] == [
        "zkpot-trainer-0", "zkpot-trainer-1"]
    provers = [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment" and component(d) == "prover"]
    assert provers == (["zkpot-prover-0", "zkpot-prover-1"] if mode else ["zkpot-prover"])
    auth = files["nats-authorization.conf"]
    if mode:  # the member provers' keys, and a NATS block that lets them pull their own durables
        assert {"prover-1.key", "prover-1-signer.key", "nats-prover-1.nk"} <= mounted
        assert "ZKPOT_JOBS.prover-1" in auth and "ZKPOT_JOBS.provers" not in auth
    else:
        assert "ZKPOT_JOBS.provers" in auth and "ZKPOT_JOBS.prover-1" not in auth
