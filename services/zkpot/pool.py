"""The one pool of spawned worker processes, for everything CPU-heavy: proving, recomputing commitments,
verifying, measuring. It keeps that work (and ezkl's memory) off the caller's event loop, and lets the caller
measure a worker's own peak memory."""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def spawn_pool(workers: int = 1, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A pool of spawned worker processes (never forked from a process that holds threads or an event loop).

    Each worker exits when the process that started it is gone, even if that one was SIGKILLed: an orphaned prover
    would otherwise keep gigabytes of proving key in memory. ``initializer(*initargs)`` (module level, picklable)
    then runs in each worker, as ProcessPoolExecutor's own would.
    """
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(os.getpid(), initializer, initargs))


def _init_worker(parent: int, initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def die_with_parent(parent: int, every_s: float = 1.0) -> None:
    """Pool initializer: a daemon thread that ends this worker once ``parent`` is no longer its parent."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_s)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()
