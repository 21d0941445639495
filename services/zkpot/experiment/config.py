"""What one experiment run compares: tasks, partitions, the federation's size and the DP settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from zkpot.errors import InputError
from zkpot.ml import tasks

PARTITIONS = ("iid", "dirichlet")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Every knob of one run; ``to_dict`` is recorded in run.json so the doc can name what produced it."""

    tasks: tuple[str, ...] = ("digits", "mnist")
    partitions: tuple[str, ...] = PARTITIONS
    alpha: float = 0.5  # Dirichlet concentration of the non-IID partition
    rounds: int = 15
    clients: int = 10
    epochs: int = 1  # local epochs a member trains each round
    noises: tuple[float, ...] = (0.5, 1.0, 1.5)  # DP-SGD noise multipliers for the FL + DP rows
    pofl_noises: tuple[float, ...] = (1.0, 1.5)  # the PoFL members' DP noise
    max_grad_norm: float = 1.0  # DP-SGD per-sample clipping norm C
    delta: float = 1e-5
    floor_pct: int = 20  # the devnet's accuracy floor: members under samples * 20 // 100 are not aggregated
    byzantine_every: int = 3  # the elected leader lies (N(0,1) weights) in every k-th round
    validators: int = 4  # for the ledger's attestations
    partition_seed: int = 0
    network_rounds: int = 0  # > 0: also run the devnet (zkpot.experiment.network) for that many rounds
    network_clients: int = 4  # the devnet's members (each proof costs seconds to minutes on one prover)
    network_epochs: int = 5  # the devnet members' local epochs

    def __post_init__(self) -> None:
        for name in self.tasks:
            tasks.get(name)
        bad = [p for p in self.partitions if p not in PARTITIONS]
        if bad:
            raise InputError(f"unknown partition {bad[0]!r}: expected {' or '.join(PARTITIONS)}")
        if min(self.rounds, self.clients, self.epochs) < 1:
            raise InputError("rounds, clients and epochs must each be at least 1")
        if any(n < 0 for n in (*self.noises, *self.pofl_noises)) or self.max_grad_norm <= 0:
            raise InputError("noise multipliers must be >= 0 and --max-grad-norm > 0")
        if not 0 < self.delta < 1 or self.alpha <= 0 or self.byzantine_every < 1:
            raise InputError("delta must lie in (0, 1), alpha be > 0 and byzantine_every >= 1")

    def alpha_of(self, partition: str) -> float | None:
        """The ``zkpot.ml.data.partition`` alpha: None for IID."""
        return None if partition == "iid" else self.alpha

    def samples(self, task: str) -> int:
        """The public test samples the network's proofs cover (MNIST: the prototype's first 100 test images;
        digits: the fast circuit's 78), so the in-process rows score the set the devnet proves."""
        return tasks.get(task).default_samples

    def floor(self, task: str) -> int:
        return self.samples(task) * self.floor_pct // 100

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ExperimentConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in fields}
        return cls(**kw)


def tiny() -> ExperimentConfig:
    """The smallest run that exercises every row: digits, IID, 2 members, 2 rounds, 1 epoch (tests)."""
    return ExperimentConfig(tasks=("digits",), partitions=("iid",), rounds=2, clients=2, epochs=1,
                            noises=(0.5, 1.0), pofl_noises=(1.0,), byzantine_every=2)
