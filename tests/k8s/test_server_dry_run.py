"""The chart against a real API server: etcd + kube-apiserver (the cluster test's cached binaries,
tools/k8s/cluster/build-binaries.sh) on random loopback ports, then `helm install --dry-run=server` of the cluster
test's values: the API server's own validation, admission, defaulting and the chart's lookups, without a kubelet.

This is the part of `make k8s-e2e` that fits in CI: a cold build of the binaries takes 40-60 min, so it runs only
where they are cached (~/.cache/zkpot-k8s, kept on the machine CI runs on) and says loudly when they are not.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .chart import CHART, HELM, KUBECTL, ROOT, VALUES, ensure_tools

CACHE = Path(os.environ.get("K8S_CACHE", Path.home() / ".cache" / "zkpot-k8s"))


def pinned(name: str) -> str:
    text = (ROOT / "tools" / "k8s" / "cluster" / "versions.sh").read_text()
    [line] = [ln for ln in text.splitlines() if ln.startswith(f"{name}=")]
    return line.split(":-", 1)[1].split("}", 1)[0]


APISERVER = CACHE / f"kubernetes-{pinned('K8S_VERSION')}" / "bin" / "kube-apiserver"
ETCD = CACHE / f"etcd-{pinned('ETCD_VERSION')}" / "bin" / "etcd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(url: str, proc: subprocess.Popen[bytes], log: Path, token: str = "", timeout: float = 90) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} exited {proc.returncode}: {log.read_text()[-3000:]}")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
        try:
            with urllib.request.urlopen(req, timeout=2, context=ctx) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready in {timeout}s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if not (APISERVER.is_file() and ETCD.is_file()):
        pytest.skip(f"SKIPPED LOUDLY: no cached cluster binaries in {CACHE} (tools/k8s/cluster/build-binaries.sh "
                    "builds them, 40-60 min cold); the chart was NOT checked against a real API server")
    ensure_tools()
    tmp = tmp_path_factory.mktemp("apiserver")
    token = secrets.token_hex(16)
    (tmp / "tokens.csv").write_text(f'{token},admin,admin,"system:masters"\n')
    subprocess.run(["openssl", "genrsa", "-out", str(tmp / "sa.key"), "2048"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", str(tmp / "sa.key"), "-pubout", "-out", str(tmp / "sa.pub")],
                   check=True, capture_output=True)
    client, peer, secure = free_port(), free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    etcd_log, api_log = tmp / "etcd.log", tmp / "apiserver.log"
    try:
        procs.append(subprocess.Popen(
            [str(ETCD), "--data-dir", str(tmp / "etcd"), "--listen-client-urls", f"http://127.0.0.1:{client}",
             "--advertise-client-urls", f"http://127.0.0.1:{client}", "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
            stdout=etcd_log.open("wb"), stderr=subprocess.STDOUT))
        wait(f"http://127.0.0.1:{client}/health", procs[0], etcd_log)
        procs.append(subprocess.Popen(
            [str(APISERVER), f"--etcd-servers=http://127.0.0.1:{client}", "--bind-address=127.0.0.1",
             f"--secure-port={secure}", f"--cert-dir={tmp / 'certs'}", f"--token-auth-file={tmp / 'tokens.csv'}",
             "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/16",
             f"--service-account-key-file={tmp / 'sa.pub'}", f"--service-account-signing-key-file={tmp / 'sa.key'}",
             "--service-account-issuer=https://kubernetes.default.svc.cluster.local", "--advertise-address=127.0.0.1"],
            stdout=api_log.open("wb"), stderr=subprocess.STDOUT))
        wait(f"https://127.0.0.1:{secure}/readyz", procs[1], api_log, token)
        kubeconfig = tmp / "kubeconfig"
        kubeconfig.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": "t",
            "clusters": [{"name": "t", "cluster": {"server": f"https://127.0.0.1:{secure}",
                                                   "insecure-skip-tls-verify": True}}],
            "users": [{"name": "t", "user": {"token": token}}],
            "contexts": [{"name": "t", "context": {"cluster": "t", "user": "t"}}]}))
        yield kubeconfig
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def run(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "KUBECONFIG": str(kubeconfig)})


def test_helm_install_dry_run_server_of_the_e2e_values(apiserver: Path, tmp_path: Path) -> None:
    version = run(apiserver, str(KUBECTL), "version", "-o", "json")
    assert json.loads(version.stdout)["serverVersion"]["gitVersion"] == pinned("K8S_VERSION"), version.stderr
    crds = ROOT / "tools" / "k8s" / "cluster" / "manifests" / "monitoring-crds.yaml"
    for cmd in (["apply", "-f", str(crds)], ["create", "namespace", "zkpot"]):
        done = run(apiserver, str(KUBECTL), *cmd)
        assert done.returncode == 0, done.stderr
    run(apiserver, str(KUBECTL), "wait", "--for=condition=Established", "crd", "--all", "--timeout=30s")
    zkpot = ROOT / ".venv" / "bin" / "zkpot"
    keys = tmp_path / "dev-keys"
    done = run(apiserver, str(ROOT / "k8s" / "dev-keys.sh"), "--clients", "3", "--out", str(keys))
    assert done.returncode == 0, done.stderr + f" (zkpot at {zkpot})"
    done = run(apiserver, str(KUBECTL), "apply", "-f", str(keys / "secret.yaml"))
    assert done.returncode == 0, done.stderr
    done = run(apiserver, str(HELM), "install", "zkpot", str(CHART), "-n", "zkpot", "--dry-run=server",
               "-f", str(VALUES / "dev.yaml"), "-f", str(VALUES / "e2e.yaml"), "-f", str(keys / "values.yaml"),
               "--set", "loadtest.enabled=true", "--set", "trainer.replicas=1", "--set", "loadtest.firstClient=1",
               "--set", "loadtest.clients=2")
    assert done.returncode == 0, done.stderr
    assert "STATUS: pending-install" in done.stdout
