"""Least privilege on the keys Secret: a pod's filesystem holds only its own identity's private files. Each trainer
and validator is its own StatefulSet (a StatefulSet's pods share one template, so one for all would mount every
member's key in every pod); every other workload mounts fixed, single items."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .chart import CHART, VALUE_SETS, component, pod_spec, rendered, template_docs, value_files, workloads

pytestmark = pytest.mark.integration
KEYS_SECRET = "zkpot-keys"  # keys.existingSecret in the default and example values


def merged_values(name: str) -> dict[str, Any]:
    """The chart's values as `helm -f` merges the values set's files (maps deep, everything else replaced)."""
    def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for f in value_files(name):
        values = merge(values, yaml.safe_load(f.read_text()))
    return values


def secret_items(doc: dict[str, Any]) -> set[str]:
    """Keys of the keys Secret that the pod template mounts; refuses a whole-Secret mount."""
    found: set[str] = set()
    for vol in pod_spec(doc).get("volumes", []):
        sources = [vol] + vol.get("projected", {}).get("sources", [])
        for src in sources:
            secret = src.get("secret")
            if secret is None or KEYS_SECRET not in (secret.get("secretName"), secret.get("name")):
                continue
            assert secret.get("items"), f"{doc['metadata']['name']} mounts the whole keys Secret"
            found |= {item["key"] for item in secret["items"]}
    for c in pod_spec(doc)["containers"] + pod_spec(doc).get("initContainers", []):
        assert not [e for e in c.get("envFrom", []) if e.get("secretRef", {}).get("name") == KEYS_SECRET]
        refs = [e["valueFrom"]["secretKeyRef"] for e in c.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})]
        assert not [r for r in refs if r["name"] == KEYS_SECRET], "keys never go into the environment"
    return found


def expected_items(doc: dict[str, Any], values: dict[str, Any]) -> set[str]:
    """The files of the one identity this workload is, by its component (and zkpot.io/index)."""
    auth = values["nats"]["auth"]["enabled"]
    role = component(doc)
    index = doc["spec"]["template"]["metadata"]["labels"].get("zkpot.io/index")
    own: dict[str, tuple[set[str], set[str]]] = {  # component -> (private keys, NATS seeds with nats.auth)
        "trainer": ({f"client-{index}.key"}, {f"nats-trainer-{index}.nk"}),
        "validator": ({f"validator-{index}.key"}, {f"nats-validator-{index}.nk"}),
        "prover": ({f"prover-{index}.key", f"prover-{index}-signer.key"}, {f"nats-prover-{index}.nk"})
        if values["prover"]["perMember"] else ({"prover.key", "prover-signer.key"}, {"nats-prover.nk"}),
        "block-producer": ({f"producer-{index}.key"}, {f"nats-producer-{index}.nk"})
        if values["blockProducer"]["perMember"] else ({"producer.key", "aggregator.key"}, {"nats-producer.nk"}),
        "nats-provision": (set() if values["keys"]["publicJson"] else {"public.json"}, {"nats-operator.nk"}),
        "circuit-setup": (set() if values["keys"]["publicJson"] else {"public.json"}, set()),
        "nats": ({"nats-authorization.conf"} if auth and not values["nats"]["auth"]["authorization"] else set(),
                 set()),
    }
    if role == "loadtest":
        first, n = values["loadtest"]["firstClient"], values["loadtest"]["clients"]
        own["loadtest"] = ({f"client-{i}.key" for i in range(first, first + n)}, {"nats-loadtest.nk"})
    keys, seeds = own.get(role, (set(), set()))
    return keys | (seeds if auth else set())


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_every_pod_mounts_exactly_its_own_identity(name: str) -> None:
    values = merged_values(name)
    wrong = {}
    for doc in workloads(rendered(name)[1]):
        got, want = secret_items(doc), expected_items(doc, values)
        if got != want:
            wrong[doc["metadata"]["name"]] = {"extra": sorted(got - want), "missing": sorted(want - got)}
    assert wrong == {}


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_one_statefulset_per_member_and_validator(name: str) -> None:
    values = merged_values(name)
    docs = rendered(name)[1]
    for role, block in (("trainer", "trainer"), ("validator", "validator")):
        first, n = values[block]["firstIndex"], values[block]["replicas"]
        sets = [d for d in docs if d["kind"] == "StatefulSet" and component(d) == role]
        assert [d["metadata"]["name"] for d in sets] == [f"zkpot-{role}-{i}" for i in range(first, first + n)]
        assert {d["spec"]["replicas"] for d in sets} == {1}
        assert not [d for d in sets if "ordinals" in d["spec"]]  # the index is in the name, the pod is <name>-0


@pytest.mark.parametrize("extra", [
    ["--set", "trainer.replicas=1", "--set", "trainer.firstIndex=3"],
    ["--set", "nats.auth.enabled=false"],
    ["--set", "prover.perMember=true", "--set", "trainer.replicas=2", "--set", "trainer.firstIndex=1"],
    ["--set", "prover.perMember=true", "--set", "nats.auth.enabled=false"],
    ["--set", "blockProducer.perMember=true", "--set", "trainer.replicas=2", "--set", "trainer.firstIndex=1"],
    ["--set", "loadtest.enabled=true", "--set", "loadtest.clients=2", "--set", "validator.firstIndex=2"],
])
def test_overrides_keep_each_pod_to_its_own_files(extra: list[str]) -> None:
    values = merged_values("default")
    for flag in extra[1::2]:
        path, value = flag.split("=")
        *parents, leaf = path.split(".")
        node = values
        for p in parents:
            node = node[p]
        node[leaf] = yaml.safe_load(value)
    for doc in workloads(template_docs(extra)):
        assert secret_items(doc) == expected_items(doc, values), doc["metadata"]["name"]


@pytest.mark.parametrize(("name", "roles"), [("dev", ("trainer", "validator")), ("member-provers", ("prover",))])
def test_labels_select_each_member_alone_and_the_role_together(name: str, roles: tuple[str, ...]) -> None:
    """Each StatefulSet's (and member prover Deployment's) selector picks its own pod only; the headless Service,
    the PodDisruptionBudget and the NetworkPolicies still pick every pod of the role (by component), and the
    PodMonitor every service pod."""
    docs = rendered(name)[1]
    for role in roles:
        kind = "Deployment" if role == "prover" else "StatefulSet"
        sets = [d for d in docs if d["kind"] == kind and component(d) == role]
        pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"] for d in sets}
        for sts in sets:
            sel = sts["spec"]["selector"]["matchLabels"]
            assert [p for p, labels in pods.items() if sel.items() <= labels.items()] == [sts["metadata"]["name"]]
        assert sets
        [pdb] = [d for d in docs if d["kind"] == "PodDisruptionBudget" and component(d) == role]
        selectors = [pdb["spec"]["selector"]["matchLabels"]]
        if kind == "StatefulSet":
            [svc] = [d for d in docs if d["kind"] == "Service" and component(d) == role]
            assert svc["spec"]["clusterIP"] == "None" and {s["spec"]["serviceName"] for s in sets} == {
                svc["metadata"]["name"]}
            selectors.append(svc["spec"]["selector"])
        for selector in selectors:
            assert all(selector.items() <= labels.items() for labels in pods.values())
        [monitor] = [d for d in docs if d["kind"] == "PodMonitor" and component(d) == "services"]
        assert all(monitor["spec"]["selector"]["matchLabels"].items() <= labels.items() for labels in pods.values())
        for policy in (d for d in docs if d["kind"] == "NetworkPolicy"):
            sel = policy["spec"]["podSelector"]
            if sel.get("matchLabels", {}).get("app.kubernetes.io/component") == role:
                assert "zkpot.io/index" not in sel["matchLabels"]


def test_each_trainer_keeps_its_own_data_volume() -> None:
    sets = [d for d in rendered("kind")[1] if d["kind"] == "StatefulSet" and component(d) == "trainer"]
    for sts in sets:
        [claim] = sts["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "data" and claim["spec"]["storageClassName"] == "standard"
    # PVC data-<statefulset>-0: one per member, stable across restarts and rescheduling
    assert len({f"data-{d['metadata']['name']}-0" for d in sets}) == len(sets) == 3


def test_member_producers_are_one_statefulset_each_with_no_aggregator_key() -> None:
    docs = template_docs(["--set", "blockProducer.perMember=true", "--set", "trainer.replicas=3"])
    sets = [d for d in workloads(docs) if component(d) == "block-producer"]
    assert [(d["kind"], d["metadata"]["name"]) for d in sets] == [
        ("StatefulSet", f"zkpot-block-producer-{i}") for i in range(3)]
    for i, doc in enumerate(sets):
        env = {e["name"]: e.get("value") for e in pod_spec(doc)["containers"][0]["env"]}
        assert env["ZKPOT_PRODUCER_INDEX"] == str(i) and "ZKPOT_AGGREGATOR_KEY_FILE" not in env
        assert "aggregator.key" not in secret_items(doc)
