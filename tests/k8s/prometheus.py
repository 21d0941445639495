"""A real Prometheus (Debian package) on a free loopback port, configured by tools/k8s/promconfig.py."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tools.k8s.promconfig import write_yaml


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def api(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}{query}", timeout=5) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def wait_for(self, query: str, within_s: float = 60) -> list[dict[str, Any]]:
        """Poll an instant query until it returns a sample (scrapes are asynchronous); [] after ``within_s``."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            result = self.api("query", query=query)["result"]
            if result:
                return list(result)
            time.sleep(0.5)
        return []


@contextmanager
def running(config: dict[str, Any], workdir: Path) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise AssertionError("prometheus is missing: `make k8s-tools` installs the Debian package prometheus")
    port = free_port()
    config_file = write_yaml(workdir / "prometheus.yml", config)
    log = (workdir / "prometheus.log").open("w")
    proc = subprocess.Popen([binary, f"--config.file={config_file}", f"--storage.tsdb.path={workdir / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        prom = Prometheus(f"http://127.0.0.1:{port}")
        if not _ready(prom, proc):
            raise AssertionError(f"prometheus did not start: {(workdir / 'prometheus.log').read_text()[-2000:]}")
        yield prom
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _ready(prom: Prometheus, proc: subprocess.Popen[bytes], within_s: float = 30) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{prom.url}/-/ready", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False
