"""CPU seconds and peak memory of each local service process (with its children: proof and commitment workers,
PostgreSQL backends), sampled with psutil while the load runs.

CPU is the difference between the first and last sample (user + system of the process, its live children, and the
children it has reaped). Peak RSS is the largest sampled RSS of the process tree, and at least the kernel's own
high-water mark of the main process (VmHWM), which no sampling interval can miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses

import psutil


@dataclasses.dataclass
class Usage:
    pid: int
    cpu_start: float | None = None
    cpu_end: float | None = None
    peak_rss: int = 0
    gone: bool = False

    def to_dict(self) -> dict[str, object]:
        cpu = None if self.cpu_start is None or self.cpu_end is None else round(self.cpu_end - self.cpu_start, 2)
        return {"pid": self.pid, "cpu_s": cpu, "peak_rss_mb": round(self.peak_rss / 2**20, 1),
                "exited": self.gone}


def tree_cpu_rss(pid: int) -> tuple[float, int, int]:
    """(cpu seconds, RSS of the tree, VmHWM of the main process) of a process and its descendants."""
    proc = psutil.Process(pid)
    with proc.oneshot():
        t = proc.cpu_times()
        cpu = t.user + t.system + t.children_user + t.children_system
        rss = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            ct = child.cpu_times()
            cpu += ct.user + ct.system
            rss += child.memory_info().rss
    return cpu, rss, _hwm(pid)


def _hwm(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status").read().splitlines():  # noqa: SIM115 - /proc reads whole
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler:
    """Samples every ``interval_s`` until stopped; ``report()`` gives per-service usage over the sampled window."""

    def __init__(self, pids: dict[str, int], interval_s: float = 1.0) -> None:
        self.usage = {name: Usage(pid) for name, pid in pids.items()}
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def sample(self) -> None:
        for u in self.usage.values():
            if u.gone:
                continue
            try:
                cpu, rss, hwm = tree_cpu_rss(u.pid)
            except psutil.Error:
                u.gone = True
                continue
            u.cpu_start = cpu if u.cpu_start is None else u.cpu_start
            u.cpu_end = cpu
            u.peak_rss = max(u.peak_rss, rss, hwm)

    async def _loop(self) -> None:
        while not self._stop.is_set():
            await asyncio.to_thread(self.sample)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval_s)

    def start(self) -> None:
        self.sample()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop sampling after the sample in progress, then take the last one."""
        self._stop.set()
        if self._task is not None:
            await self._task
        self.sample()

    def report(self) -> dict[str, dict[str, object]]:
        return {name: u.to_dict() for name, u in sorted(self.usage.items())}
