"""One federation, as every row of a comparison sees it: the same members' shards, test sets and start model."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from zkpot.experiment.config import ExperimentConfig
from zkpot.ml import data as zdata
from zkpot.ml.data import Dataset
from zkpot.ml.model import Arch, Weights, count_correct, init_weights
from zkpot.task import INITIAL_MODEL_SEED
from zkpot.zk.fast.quantized import quantized_count
from zkpot.zk.fast.spec import FastCircuitSpec


@dataclasses.dataclass(frozen=True)
class Federation:
    """``public`` is the test set the proofs (and the chain's global accuracy) cover; ``full`` the whole split."""

    task: str
    arch: Arch
    pool: Dataset
    shards: tuple[Dataset, ...]
    public: Dataset
    full: Dataset
    start: Weights
    epochs: int

    @property
    def sizes(self) -> list[float]:
        """FedAvg weights: each member's training-set size (the network's ``n_train``)."""
        return [float(len(s)) for s in self.shards]

    def member_seed(self, round_: int, member: int) -> int:
        """The seed the network gives member ``member`` in round ``round_``."""
        return round_ * 1000 + member

    def correct(self, weights: Mapping[str, np.ndarray]) -> int:
        """Float-model count on the public samples (what the chain states of a global model)."""
        return count_correct(self.arch, weights, self.public)

    def proven(self, weights: Mapping[str, np.ndarray]) -> int:
        """What a member's proof states: the quantized model's count on the public samples, computed exactly as
        the fast circuit computes it (``zk.fast.quantized``), without the proof."""
        spec = FastCircuitSpec(arch=self.arch, samples=len(self.public), chunks=1, task=self.task)
        return quantized_count(spec, weights, self.public)

    def score(self, weights: Mapping[str, np.ndarray]) -> tuple[float, float]:
        """(accuracy on the public samples, accuracy on the full test split), rounded to 4 digits."""
        public = self.correct(weights) / len(self.public)
        full = count_correct(self.arch, weights, self.full) / len(self.full)
        return round(public, 4), round(full, 4)


def build(config: ExperimentConfig, task: str, partition: str) -> Federation:
    """The federation of ``task`` split among ``config.clients`` members by ``partition`` (iid or dirichlet)."""
    pool, full = zdata.split(task)
    shards = zdata.partition(pool, config.clients, alpha=config.alpha_of(partition), seed=config.partition_seed)
    arch = Arch.default(task)
    return Federation(task, arch, pool, tuple(shards), full.head(config.samples(task)), full,
                      init_weights(arch, INITIAL_MODEL_SEED), config.epochs)


def noise_model(arch: Arch, round_: int) -> Weights:
    """The Byzantine leader's model: every weight drawn from N(0, 1)."""
    rng = np.random.default_rng(round_)
    return {n: rng.standard_normal(s).astype(np.float32) for n, s in arch.shapes().items()}


class Curve:
    """Global accuracy after each round, on the public samples and on the full test split."""

    def __init__(self) -> None:
        self.public: list[float] = []
        self.full: list[float] = []

    def add(self, fed: Federation, weights: Mapping[str, np.ndarray]) -> None:
        public, full = fed.score(weights)
        self.public.append(public)
        self.full.append(full)

    def to_dict(self) -> dict[str, list[float]]:
        return {"accuracy": self.public, "full": self.full}
