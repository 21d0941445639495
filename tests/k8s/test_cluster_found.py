"""Chart bugs the real cluster (`make k8s-e2e`, tools/k8s/e2e.sh) found, each pinned here offline."""

from __future__ import annotations

from .chart import docs_of, template_docs  # noqa: F401


def job(docs: list[dict], component: str) -> dict:
    [j] = [d for d in docs
           if d["kind"] == "Job" and d["metadata"]["labels"]["app.kubernetes.io/component"] == component]
    return j


def test_circuit_setup_takes_its_own_resources() -> None:
    """circuitSetup.resources set (k8s/values/e2e.yaml sizes it for a 2-CPU node) failed the install: the
    template piped the map into nindent ("wrong type for value; expected string")."""
    own = {"requests": {"cpu": "200m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    docs = template_docs(["--set", "circuitSetup.resources.requests.cpu=200m",
                          "--set", "circuitSetup.resources.requests.memory=1Gi",
                          "--set-string", "circuitSetup.resources.limits.cpu=2",
                          "--set", "circuitSetup.resources.limits.memory=2Gi"])
    [container] = job(docs, "circuit-setup")["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == own
    [container] = job(template_docs(), "circuit-setup")["spec"]["template"]["spec"]["containers"]
    assert container["resources"]["requests"]["cpu"] == "1"  # empty: the prover's


def test_the_image_builds_offline_from_a_local_base_and_wheelhouse() -> None:
    """The Dockerfile could only build with Docker Hub and the PyTorch index reachable; the cluster test builds it
    with neither (tools/k8s/cluster/images.sh): the base image is a build argument whose default stays the pinned
    python image, and pip's PIP_NO_INDEX / PIP_FIND_LINKS pass through (unset by default, changing nothing)."""
    import re

    from .chart import ROOT

    text = (ROOT / "Dockerfile").read_text()
    head = text.split("\nFROM ", 1)[0]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11\.\d+-slim-bookworm$", head, re.MULTILINE)
    assert re.findall(r"^FROM (\S+) AS", text, re.MULTILINE) == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    build = text.split(" AS runtime", 1)[0]
    assert re.search(r"^ARG PIP_NO_INDEX$", build, re.MULTILINE)
    assert re.search(r"^ARG PIP_FIND_LINKS$", build, re.MULTILINE)


def test_uninstall_leaves_no_hook_behind() -> None:
    """`helm uninstall` never deletes hook resources: the cluster test found the circuit-setup Job (and its pod)
    and the zkpot-setup ConfigMap left in the namespace. Both are deleted once the hooks succeed (a failed Job stays,
    with its log); the artifacts PVC is the one hook kept on purpose (helm.sh/resource-policy: keep)."""
    hooks = [d for d in template_docs() if "helm.sh/hook" in d["metadata"].get("annotations", {})]
    for d in hooks:
        ann = d["metadata"]["annotations"]
        kept = ann.get("helm.sh/resource-policy") == "keep"
        assert kept or "hook-succeeded" in ann.get("helm.sh/hook-delete-policy", ""), d["metadata"]["name"]
    kept = [d["metadata"]["name"] for d in hooks
            if d["metadata"]["annotations"].get("helm.sh/resource-policy") == "keep"]
    assert kept == ["zkpot-artifacts"]
