"""The proof pool: distinct client models and their real proofs, generated once and cached by content hash.

A proof depends only on the task's proof system (pipeline, circuit artifacts, SRS, public test set) and on the
model's weights, never on the genesis keys, so one pool serves every fresh devnet proven with that system. A weight
commitment may be used once per chain, so C clients x R rounds consume C*R distinct entries.

Layout: ``cache_root()/loadtest/<circuit key>/<entry key>/{meta.json, weights.npz, proof.json}``; the circuit key
hashes what genesis pins of the proof system (``ProofSystem.summary()``: the pipeline, its spec and artifact
hashes), the entry key hashes the circuit key, the model recipe and the entry's index. Generation trains and proves
in spawned worker processes, one generation at a time on a machine.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.zk.artifacts import cache_root, json_sha256, write_json
from zkpot.zk.system import ProofSystem


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How entry ``i`` is made: local SGD from the task's initial model on shard ``i % shards``, seed ``seed0 + i``.

    Every entry starts from the same initial model, so averaging any of them (FedAvg) stays a sensible model and the
    blocks keep their accuracy above the floor.
    """

    version: int = 1
    init_seed: int = 1  # zkpot.task.INITIAL_MODEL_SEED: the genesis initial model
    shards: int = 10
    epochs: int = 15
    seed0: int = 1000

    def to_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PoolEntry:
    index: int
    commitment: str
    correct: int
    samples: int
    n_train: int
    weights: bytes  # .npz bytes (zkpot.ml.model.weights_to_bytes)
    proof: bytes  # the ezkl proof file, byte for byte as proven
    prove_s: float


def circuit_key(summary: Mapping[str, Any]) -> str:
    """Names the pool of one proof system from what genesis pins of it (``ProofSystem.summary()``)."""
    if "pipeline" not in summary or "spec" not in summary:
        raise InputError("a proof-system summary names its pipeline and spec")
    return json_sha256(dict(summary))[:24]


def entry_key(circuit: str, recipe: Recipe, index: int) -> str:
    if index < 0:
        raise InputError(f"pool index must be non-negative, not {index}")
    return json_sha256({"circuit": circuit, "recipe": recipe.to_dict(), "index": index})[:24]


def pool_dir(circuit: str, root: Path | None = None) -> Path:
    return (root or cache_root()) / "loadtest" / circuit


def entry_dir(circuit: str, recipe: Recipe, index: int, root: Path | None = None) -> Path:
    return pool_dir(circuit, root) / entry_key(circuit, recipe, index)


def read_entry(path: Path) -> PoolEntry | None:
    """The entry stored at ``path``; None when absent or incomplete (it is then made again)."""
    try:
        meta = json.loads((path / "meta.json").read_text())
        return PoolEntry(int(meta["index"]), str(meta["commitment"]), int(meta["correct"]), int(meta["samples"]),
                         int(meta["n_train"]), (path / "weights.npz").read_bytes(), (path / "proof.json").read_bytes(),
                         float(meta.get("prove_s", 0.0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_entry(path: Path, entry: PoolEntry, extra: Mapping[str, Any]) -> None:
    """Write atomically: a half-written entry never looks complete."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "weights.npz").write_bytes(entry.weights)
    (tmp / "proof.json").write_bytes(entry.proof)
    meta = {"index": entry.index, "commitment": entry.commitment, "correct": entry.correct,
            "samples": entry.samples, "n_train": entry.n_train, "prove_s": entry.prove_s, **extra}
    write_json(tmp / "meta.json", meta)
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


def check_distinct(entries: list[PoolEntry]) -> None:
    """Refuse a pool in which two entries share a weight commitment (validators would reject the second)."""
    seen: dict[str, int] = {}
    for e in entries:
        if e.commitment in seen:
            raise InputError(f"pool entries {seen[e.commitment]} and {e.index} share a weight commitment")
        seen[e.commitment] = e.index


@contextmanager
def generation_lock(root: Path | None = None, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
    """One pool generation at a time on this machine (proofs are CPU- and memory-heavy)."""
    path = (root or cache_root()) / "loadtest" / "generate.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                on_wait()
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def make_entry(job: tuple[ProofSystem, Recipe, int, Path]) -> float:
    """Train and prove entry ``index`` and store it (runs in a worker process); returns its prove time."""
    from zkpot.ml import data as zdata
    from zkpot.ml.model import init_weights, weights_to_bytes
    from zkpot.roles.client import local_update

    system, recipe, index, path = job
    arch = system.arch
    shard = zdata.client_shard(index % recipe.shards, recipe.shards, task=system.task)
    weights = local_update(arch, init_weights(arch, recipe.init_seed), shard, epochs=recipe.epochs,
                           seed=recipe.seed0 + index)
    t = time.perf_counter()
    result = system.prove(weights)
    prove_s = round(time.perf_counter() - t, 3)
    entry = PoolEntry(index, result.commitment, result.correct, result.samples, len(shard),
                      weights_to_bytes(weights), result.proof, prove_s)
    write_entry(path, entry, {"recipe": recipe.to_dict(), "timings": result.timings})
    return prove_s
