"""Centralized training: the whole training pool in one place, the same total epochs as a member's.

A member trains ``epochs`` local epochs in each of ``rounds`` rounds, so each training image is seen
``rounds * epochs`` times; here the pool is trained ``epochs`` epochs per "round" (the same SGD and seeds'
scheme, momentum restarting each round as a member's does) and scored after each, giving a curve on the same axis.
"""

from __future__ import annotations

from typing import Any

from zkpot.experiment.federation import Curve, Federation
from zkpot.ml.model import train


def centralized(fed: Federation, rounds: int) -> dict[str, Any]:
    model, curve = fed.start, Curve()
    for round_ in range(1, rounds + 1):
        model = train(fed.arch, model, fed.pool, epochs=fed.epochs, seed=round_)
        curve.add(fed, model)
    return curve.to_dict()
