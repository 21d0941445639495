"""DP-SGD really adds noise: with the same seed, noise 1.0 moves the weights away from noise 0, more noise moves
them further, and noise 0 alone is deterministic (so the difference is the noise, not run-to-run jitter)."""

from __future__ import annotations

import numpy as np
import pytest
from zkpot.experiment import dp
from zkpot.experiment.config import tiny
from zkpot.experiment.federation import build
from zkpot.ml.model import train


@pytest.fixture(scope="module")
def fed():  # noqa: ANN201
    return build(tiny(), "digits", "iid")


def _train(fed, noise: float, engine=None):  # noqa: ANN001, ANN202
    return dp.dp_train(fed.arch, fed.start, fed.shards[0], epochs=1, noise=noise, max_grad_norm=1.0, seed=7,
                       engine=engine)


def _distance(a, b) -> float:  # noqa: ANN001
    return float(np.sqrt(sum(np.sum((a[k].astype(np.float64) - b[k]) ** 2) for k in a)))


def test_noise_is_applied_and_grows_with_the_multiplier(fed) -> None:  # noqa: ANN001
    quiet = _train(fed, 0.0)
    assert _distance(quiet, _train(fed, 0.0)) == 0.0  # same seed, no noise: the same weights
    deviation = {noise: _distance(quiet, _train(fed, noise)) for noise in (0.5, 1.0, 3.0)}
    assert deviation[0.5] > 0.0
    assert deviation[0.5] < deviation[1.0] < deviation[3.0]


def test_dp_training_differs_from_plain_training(fed) -> None:  # noqa: ANN001
    plain = train(fed.arch, fed.start, fed.shards[0], epochs=1, seed=7)
    assert _distance(plain, _train(fed, 1.0)) > 0.0


def test_epsilon_composes_over_rounds_and_falls_with_noise(fed) -> None:  # noqa: ANN001
    engine = dp.new_engine()
    _train(fed, 1.0, engine)
    one_round = dp.epsilon(engine, 1e-5)
    _train(fed, 1.0, engine)
    assert 0 < one_round < dp.epsilon(engine, 1e-5)
    louder = dp.new_engine()
    _train(fed, 2.0, louder)
    assert dp.epsilon(louder, 1e-5) < one_round
