"""The chart's load-test Job: off by default; when on, a valid, restricted Job that plays the right members
against the release's NATS, gateway and database, reachable through its own NetworkPolicies and nothing else."""

import json
import subprocess

import kubernetes_validate
import pytest
from zkpot import config

from tests.k8s.chart import CHECKOV, KUBE_VERSION, component, ensure_tools, pod_spec, template, template_docs

pytestmark = pytest.mark.integration
ON = ["--set", "loadtest.enabled=true"]
PUBLIC = {"producer": "aa", "aggregator_box_key": "bb", "validators": ["v0", "v1", "v2", "v3"],
          "clients": [f"c{i}" for i in range(8)], "prover_box_key": "cc"}


def loadtest_docs(extra: list[str] = ()) -> list[dict]:  # type: ignore[assignment]
    return [d for d in template_docs(ON + list(extra)) if component(d).startswith("loadtest")]


def the_job(docs: list[dict]) -> dict:
    [job] = [d for d in docs if d["kind"] == "Job"]
    return job


def test_off_by_default() -> None:
    assert not [d for d in template_docs() if component(d).startswith("loadtest")]


def test_the_job_validates_strictly_and_is_restricted() -> None:
    docs = loadtest_docs()
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
    job = the_job(docs)
    assert job["metadata"]["name"] == "zkpot-loadtest-r1"  # one run per release revision
    spec = pod_spec(job)
    assert spec["automountServiceAccountToken"] is False and spec["restartPolicy"] == "Never"
    assert spec["securityContext"]["runAsNonRoot"] is True
    [c] = spec["containers"]
    assert c["securityContext"]["readOnlyRootFilesystem"] is True and c["securityContext"]["capabilities"] == {
        "drop": ["ALL"]}
    assert {"requests", "limits"} <= set(c["resources"])
    assert {e["name"] for e in c["env"]} <= config.ENV_NAMES
    deny = [d for d in template_docs(ON) if d["kind"] == "NetworkPolicy" and component(d) == "default-deny"][0]
    assert deny["spec"]["podSelector"]["matchLabels"].items() <= job["spec"]["template"]["metadata"]["labels"].items()


def test_it_plays_the_members_past_the_trainers_against_this_release() -> None:
    job = the_job(loadtest_docs(["--set", "loadtest.clients=3", "--set", "loadtest.rounds=2"]))
    [c] = pod_spec(job)["containers"]
    assert c["command"] == ["python", "-m", "loadtest"]
    args = c["args"]
    pairs = dict(zip(args[::2], args[1::2], strict=False))
    assert pairs["--nats-url"] == "nats://zkpot-nats:4222" and pairs["--gateway-url"] == "http://zkpot-ipfs-gateway:8080"
    assert (pairs["--first-client"], pairs["--clients"], pairs["--rounds"]) == ("4", "3", "2")
    assert pairs["--genesis"] == "/var/lib/zkpot/genesis.json" and pairs["--keys"] == "/etc/zkpot/keys"
    assert "zkpot-validator-3=http://zkpot-validator-3-0.zkpot-validator:8080/metrics" in args
    [keys] = [v for v in pod_spec(job)["volumes"] if v["name"] == "keys"]
    # the members it plays, and its own NATS identity (nats.auth is on by default): nothing else
    assert [i["key"] for i in keys["secret"]["items"]] == ["client-4.key", "client-5.key", "client-6.key",
                                                          "nats-loadtest.nk"]
    assert args[args.index("--nats-nkey-file") + 1] == "/etc/zkpot/keys/nats.nk"
    db = next(e for e in c["env"] if e["name"] == "ZKPOT_DATABASE_URL")
    assert db["valueFrom"]["secretKeyRef"] == {"name": "zkpot-database", "key": "reader.url"}  # read-only


def test_network_policies_open_exactly_its_flows() -> None:
    docs = loadtest_docs()
    policies = {component(d): d["spec"] for d in docs if d["kind"] == "NetworkPolicy"}
    assert set(policies) == {"loadtest", "loadtest-to-nats", "loadtest-to-postgresql", "loadtest-to-ipfs-gateway",
                             "loadtest-to-validator"}
    assert "ingress" not in policies["loadtest"] and policies["loadtest"]["policyTypes"] == ["Ingress", "Egress"]
    egress = {p["port"] for rule in policies["loadtest"]["egress"] for p in rule["ports"]}
    assert egress == {4222, 5432, 8080}
    for peer, port in (("nats", 4222), ("postgresql", 5432), ("ipfs-gateway", 8080), ("validator", 8080)):
        spec = policies[f"loadtest-to-{peer}"]
        assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == peer
        [rule] = spec["ingress"]
        assert rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "loadtest"
        assert rule["ports"] == [{"protocol": "TCP", "port": port}]
    assert [d for d in loadtest_docs(["--set", "networkPolicy.enabled=false"]) if d["kind"] == "NetworkPolicy"] == []


@pytest.mark.parametrize(("extra", "message"), [
    (["--set", "loadtest.firstClient=2"], "but this release's trainers run clients 0..3"),
    (["--set", "loadtest.clients=0"], "loadtest.clients: Must be greater than or equal to 1"),
    (["--set", "loadtest.client=3"], "Additional property client is not allowed"),
    (["--set-json", f"keys.publicJson={json.dumps(json.dumps(PUBLIC))}", "--set", "loadtest.clients=5"],
     "(9) exceeds the 8 clients of keys.publicJson"),
])
def test_impossible_settings_are_refused(extra: list[str], message: str) -> None:
    result = template(ON + extra, check=False)
    assert result.returncode != 0 and message in result.stderr


def test_checkov_passes_on_the_job_and_its_policies(tmp_path) -> None:  # noqa: ANN001
    ensure_tools()
    (tmp_path / "loadtest.yaml").write_text(template(ON).stdout)
    result = subprocess.run([str(CHECKOV), "--directory", str(tmp_path), "--framework", "kubernetes", "--output",
                             "json", "--skip-download"], capture_output=True, text=True)
    report = json.loads(result.stdout)
    failed = [f"{c['check_id']} {c['resource']}" for c in report["results"]["failed_checks"]]
    assert failed == [] and result.returncode == 0
