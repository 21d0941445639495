"""A task's data (``zkpot.ml.tasks``): a fixed public test set and a training pool split among clients.

Everything here is deterministic from the task's seed so every party derives the same public test set and can
check it against the content hash recorded in genesis. Functions take the task by name; ``digits`` is the default
everywhere a caller has no genesis (the first task, and what older genesis files mean).
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkpot.errors import InputError
from zkpot.ml import tasks

# The digits task's constants, for the code that predates tasks (tests, the plain pipeline's frozen specs).
DATASET_ID = tasks.TASKS["digits"].dataset_id
N_FEATURES = tasks.TASKS["digits"].n_features
N_CLASSES = 10  # every task has ten classes
TEST_SIZE = 540  # ceil(1797 * 0.3): the digits' whole public test set


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] as float32 (N x the task's features) and integer labels (N,)."""

    X: np.ndarray
    y: np.ndarray

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def head(self, n: int) -> Dataset:
        if n < 1 or n > len(self):
            raise InputError(f"asked for {n} samples but the set has {len(self)}")
        return Dataset(self.X[:n], self.y[:n])

    def content_hash(self) -> str:
        """sha256 over shapes, float32 features and int64 labels: the test set's identity in genesis."""
        h = hashlib.sha256()
        h.update(f"{self.X.shape[0]}x{self.X.shape[1]}|".encode())
        h.update(np.ascontiguousarray(self.X, dtype="<f4").tobytes())
        h.update(np.ascontiguousarray(self.y, dtype="<i8").tobytes())
        return h.hexdigest()


def split(task: str = tasks.DEFAULT_TASK) -> tuple[Dataset, Dataset]:
    """Return (training pool, public test set) of ``task``: a seeded shuffle, then the task's test fraction cut off
    the front (digits: 540 of 1,797; MNIST: 1,000 of 5,000). Fresh arrays each call: callers may change them."""
    X, y = tasks.get(task).load()
    test_idx, train_idx = _split_order(task)
    return Dataset(X[train_idx], y[train_idx]), Dataset(X[test_idx], y[test_idx])


@functools.cache
def _split_order(task: str) -> tuple[np.ndarray, np.ndarray]:
    t = tasks.get(task)
    order = np.random.default_rng(t.split_seed).permutation(t.size)
    return order[: t.test_size], order[t.test_size :]


def public_test_set(samples: int, task: str = tasks.DEFAULT_TASK) -> Dataset:
    """The first `samples` of ``task``'s fixed public test set."""
    return split(task)[1].head(samples)


def partition(
    pool: Dataset, clients: int, *, alpha: float | None = None, seed: int = 0
) -> list[Dataset]:
    """Split the training pool among `clients`: IID when alpha is None, else Dirichlet(alpha) per class."""
    if clients < 1:
        raise InputError("the number of clients must be at least 1")
    if clients > len(pool):
        raise InputError(f"{clients} clients but only {len(pool)} training samples")
    rng = np.random.default_rng(seed)
    if alpha is None:
        shards = np.array_split(rng.permutation(len(pool)), clients)
    else:
        if alpha <= 0:
            raise InputError("the Dirichlet alpha must be positive")
        shards = _dirichlet_shards(pool.y, clients, alpha, rng)
    return [Dataset(pool.X[idx], pool.y[idx]) for idx in shards]


def _dirichlet_shards(y: np.ndarray, clients: int, alpha: float, rng: np.random.Generator) -> list[np.ndarray]:
    buckets: list[list[int]] = [[] for _ in range(clients)]
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        shares = rng.dirichlet(np.full(clients, alpha))
        cuts = (np.cumsum(shares)[:-1] * len(idx)).astype(int)
        for bucket, part in zip(buckets, np.split(idx, cuts), strict=True):
            bucket.extend(part.tolist())
    # every client keeps at least one sample so it can train at all
    for bucket in buckets:
        if not bucket:
            donor = max(buckets, key=len)
            bucket.append(donor.pop())
    return [np.array(sorted(b), dtype=np.int64) for b in buckets]


def client_shard(client: int, clients: int, *, alpha: float | None = None, seed: int = 0,
                 task: str = tasks.DEFAULT_TASK) -> Dataset:
    if not 0 <= client < clients:
        raise InputError(f"client index {client} is outside 0..{clients - 1}")
    pool, _ = split(task)
    return partition(pool, clients, alpha=alpha, seed=seed)[client]


def load_npz(path: Path, task: str = tasks.DEFAULT_TASK) -> Dataset:
    """A member's own data: an .npz with X (n x the task's features, values in [0, 1]) and y (n,) labels 0..9."""
    n_features = tasks.get(task).n_features
    try:
        with np.load(path) as f:
            X, y = np.asarray(f["X"], dtype=np.float32), np.asarray(f["y"])
    except FileNotFoundError as e:
        raise InputError(f"no such data file: {path}") from e
    except (KeyError, ValueError, OSError) as e:
        raise InputError(f"{path} is not an .npz with arrays X and y: {e}") from e
    if X.ndim != 2 or X.shape[1] != n_features:
        raise InputError(f"{path}: X must have shape (n, {n_features}) for the {task} task, got {X.shape}")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{path}: y must be {X.shape[0]} integer labels, got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise InputError(f"{path}: labels must lie in 0..{N_CLASSES - 1}")
    return Dataset(X, y.astype(np.int64))
