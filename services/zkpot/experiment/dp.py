"""DP-SGD members (Opacus) and the two baselines built on them: FL + DP-SGD and PoFL.

Each member keeps one ``PrivacyEngine(accountant="rdp")`` for the whole run and calls ``make_private`` on it each
round with a fresh model and optimizer: the steps of every round land in the same accountant, so
``get_epsilon(delta)`` is the member's epsilon composed over all the rounds it trained. Training uses the plain
member's hyper-parameters (SGD, lr 0.05, momentum 0.9, expected batch 32 by Poisson sampling, Opacus' default),
each per-sample gradient clipped to ``max_grad_norm`` and Gaussian noise of ``noise_multiplier * max_grad_norm``
added to each summed batch gradient.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from zkpot.domain.aggregation import fedavg
from zkpot.experiment.federation import Curve, Federation
from zkpot.ml.data import Dataset
from zkpot.ml.model import Arch, Weights, from_torch, to_torch

LR = 0.05
MOMENTUM = 0.9
BATCH = 32


def new_engine() -> Any:
    """A member's privacy engine (RDP accountant), kept across its rounds."""
    from opacus import PrivacyEngine

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "secure RNG turned off": fine for an experiment, said in the doc
        return PrivacyEngine(accountant="rdp")


def dp_train(arch: Arch, start: Weights, data: Dataset, *, epochs: int, noise: float, max_grad_norm: float,
             seed: int, engine: Any | None = None) -> Weights:
    """``epochs`` of DP-SGD from ``start`` on ``data``; the steps are accounted in ``engine`` (a fresh one if None)."""
    import torch

    torch.manual_seed(seed)
    net = to_torch(arch, start)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(np.ascontiguousarray(data.X, dtype=np.float32)),
                                             torch.from_numpy(data.y.astype(np.int64)))
    loader = torch.utils.data.DataLoader(dataset, batch_size=min(BATCH, len(data)),
                                         generator=torch.Generator().manual_seed(seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # secure-RNG and full-backward-hook notices, once per call
        model, optimizer, loader = (engine or new_engine()).make_private(
            module=net, optimizer=optimizer, data_loader=loader, noise_multiplier=noise,
            max_grad_norm=max_grad_norm)
        _epochs(model, optimizer, loader, epochs)
    return from_torch(arch, model._module)


def _epochs(model: Any, optimizer: Any, loader: Any, epochs: int) -> None:
    import torch

    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        for X, y in loader:
            if len(y) == 0:  # Poisson sampling can draw an empty batch
                continue
            optimizer.zero_grad()
            loss_fn(model(X), y).backward()
            optimizer.step()


def epsilon(engine: Any, delta: float) -> float:
    """The member's epsilon at ``delta`` over every step it took (inf without noise)."""
    try:
        eps = float(engine.get_epsilon(delta))
    except (ValueError, ZeroDivisionError):
        return math.inf
    return eps if math.isfinite(eps) else math.inf


class DPMembers:
    """The federation's members, each training with DP-SGD at one noise multiplier and its own accountant."""

    def __init__(self, fed: Federation, noise: float, max_grad_norm: float) -> None:
        self.fed, self.noise, self.max_grad_norm = fed, noise, max_grad_norm
        self.engines = [new_engine() for _ in fed.shards]

    def round(self, model: Weights, round_: int) -> list[Weights]:
        return [dp_train(self.fed.arch, model, shard, epochs=self.fed.epochs, noise=self.noise,
                         max_grad_norm=self.max_grad_norm, seed=self.fed.member_seed(round_, i), engine=engine)
                for i, (shard, engine) in enumerate(zip(self.fed.shards, self.engines, strict=True))]

    def epsilons(self, delta: float) -> list[float]:
        return [epsilon(e, delta) for e in self.engines]


def fl_dp(fed: Federation, rounds: int, noise: float, max_grad_norm: float, delta: float) -> dict[str, Any]:
    """FL + DP-SGD: every member's DP model, FedAvg by n_train (no proofs, no floor)."""
    members, model, curve = DPMembers(fed, noise, max_grad_norm), fed.start, Curve()
    for round_ in range(1, rounds + 1):
        model = fedavg(members.round(model, round_), fed.sizes)
        curve.add(fed, model)
    return {**curve.to_dict(), **_privacy(members, delta)}


def pofl(fed: Federation, rounds: int, noise: float, max_grad_norm: float, delta: float) -> dict[str, Any]:
    """PoFL-style: validators evaluate every member's (DP) model in the clear on the public samples; the best one
    leads and its model, carried in the block, is the next global model."""
    members, model, curve, leaders = DPMembers(fed, noise, max_grad_norm), fed.start, Curve(), []
    for round_ in range(1, rounds + 1):
        model, best = pofl_step(fed, members, model, round_)
        leaders.append(best)
        curve.add(fed, model)
    return {**curve.to_dict(), "leaders": leaders, **_privacy(members, delta)}


def pofl_step(fed: Federation, members: DPMembers, model: Weights, round_: int) -> tuple[Weights, int]:
    """One PoFL round: (the winner's model, the winner) — the highest count, ties to the lowest member index."""
    local = members.round(model, round_)
    counts = [fed.correct(w) for w in local]
    best = max(range(len(local)), key=lambda i: (counts[i], -i))
    return local[best], best


def _privacy(members: DPMembers, delta: float) -> dict[str, Any]:
    eps = members.epsilons(delta)
    return {"epsilon_max": _finite(max(eps)), "epsilon_min": _finite(min(eps)), "delta": delta,
            "noise": members.noise, "max_grad_norm": members.max_grad_norm}


def _finite(x: float) -> float | None:
    """JSON has no infinity: None stands for an unbounded epsilon."""
    return round(x, 3) if math.isfinite(x) else None
