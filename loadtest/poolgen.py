"""Filling the proof pool: the entries a run needs, generated in worker processes with a progress bar."""

from __future__ import annotations

import time
from concurrent.futures import as_completed
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from zkpot.cli.ui import err
from zkpot.pool import spawn_pool
from zkpot.zk.system import ProofSystem

from loadtest.pool import (
    PoolEntry,
    Recipe,
    check_distinct,
    circuit_key,
    entry_dir,
    generation_lock,
    make_entry,
    read_entry,
)

DEFAULT_RECIPE = Recipe()


def ensure(system: ProofSystem, size: int, *, workers: int = 1, recipe: Recipe = DEFAULT_RECIPE,
           root: Path | None = None) -> list[PoolEntry]:
    """Entries 0..size-1 of the circuit's pool, proving the ones not cached yet (each entry is read once)."""
    key = circuit_key(system.summary())
    entries = _read_missing([None] * size, key, recipe, root)
    if any(e is None for e in entries):
        with generation_lock(root, lambda: err.print("another pool generation is running; waiting for it")):
            # the other generation may have made some while we waited
            entries = _read_missing(entries, key, recipe, root)
            todo = [i for i, e in enumerate(entries) if e is None]
            if todo:
                _generate(system, key, recipe, todo, workers, root)
                entries = _read_missing(entries, key, recipe, root)
    ready = [e for e in entries if e is not None]
    if len(ready) != size:
        raise RuntimeError(f"the pool has {len(ready)} of {size} entries after generation")
    check_distinct(ready)
    return ready


def _read_missing(entries: list[PoolEntry | None], key: str, recipe: Recipe,
                  root: Path | None) -> list[PoolEntry | None]:
    """``entries`` with each missing one read from the cache (still None if it is not there)."""
    return [e if e is not None else read_entry(entry_dir(key, recipe, i, root)) for i, e in enumerate(entries)]


def _generate(system: ProofSystem, key: str, recipe: Recipe, todo: list[int], workers: int,
              root: Path | None) -> None:
    columns = (TextColumn("[bold]proving pool entries[/]"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[last]}"), TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn())
    with Progress(*columns, console=err) as progress, spawn_pool(workers) as pool:
        task = progress.add_task("pool", total=len(todo), last="")
        jobs = [pool.submit(make_entry, (system, recipe, i, entry_dir(key, recipe, i, root))) for i in todo]
        if not err.is_terminal:  # a log (a Kubernetes Job's): the bar draws nothing there, so a line per entry
            err.print(f"proving {len(todo)} pool entries with {workers} worker(s)")
        start = time.monotonic()
        for done, future in enumerate(as_completed(jobs), 1):
            prove_s = future.result()
            progress.update(task, advance=1, last=f"last proof {prove_s:.1f} s")
            if not err.is_terminal:
                err.print(f"pool entry {done}/{len(todo)} proved in {prove_s:.1f} s "
                          f"({time.monotonic() - start:.0f} s elapsed)")
