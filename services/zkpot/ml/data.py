"""The task data: scikit-learn's digits set, a fixed public test set and a training pool split among clients.

Everything here is deterministic from a seed so every party derives the same public test set and can check
it against the content hash recorded in genesis.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zkpot.errors import InputError

DATASET_ID = "sklearn-digits-v1"
N_FEATURES = 64
N_CLASSES = 10
TEST_FRACTION = 0.3
SPLIT_SEED = 20251125
TEST_SIZE = 540  # ceil(1797 * 0.3): the whole public test set


@dataclass(frozen=True)
class Dataset:
    """Features in [0, 1] as float32 (N x 64) and integer labels (N,)."""

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


def _load_digits() -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    return Dataset(X, y)


def split() -> tuple[Dataset, Dataset]:
    """Return (training pool, public test set), a seeded shuffle then a 70/30 cut (540 test samples)."""
    full = _load_digits()
    order = np.random.default_rng(SPLIT_SEED).permutation(len(full))
    n_test = int(np.ceil(len(full) * TEST_FRACTION))
    test_idx, train_idx = order[:n_test], order[n_test:]
    return Dataset(full.X[train_idx], full.y[train_idx]), Dataset(full.X[test_idx], full.y[test_idx])


def public_test_set(samples: int) -> Dataset:
    """The first `samples` of the fixed public test set."""
    return split()[1].head(samples)


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


def client_shard(client: int, clients: int, *, alpha: float | None = None, seed: int = 0) -> Dataset:
    if not 0 <= client < clients:
        raise InputError(f"client index {client} is outside 0..{clients - 1}")
    pool, _ = split()
    return partition(pool, clients, alpha=alpha, seed=seed)[client]


def load_npz(path: Path) -> Dataset:
    """A member's own data: an .npz with X (n x 64, values in [0, 1]) and y (n,) integer labels 0..9."""
    try:
        with np.load(path) as f:
            X, y = np.asarray(f["X"], dtype=np.float32), np.asarray(f["y"])
    except FileNotFoundError as e:
        raise InputError(f"no such data file: {path}") from e
    except (KeyError, ValueError, OSError) as e:
        raise InputError(f"{path} is not an .npz with arrays X and y: {e}") from e
    if X.ndim != 2 or X.shape[1] != N_FEATURES:
        raise InputError(f"{path}: X must have shape (n, {N_FEATURES}), got {X.shape}")
    if y.shape != (X.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise InputError(f"{path}: y must be {X.shape[0]} integer labels, got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= N_CLASSES):
        raise InputError(f"{path}: labels must lie in 0..{N_CLASSES - 1}")
    return Dataset(X, y.astype(np.int64))
