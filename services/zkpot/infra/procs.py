"""Child processes the project starts itself (nats-server, js-ipfs, the devnet's services): stopping them politely."""

from __future__ import annotations

import signal
import subprocess


def terminate(proc: subprocess.Popen[bytes] | None, timeout_s: float, *, signalled: bool = False) -> int | None:
    """SIGTERM (unless ``signalled`` already), then SIGKILL if ``proc`` has not exited within ``timeout_s``; its
    exit code (None: no process). One SIGTERM only: a second one could hit a process whose handler is already
    gone at the end of its clean shutdown and kill it."""
    if proc is None:
        return None
    if proc.poll() is None:
        if not signalled:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode
