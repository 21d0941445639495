"""Federated averaging of verified local models (pure numpy, no IO)."""

import math
from collections.abc import Mapping, Sequence

import numpy as np

from zkpot.domain.errors import AggregationError
from zkpot.domain.messages import Transaction

FEDAVG = "fedavg"
FEDAVG_ACC = "fedavg_acc"
AGGREGATION_RULES = (FEDAVG, FEDAVG_ACC)


def aggregation_weights(txs: Sequence[Transaction], rule: str) -> list[float]:
    """Per-tx weights: ``fedavg`` -> n_train; ``fedavg_acc`` -> n_train * correct / samples."""
    if any(tx.n_train < 1 for tx in txs):
        raise AggregationError("every transaction needs n_train >= 1 (validation refuses others)")
    if rule == FEDAVG:
        return [float(tx.n_train) for tx in txs]
    if rule == FEDAVG_ACC:
        if any(tx.samples <= 0 for tx in txs):
            raise AggregationError("fedavg_acc needs samples > 0 in every transaction")
        return [tx.n_train * tx.correct / tx.samples for tx in txs]
    raise AggregationError(f"unknown aggregation rule {rule!r}; expected one of {AGGREGATION_RULES}")


def _check_weights(weights: Sequence[float], n_models: int) -> float:
    if len(weights) != n_models:
        raise AggregationError(f"{n_models} models but {len(weights)} weights")
    if any(not math.isfinite(w) or w < 0 for w in weights):
        raise AggregationError("weights must be finite and non-negative")
    total = math.fsum(weights)
    if total <= 0:
        raise AggregationError("total weight must be positive")
    return total


def _check_models(models: Sequence[Mapping[str, np.ndarray]]) -> None:
    if not models:
        raise AggregationError("no models to aggregate")
    keys = set(models[0])
    for i, model in enumerate(models[1:], start=1):
        if set(model) != keys:
            raise AggregationError(f"model {i} has tensors {sorted(model)}, expected {sorted(keys)}")
        for name in keys:
            if np.shape(model[name]) != np.shape(models[0][name]):
                raise AggregationError(f"model {i} tensor {name!r} has shape {np.shape(model[name])}")


def fedavg(models: Sequence[Mapping[str, np.ndarray]], weights: Sequence[float]) -> dict[str, np.ndarray]:
    """Weighted mean of each named tensor: sum(w_i * x_i) / sum(w_i), accumulated in float64.

    Floating inputs keep their dtype (float32 stays float32); integer inputs give float64.
    """
    _check_models(models)
    total = _check_weights(weights, len(models))
    result: dict[str, np.ndarray] = {}
    for name in models[0]:
        arrays = [np.asarray(model[name]) for model in models]
        acc = np.zeros(arrays[0].shape, dtype=np.float64)
        for weight, array in zip(weights, arrays, strict=True):
            acc += weight * array.astype(np.float64)
        result[name] = (acc / total).astype(np.result_type(*arrays, np.float32))
    return result
