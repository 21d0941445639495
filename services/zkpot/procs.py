"""Child processes the project starts itself (nats-server, js-ipfs, the devnet's services): stopping them politely."""

from __future__ import annotations

import signal
import subprocess


def terminate(proc: subprocess.Popen[bytes] | None, timeout_s: float) -> int | None:
    """SIGTERM, then SIGKILL if ``proc`` has not exited within ``timeout_s``; its exit code (None: no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
