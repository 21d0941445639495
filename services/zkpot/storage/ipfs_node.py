"""Run a real IPFS node (js-ipfs 0.66, serving the Kubo RPC API) on loopback, for tests and local experiments.

No Kubo binary is available to the project, so the node is js-ipfs with its own Node.js 22 runtime, both
installed from npm by ``tools/ipfs/install.sh`` into ``<repo>/.cache/ipfs-node``. The node has no swarm addresses,
no bootstrap peers, no discovery and no preload: it never talks to another node.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from zkpot.bus.server import free_port
from zkpot.procs import terminate
from zkpot.storage.errors import IpfsNodeError

HOST = "127.0.0.1"
# Merged into js-ipfs's defaults at ``init``: nothing that would reach the network.
OFFLINE_CONFIG = {
    "Addresses": {"Swarm": [], "Delegates": []},
    "Bootstrap": [],
    "Discovery": {"MDNS": {"Enabled": False}, "webRTCStar": {"Enabled": False}},
}


class IpfsNode:
    """One js-ipfs daemon with its repo in ``root/repo`` and its output in ``root/ipfs.log``.

    ``install_dir`` is what ``tools/ipfs/install.sh`` prints. Ports are picked at ``start`` and written into the
    repo's config, so a repo can be reused by a later node.
    """

    def __init__(self, install_dir: Path, root: Path) -> None:
        self.install_dir = Path(install_dir)
        self.root = Path(root)
        self.api_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def api_url(self) -> str:
        """Base URL of the RPC API (``/api/v0/...`` follows it)."""
        return f"http://{HOST}:{self.api_port}"

    @property
    def repo(self) -> Path:
        return self.root / "repo"

    @property
    def log_file(self) -> Path:
        return self.root / "ipfs.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 90.0) -> IpfsNode:
        """Initialise the repo if needed, start the daemon, return once ``/api/v0/id`` answers."""
        if self.running:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        if not (self.repo / "config").is_file():
            self._init(timeout_s)
        self._assign_ports()
        with self.log_file.open("ab") as log:
            self._proc = subprocess.Popen(self._command("daemon", "--enable-preload=false"), env=self._env(),
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready(self._proc, timeout_s)
        return self

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (js-ipfs closes its repo and releases the lock), then SIGKILL if it has not exited in time."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout_s)

    def _init(self, timeout_s: float) -> None:
        defaults = self.root / "init-config.json"
        defaults.write_text(json.dumps(OFFLINE_CONFIG))
        cmd = self._command("init", "--emptyRepo", "--defaultConfig", str(defaults))
        try:
            done = subprocess.run(cmd, env=self._env(), capture_output=True, timeout=timeout_s, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise IpfsNodeError(f"ipfs init failed to run: {exc}") from exc
        if done.returncode != 0:
            raise IpfsNodeError(f"ipfs init exited with {done.returncode}: {done.stderr.decode(errors='replace')}")

    def _assign_ports(self) -> None:
        config_path = self.repo / "config"
        config = json.loads(config_path.read_text())
        self.api_port = free_port(HOST)
        config["Addresses"].update({
            "Swarm": [],
            "API": f"/ip4/{HOST}/tcp/{self.api_port}",
            "Gateway": f"/ip4/{HOST}/tcp/{free_port(HOST)}",
            "RPC": f"/ip4/{HOST}/tcp/{free_port(HOST)}",
        })
        config_path.write_text(json.dumps(config, indent=2))

    def _command(self, *args: str) -> list[str]:
        node = self.install_dir / "node_modules" / ".bin" / "node"
        cli = self.install_dir / "node_modules" / "ipfs" / "src" / "cli.js"
        if not (node.is_file() and cli.is_file()):
            raise IpfsNodeError(f"js-ipfs is not installed in {self.install_dir}: run tools/ipfs/install.sh")
        return [str(node), str(cli), *args]

    def _env(self) -> dict[str, str]:
        return {**os.environ, "IPFS_PATH": str(self.repo)}

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        request = urllib.request.Request(f"{self.api_url}/api/v0/id", method="POST")
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise IpfsNodeError(f"js-ipfs daemon exited with {proc.returncode}: {self._log_tail()}")
            with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=2) as resp:
                if resp.status == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise IpfsNodeError(f"js-ipfs daemon not ready within {timeout_s}s: {self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> IpfsNode:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
