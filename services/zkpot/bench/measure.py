"""Running a function in a fresh process and measuring it there: wall time, CPU time and peak RSS, including any
worker processes it started (they are its children, so RUSAGE_CHILDREN covers them once they have exited)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zkpot.pool import spawn_pool


@dataclass(frozen=True)
class Measured:
    value: Any
    wall_s: float
    cpu_s: float
    peak_rss_mb: float  # the child's own peak, or its largest worker's if that was larger
    workers_rss_mb: float  # peak of the largest worker process it waited for (0 without workers)


def run_measured(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Measured:
    """``fn(*args, **kwargs)`` in a spawned child process (never forked from one holding threads)."""
    with spawn_pool(1) as pool:
        result: Measured = pool.submit(_measured, fn, *args, **kwargs).result()
    return result


def _measured(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Measured:
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args, **kwargs)
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return Measured(
        value=value,
        wall_s=round(wall, 3),
        cpu_s=round(time.process_time() - cpu + kids.ru_utime + kids.ru_stime, 2),
        peak_rss_mb=round(max(own.ru_maxrss, kids.ru_maxrss) / 1024.0, 1),
        workers_rss_mb=round(kids.ru_maxrss / 1024.0, 1),
    )
