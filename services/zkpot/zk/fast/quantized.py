"""The count the fast circuit proves, computed in exact integers: the quantized model's count.

The graph (``zkpot.zk.fast.graph``) never rescales, so its arithmetic is exact integer arithmetic at growing
fixed-point scales: features at 2**input_scale (exact: they lie on the 1/16 grid), every weight at 2**param_scale,
layer i's (doubled) bias at 2**(input_scale + (i + 1) * param_scale), ReLU as h + |h|, then the pairwise-order
count. Quantizing is round-half-away-from-zero (Rust's ``f64::round``, what ezkl uses), as in
``zkpot.domain.verifiable.encode``. A proof's count must equal this for every model: the evaluation checks it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from zkpot.errors import InputError
from zkpot.ml.data import Dataset
from zkpot.zk.fast.graph import count_from_logits, doubled_biases
from zkpot.zk.fast.spec import FastCircuitSpec

INT_LIMIT = 2.0**62  # int64 holds every partial sum below this


def quantize(values: np.ndarray, scale: int) -> np.ndarray:
    """round-half-away-from-zero(float64(float32 v) * 2**scale) as int64."""
    v = np.asarray(values, dtype=np.float32).astype(np.float64) * 2.0**scale
    if np.max(np.abs(v), initial=0.0) >= INT_LIMIT:
        raise InputError(f"a value reaches {np.max(np.abs(v)):.3g} at scale 2^{scale}: beyond int64")
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def quantized_logits(spec: FastCircuitSpec, weights: Mapping[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """The graph's integer logits (2**(layers-1) times the true ones, at the last layer's scale)."""
    w = doubled_biases(spec.arch, weights)
    h = quantize(X, spec.input_scale)
    n_lin = len(spec.arch.layers) - 1
    for i in range(n_lin):
        W = quantize(w[f"fc{i}.weight"], spec.param_scale)
        b = quantize(w[f"fc{i}.bias"], spec.input_scale + (i + 1) * spec.param_scale)
        bound = np.abs(h).astype(np.float64) @ np.abs(W).astype(np.float64).T + np.abs(b)
        if np.max(bound, initial=0.0) >= INT_LIMIT:
            raise InputError(f"layer {i}'s integer pre-activations could exceed int64")
        h = h @ W.T + b
        if i < n_lin - 1:
            h = h + np.abs(h)
    return h


def quantized_count(spec: FastCircuitSpec, weights: Mapping[str, np.ndarray], data: Dataset) -> int:
    """How many of ``data`` the quantized model classifies right, exactly as the circuit counts them."""
    return count_from_logits(quantized_logits(spec, weights, data.X), data.y)
