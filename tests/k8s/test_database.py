"""The chart's database wiring: one role per service (zkpot.db.roles), each pod given only its own URL, the
superuser's credentials only where PostgreSQL and the db-roles Job need them, an external database by its
operator's Secret of URLs."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from zkpot.cli.main import parser
from zkpot.config import SERVICES
from zkpot.db.roles import ACCOUNTS, role_name

from .chart import component, pod_spec, rendered, template, template_docs, workloads

pytestmark = pytest.mark.integration
SUPERUSER_KEYS = {"password", "admin.url"}


def _secret(docs: list[dict[str, Any]] | tuple[dict[str, Any], ...], name: str = "zkpot-database") -> dict[str, str]:
    [secret] = [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == name]
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _secret_keys_used(doc: dict[str, Any]) -> set[str]:
    """Every key of the database Secret a workload's pods can read (env and volumes)."""
    spec = pod_spec(doc)
    keys = {e["valueFrom"]["secretKeyRef"]["key"] for c in spec["containers"] for e in c.get("env", [])
            if e.get("valueFrom", {}).get("secretKeyRef", {}).get("name", "").endswith("database")}
    for volume in spec.get("volumes", []):
        secret = volume.get("secret", {})
        if secret.get("secretName", "").endswith("database"):
            assert "items" in secret, f"{component(doc)} mounts the whole database Secret"
            keys |= {item["key"] for item in secret["items"]}
    return keys


def _database_url_ref(doc: dict[str, Any]) -> dict[str, str]:
    [container] = pod_spec(doc)["containers"]
    [env] = [e for e in container["env"] if e["name"] == "ZKPOT_DATABASE_URL"]
    return dict(env["valueFrom"]["secretKeyRef"])


@pytest.mark.parametrize("name", ["default", "loadtest"])
def test_each_pod_reads_only_its_own_credentials(name: str) -> None:
    expected = {**{service: {f"{service}.url"} for service in SERVICES}, "loadtest": {"reader.url"},
                "postgresql": {"password"},
                "db-roles": {"admin.url", *(f"{account}.password" for account in ACCOUNTS)}}
    used = {component(d): _secret_keys_used(d) for d in workloads(rendered(name)[1]) if _secret_keys_used(d)}
    assert used == {c: keys for c, keys in expected.items() if c != "loadtest" or name == "loadtest"}


def test_every_account_url_names_its_role_on_the_release_database() -> None:
    secret = _secret(rendered("default")[1])
    assert set(secret) == SUPERUSER_KEYS | {f"{a}.{k}" for a in ACCOUNTS for k in ("password", "url")}
    for account in ACCOUNTS:
        url = make_url(secret[f"{account}.url"])
        assert (url.username, url.password) == (role_name(account), secret[f"{account}.password"])
        assert (url.drivername, url.host, url.port, url.database) == ("postgresql+psycopg", "zkpot-postgresql", 5432,
                                                                      "zkpot")
    admin = make_url(secret["admin.url"])
    assert (admin.username, admin.password) == ("zkpot", secret["password"])
    assert len({secret[f"{a}.password"] for a in ACCOUNTS} | {secret["password"]}) == len(ACCOUNTS) + 1


def test_given_passwords_and_prefix_are_used_and_bad_ones_refused() -> None:
    given = "a-given-trainer-password_1"
    docs = template_docs(["--set", f"postgresql.roles.passwords.trainer={given}", "--set",
                          "postgresql.roles.prefix=net2"])
    secret = _secret(docs)
    assert make_url(secret["trainer.url"]).username == role_name("trainer", "net2")
    assert secret["trainer.password"] == given and make_url(secret["trainer.url"]).password == given
    [job] = [d for d in workloads(docs) if component(d) == "db-roles"]
    assert parser().parse_args(pod_spec(job)["containers"][0]["args"]).prefix == "net2"
    for bad in ("postgresql.roles.passwords.trainer=short", "postgresql.roles.passwords.nobody=a-long-password-1234",
                "postgresql.roles.prefix=Net-2"):
        assert template(["--set", bad], check=False).returncode != 0, bad


def test_the_roles_job_runs_the_provision_command_on_the_mounted_secret() -> None:
    [job] = [d for d in workloads(rendered("default")[1]) if component(d) == "db-roles"]
    assert job["metadata"]["name"] == "zkpot-db-roles-r1" and "helm.sh/hook" not in job["metadata"]["annotations"]
    [container] = pod_spec(job)["containers"]
    args = parser().parse_args(container["args"])
    assert (args.db_cmd, args.prefix, args.connection_limit) == ("provision", "zkpot", 64)
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "database"]
    [volume] = [v for v in pod_spec(job)["volumes"] if v["name"] == "database"]
    paths = {i["path"]: i["key"] for i in volume["secret"]["items"]}
    assert str(args.admin_url_file) == f"{mount['mountPath']}/admin.url" and paths["admin.url"] == "admin.url"
    assert str(args.passwords) == f"{mount['mountPath']}/passwords"
    assert {p for p in paths if p.startswith("passwords/")} == {f"passwords/{a}" for a in ACCOUNTS}


def test_only_the_services_and_the_roles_job_reach_postgresql() -> None:
    policies = [d for d in rendered("default")[1] if d["kind"] == "NetworkPolicy"
                and d["spec"]["podSelector"].get("matchLabels", {}).get("app.kubernetes.io/component") == "postgresql"]
    sources = [src for p in policies for rule in p["spec"].get("ingress", []) for src in rule["from"]
               if {"port": 5432, "protocol": "TCP"} in rule["ports"]]
    labels = [s["podSelector"]["matchLabels"] for s in sources]
    assert {"app.kubernetes.io/instance": "zkpot", "zkpot.io/tier": "service"} in labels
    assert any(label.get("app.kubernetes.io/component") == "db-roles" for label in labels)
    assert len(labels) == 2


def test_an_external_database_comes_with_its_operators_secret_of_urls() -> None:
    result = template(["--set", "postgresql.enabled=false"], check=False)
    assert result.returncode != 0 and "zkpot db provision --out DIR" in result.stderr
    docs = template_docs(["--set", "postgresql.enabled=false", "--set", "postgresql.external.existingSecret=ext-db"])
    assert not [d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "zkpot-database"]
    assert not [d for d in workloads(docs) if component(d) in ("db-roles", "postgresql")]
    services = [d for d in workloads(docs) if component(d) in SERVICES]
    assert {component(d): _database_url_ref(d) for d in services} == {
        s: {"name": "ext-db", "key": f"{s}.url"} for s in SERVICES}
