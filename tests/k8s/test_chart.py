"""The chart lints, renders and validates for the default values and each example values set (helm 3.17,
kubernetes-validate --strict against the Kubernetes version the docs name, the prometheus-operator CRD schemas,
promtool), and its wiring matches the services' contract (zkpot.config, zkpot.metrics)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
from zkpot import config, metrics

from tools.k8s.promconfig import rule_groups, write_yaml

from .chart import (
    CHART,
    CRD_MODELS,
    KUBE_VERSION,
    ROOT,
    VALUE_SETS,
    component,
    docs_of,
    ensure_tools,
    helm,
    pod_spec,
    promtool,
    rendered,
    template,
    template_docs,
    tier,
    value_args,
    workloads,
)
from .promql import selectors

pytestmark = pytest.mark.integration
SETS = sorted(VALUE_SETS)
CRD_KINDS = {"PodMonitor", "ServiceMonitor", "PrometheusRule"}
# Metrics of exporters the chart or kube-prometheus-stack runs (docs/kubernetes.md, "Metrics"): Prometheus's own
# `up`, prometheus-nats-exporter (-varz -jsz=all -prefix=nats), postgres_exporter, cAdvisor, kube-state-metrics.
EXPORTER_METRICS = {
    "up",
    "nats_varz_connections", "nats_varz_in_msgs", "nats_varz_out_msgs",
    "nats_consumer_num_pending", "nats_consumer_num_ack_pending",
    "pg_up", "pg_stat_database_numbackends", "pg_stat_database_xact_commit", "pg_database_size_bytes",
    "container_memory_working_set_bytes", "container_cpu_usage_seconds_total",
    "kube_pod_container_status_restarts_total",
}


@pytest.mark.parametrize("name", SETS)
def test_helm_lint(name: str) -> None:
    result = helm("lint", "--strict", str(CHART), "--namespace", "zkpot", *value_args(name), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", SETS)
def test_manifests_validate_strict(name: str) -> None:
    errors = []
    for doc in rendered(name)[1]:
        if doc["kind"] in CRD_KINDS:
            continue  # not in kubernetes-validate's schemas: test_crd_objects_validate checks them
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as e:
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {e.message} at {list(e.path)}")
    assert errors == []


@pytest.mark.parametrize("name", ["dev", "kind"])
def test_crd_objects_validate(name: str) -> None:
    objects = [d for d in rendered(name)[1] if d["kind"] in CRD_KINDS]
    assert {d["kind"] for d in objects} == {"PodMonitor", "PrometheusRule"}
    result = subprocess.run(["node", str(ROOT / "tools" / "k8s" / "crd-models" / "validate.mjs")], cwd=CRD_MODELS,
                            input=json.dumps(objects), capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_crd_validator_rejects_a_wrong_type() -> None:
    ensure_tools()
    [rule] = [d for d in rendered("dev")[1] if d["kind"] == "PrometheusRule"]
    broken = json.loads(json.dumps(rule))
    broken["spec"]["groups"][0]["rules"][0]["expr"] = {"not": "a string"}
    result = subprocess.run(["node", str(ROOT / "tools" / "k8s" / "crd-models" / "validate.mjs")], cwd=CRD_MODELS,
                            input=json.dumps([broken]), capture_output=True, text=True)
    assert result.returncode == 1 and "expr" in result.stdout


def test_alert_rules_pass_promtool(tmp_path) -> None:
    path = write_yaml(tmp_path / "rules.yaml", rule_groups(rendered("dev")[1]))
    result = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 7 rules found" in result.stdout


def queries(name: str) -> list[tuple[str, str]]:
    """(where, PromQL) for every alert rule and every dashboard query the chart renders."""
    out = [(r["alert"], r["expr"]) for g in rule_groups(rendered(name)[1])["groups"] for r in g["rules"]]
    for cm in docs_of(name, "ConfigMap"):
        if cm["metadata"]["labels"].get("grafana_dashboard") != "1":
            continue
        for board in map(json.loads, cm["data"].values()):
            out += [(f"{board['title']} :: {p['title']}", t["expr"]) for p in board["panels"] for t in p["targets"]]
            out += [(f"{board['title']} :: ${v['name']}", v["query"]["query"])
                    for v in board["templating"]["list"] if v["type"] == "query"]
    return out


def test_dashboards_and_rules_query_only_exported_metrics() -> None:
    found = queries("dev")
    assert len({w.split(" :: ")[0] for w, _ in found}) == 4 + 7  # four dashboards, seven alerts
    exported = metrics.all_exported_names() | EXPORTER_METRICS
    wrong = []
    for where, expr in found:
        for sel in selectors(expr):
            svc = sel.equal.get("component")
            allowed = metrics.all_exported_names(svc) | EXPORTER_METRICS if svc in config.SERVICES else exported
            if sel.name not in allowed:
                wrong.append(f"{where}: {sel.name}" + (f" (not exported by {svc})" if svc else ""))
    assert wrong == []


def test_each_required_alert_exists() -> None:
    alerts = {r["alert"] for g in rule_groups(rendered("dev")[1])["groups"] for r in g["rules"]}
    assert {"ZkpotProverQueueBacklog", "ZkpotProofLatencyHigh", "ZkpotRoundStalled", "ZkpotRejectionsSpiking",
            "ZkpotValidatorQuorumAtRisk"} <= alerts


def service_env(doc: dict) -> tuple[str, dict[str, dict]]:
    [container] = pod_spec(doc)["containers"]
    assert "envFrom" not in container, "env must be explicit to be checked against zkpot.config"
    return container["name"], {e["name"]: e for e in container.get("env", [])}


@pytest.mark.parametrize("name", SETS)
def test_env_matches_the_services_settings(name: str) -> None:
    services = [d for d in workloads(rendered(name)[1]) if tier(d) == "service"]
    assert {component(d) for d in services} == set(config.SERVICES)
    for doc in services:
        svc, env = service_env(doc)
        assert svc == component(doc)
        assert set(env) <= config.ENV_NAMES, f"{svc} sets undeclared {set(env) - config.ENV_NAMES}"
        assert config.required_for(svc) <= set(env), f"{svc} misses {config.required_for(svc) - set(env)}"
    [setup] = [d for d in workloads(rendered(name)[1]) if component(d) == "circuit-setup"]
    assert set(service_env(setup)[1]) <= config.ENV_NAMES


@pytest.mark.parametrize("extra", [[], ["--set", "trainer.replicas=1", "--set", "trainer.firstIndex=3"]])
def test_each_member_pod_finds_its_own_key(extra: list[str]) -> None:
    docs = template_docs(extra)
    for role, prefix in (("trainer", "client"), ("validator", "validator")):
        sets = [d for d in docs if d["kind"] == "StatefulSet" and component(d) == role]
        assert sets
        for sts in sets:
            i = sts["spec"]["template"]["metadata"]["labels"]["zkpot.io/index"]
            [keys] = [v for v in pod_spec(sts)["volumes"] if v["name"] == "keys"]
            mounted = {f"/etc/zkpot/keys/{item['path']}": item["key"] for item in keys["secret"]["items"]}
            env = service_env(sts)[1]
            assert mounted[env["ZKPOT_KEY_FILE"]["value"]] == f"{prefix}-{i}.key"
            assert mounted[env["ZKPOT_NATS_NKEY_FILE"]["value"]] == f"nats-{role}-{i}.nk"  # its own NATS identity
            assert len(mounted) == 2


@pytest.mark.parametrize(("role", "seed"), [("prover", "nats-prover.nk"), ("block-producer", "nats-producer.nk")])
def test_single_identity_pods_mount_their_nats_seed(role: str, seed: str) -> None:
    [doc] = [d for d in template_docs([]) if d["kind"] == "Deployment" and component(d) == role]
    [keys] = [v for v in pod_spec(doc)["volumes"] if v["name"] == "keys"]
    mounted = {f"/etc/zkpot/keys/{i['path']}": i["key"] for i in keys["secret"]["items"]}
    assert mounted[service_env(doc)[1]["ZKPOT_NATS_NKEY_FILE"]["value"]] == seed
    assert not [k for k in mounted.values() if k.endswith(".nk") and k != seed]


def test_each_trainer_is_its_own_statefulset_named_by_its_client_index() -> None:
    sets = [d for d in docs_of("default", "StatefulSet") if component(d) == "trainer"]
    assert [d["metadata"]["name"] for d in sets] == [f"zkpot-trainer-{i}" for i in range(4)]
    for i, sts in enumerate(sets):
        assert sts["spec"]["replicas"] == 1 and sts["spec"]["serviceName"] == "zkpot-trainer"
        assert service_env(sts)[1]["ZKPOT_CLIENT_INDEX"] == {"name": "ZKPOT_CLIENT_INDEX", "value": str(i)}


def test_prover_memory_is_derived_from_the_proving_key() -> None:
    def prover_memory(*sets: str) -> dict[str, str]:
        args = [a for s in sets for a in ("--set-json", s)]
        [dep] = [d for d in template_docs(args) if d["kind"] == "Deployment" and component(d) == "prover"]
        res = pod_spec(dep)["containers"][0]["resources"]
        return {"request": res["requests"]["memory"], "limit": res["limits"]["memory"]}

    assert prover_memory() == {"request": "1536Mi", "limit": "1792Mi"}  # pk 0.5 GiB: measured RSS 1.3 GB
    assert prover_memory("prover.provingKeyGiB=2.5") == {"request": "5632Mi", "limit": "6912Mi"}  # measured 5.5 GB
    assert prover_memory("prover.provingKeyGiB=2.5", "prover.workers=2")["request"] == "10752Mi"


def test_circuit_setup_is_an_ordered_hook() -> None:
    docs = rendered("default")[1]
    hooks = {(d["kind"], component(d)): d["metadata"]["annotations"] for d in docs
             if "helm.sh/hook" in d["metadata"].get("annotations", {})}
    job = hooks[("Job", "circuit-setup")]
    pvc = hooks[("PersistentVolumeClaim", "artifacts")]
    assert job["helm.sh/hook"] == pvc["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(pvc["helm.sh/hook-weight"]) < int(job["helm.sh/hook-weight"])
    assert pvc["helm.sh/resource-policy"] == "keep"
    [job_doc] = [d for d in workloads(docs) if component(d) == "circuit-setup"]
    assert job_doc["spec"]["backoffLimit"] >= 1


def test_production_genesis_checks_against_the_ceremony_srs() -> None:
    out = template(["--set-json", 'genesis.json="{}"', "--set", "srs.existingClaim=ceremony"]).stdout
    assert "--genesis /etc/zkpot/genesis/genesis.json" in out and "--srs /etc/zkpot/srs/kzg.srs" in out
    missing = template(["--set-json", 'genesis.json="{}"'], check=False)
    assert missing.returncode != 0 and "ceremony SRS" in missing.stderr


@pytest.mark.parametrize(("flag", "message"), [
    ("prover.replica=3", "Additional property replica is not allowed"),
    ("logLevel=LOUD", "logLevel must be one of"),
    ("trainer.resources.request.cpu=1", "Additional property request is not allowed"),
    ("nats.replicas=2", "nats.replicas"),
])
def test_schema_rejects_typos_and_bad_values(flag: str, message: str) -> None:
    result = template(["--set", flag], check=False)
    assert result.returncode != 0 and message in result.stderr


@pytest.mark.parametrize(("key", "least"), [
    ("clients", 1), ("rounds", 1), ("concurrency", 1), ("poolWorkers", 1), ("roundTimeoutSeconds", 1),
    ("firstClient", 0),
])
def test_schema_bounds_the_loadtest_settings(key: str, least: int) -> None:
    """The schema, not the Job template, refuses an out-of-range setting: `helm lint` catches it too, loadtest off."""
    flag = ["--set", f"loadtest.{key}={least - 1}"]
    message = f"loadtest.{key}: Must be greater than or equal to {least}"
    for result in (template(flag, check=False), helm("lint", "--strict", str(CHART), *flag, check=False)):
        assert result.returncode != 0 and message in result.stdout + result.stderr


def test_every_pod_is_restricted_and_probed() -> None:
    for doc in workloads(rendered("dev")[1]):
        spec = pod_spec(doc)
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"]["drop"] == ["ALL"]
            assert sc["readOnlyRootFilesystem"] is True
            assert {"requests", "limits"} <= set(c["resources"])
            if doc["kind"] != "Job":
                assert {"livenessProbe", "readinessProbe"} <= set(c), f"{c['name']} lacks probes"


def test_config_changes_roll_the_service_pods() -> None:
    def checksums(*extra: str) -> set[str]:
        return {v for d in template_docs(extra) if d["kind"] in ("Deployment", "StatefulSet") and tier(d) == "service"
                for k, v in d["spec"]["template"]["metadata"]["annotations"].items() if k.startswith("checksum/")}

    public = json.dumps(json.dumps(PUBLIC))
    assert checksums() != checksums("--set-json", f"keys.publicJson={public}")
    assert checksums() != checksums("--set", "keys.existingSecret=other-keys")


def test_kubo_rpc_is_only_reachable_from_the_gateway() -> None:
    docs = rendered("default")[1]
    [svc] = [d for d in docs if d["kind"] == "Service" and component(d) == "kubo"]
    assert svc["spec"]["clusterIP"] == "None" and "type" not in svc["spec"]
    [policy] = [d for d in docs if d["kind"] == "NetworkPolicy" and component(d) == "kubo"]
    [rule] = policy["spec"]["ingress"]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/component"] for p in rule["from"]] == ["ipfs-gateway"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5001}]


def test_every_release_pod_is_under_default_deny() -> None:
    docs = rendered("default")[1]
    [deny] = [d for d in docs if d["kind"] == "NetworkPolicy" and component(d) == "default-deny"]
    assert deny["spec"]["policyTypes"] == ["Ingress", "Egress"]
    selector = deny["spec"]["podSelector"]["matchLabels"]
    for doc in workloads(docs):
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items()


PUBLIC = {"producer": "aa", "aggregator_box_key": "bb", "validators": ["v0", "v1", "v2", "v3"],
          "clients": ["c0", "c1", "c2", "c3"], "prover_box_key": "cc"}


def test_trainers_get_the_prover_box_key_from_public_json() -> None:
    docs = template_docs(["--set-json", f"keys.publicJson={json.dumps(json.dumps(PUBLIC))}"])
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and component(d) == "public"]
    assert cm["data"]["prover_box_key"] == "cc" and json.loads(cm["data"]["public.json"]) == PUBLIC
    for sts in [d for d in docs if d["kind"] == "StatefulSet" and component(d) == "trainer"]:
        ref = service_env(sts)[1]["ZKPOT_PROVER_BOX_KEY"]["valueFrom"]["configMapKeyRef"]
        assert ref == {"name": cm["metadata"]["name"], "key": "prover_box_key"}


MEMBER_PROVERS = {**PUBLIC, "member_prover_box_keys": ["p0", "p1", "p2", "p3"]}


def provers(docs: list[dict]) -> list[dict]:
    return [d for d in docs if d["kind"] == "Deployment" and component(d) == "prover"]


@pytest.mark.parametrize("extra", [[], ["--set", "trainer.replicas=2", "--set", "trainer.firstIndex=2"]])
def test_per_member_provers_run_one_deployment_per_trainer_member(extra: list[str]) -> None:
    public = ["--set-json", f"keys.publicJson={json.dumps(json.dumps(MEMBER_PROVERS))}"]
    docs = template_docs([*public, "--set", "prover.perMember=true", *extra])
    [cm] = [d for d in docs if d["kind"] == "ConfigMap" and component(d) == "public"]
    trainers = {sts["spec"]["template"]["metadata"]["labels"]["zkpot.io/index"]: sts for sts in docs
                if sts["kind"] == "StatefulSet" and component(sts) == "trainer"}
    deployments = provers(docs)
    assert [d["metadata"]["name"] for d in deployments] == [f"zkpot-prover-{i}" for i in trainers]  # no pool
    for dep in deployments:
        m = dep["spec"]["template"]["metadata"]["labels"]["zkpot.io/index"]
        assert dep["spec"]["selector"]["matchLabels"]["zkpot.io/index"] == m and dep["spec"]["replicas"] == 1
        [keys] = [v for v in pod_spec(dep)["volumes"] if v["name"] == "keys"]
        mounted = {f"/etc/zkpot/keys/{item['path']}": item["key"] for item in keys["secret"]["items"]}
        env = service_env(dep)[1]
        assert env["ZKPOT_PROVER_MEMBER"]["value"] == m
        assert {mounted[env[v]["value"]] for v in (
            "ZKPOT_PROVER_KEY_FILE", "ZKPOT_PROVER_SIGNING_KEY_FILE", "ZKPOT_NATS_NKEY_FILE")} == {
            f"prover-{m}.key", f"prover-{m}-signer.key", f"nats-prover-{m}.nk"} == set(mounted.values())
        ref = service_env(trainers[m])[1]["ZKPOT_PROVER_BOX_KEY"]["valueFrom"]["configMapKeyRef"]
        assert ref == {"name": cm["metadata"]["name"], "key": f"member_prover_box_key_{m}"}
        assert cm["data"][ref["key"]] == MEMBER_PROVERS["member_prover_box_keys"][int(m)]  # its own prover's
    [job] = [d for d in workloads(docs) if component(d) == "nats-provision"]
    assert "--member-provers" in pod_spec(job)["containers"][0]["args"]


def test_the_shared_prover_pool_is_the_default() -> None:
    docs = template_docs(["--set-json", f"keys.publicJson={json.dumps(json.dumps(MEMBER_PROVERS))}"])
    [pool] = provers(docs)
    assert pool["metadata"]["name"] == "zkpot-prover" and pool["spec"]["replicas"] == 2
    assert "zkpot.io/index" not in pool["spec"]["template"]["metadata"]["labels"]
    assert "ZKPOT_PROVER_MEMBER" not in service_env(pool)[1]
    for sts in [d for d in docs if d["kind"] == "StatefulSet" and component(d) == "trainer"]:
        assert service_env(sts)[1]["ZKPOT_PROVER_BOX_KEY"]["valueFrom"]["configMapKeyRef"]["key"] == "prover_box_key"
    [job] = [d for d in workloads(docs) if component(d) == "nats-provision"]
    assert "--member-provers" not in pod_spec(job)["containers"][0]["args"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--set", "trainer.replicas=5"], "exceeds the 4 clients"),
    (["--set", "prover.perMember=true"], "has 0 member_prover_box_keys, the trainers need 4"),
    (["--set", "validator.firstIndex=1"], "exceeds the 4 validators"),
    (["--set-json", 'keys.publicJson="{not json"'], "keys.publicJson is not JSON"),
])
def test_public_json_must_match_the_network(extra: list[str], message: str) -> None:
    public = ["--set-json", f"keys.publicJson={json.dumps(json.dumps(PUBLIC))}"]
    result = template(public + extra, check=False)
    assert result.returncode != 0 and message in result.stderr


def test_loadtest_job_runs_the_harness_with_flags_it_accepts() -> None:
    """The Job's command line parses with loadtest's own parser, plays the members it mounts keys for, and its
    environment is made of settings the code reads."""
    from loadtest.cli import run_parser

    [job] = [d for d in workloads(rendered("loadtest")[1]) if component(d) == "loadtest"]
    [container] = pod_spec(job)["containers"]
    assert container["command"] == ["python", "-m", "loadtest"]
    args = run_parser().parse_args(container["args"])  # an unknown flag exits here, failing the test
    assert (args.first_client, args.clients, args.rounds) == (3, 10, 3)
    assert args.nats_url.startswith("nats://") and args.gateway_url.startswith("http://")
    assert {"--genesis", "--keys", "--circuit", "--json"} <= set(container["args"])
    [keys] = [v for v in pod_spec(job)["volumes"] if v["name"] == "keys"]
    members = [f"client-{i}.key" for i in range(3, 13)]
    assert [i["key"] for i in keys["secret"]["items"]] == [*members, "nats-loadtest.nk"]
    assert args.nats_nkey_file == Path("/etc/zkpot/keys/nats.nk")
    assert set(service_env(job)[1]) <= config.ENV_NAMES
    assert {d["metadata"]["name"] for d in rendered("loadtest")[1] if d["kind"] == "NetworkPolicy"
            and component(d) == "loadtest"}, "the load test has its own NetworkPolicy"


def test_loadtest_refuses_members_the_trainers_run() -> None:
    result = template([*value_args("loadtest"), "--set", "loadtest.firstClient=1"], check=False)
    assert result.returncode != 0 and "pick loadtest.firstClient past them" in result.stderr
