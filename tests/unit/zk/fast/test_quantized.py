"""The quantized model's count (what the fast circuit proves) and the task in circuit specs."""

from __future__ import annotations

import numpy as np
import pytest
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.ml import tasks
from zkpot.zk.fast.quantized import quantize, quantized_count, quantized_logits
from zkpot.zk.fast.spec import MAX_CHUNK_SAMPLES, FastCircuitSpec
from zkpot.zk.fast.system import FastSystem, fast_spec

SPEC = FastCircuitSpec(samples=78, chunks=1)


def on_grid(weights: zmodel.Weights, spec: FastCircuitSpec) -> zmodel.Weights:
    """Weights the circuit holds exactly: weights on 2^-param, layer i's bias on 2^-(input + (i + 1) param) / 2^i."""
    out = {}
    for name, a in weights.items():
        i = int(name[2])
        scale = spec.param_scale if name.endswith("weight") else spec.input_scale + (i + 1) * spec.param_scale
        out[name] = (np.round(a * 2.0**scale) / 2.0**scale).astype(np.float32)
    return out


def test_quantizing_rounds_half_away_from_zero_like_rust() -> None:
    assert quantize(np.array([0.5, -0.5, 1.5, -2.5, 0.49]), 0).tolist() == [1, -1, 2, -3, 0]


def test_a_model_the_circuit_holds_exactly_counts_as_the_float_model() -> None:
    test = zdata.public_test_set(SPEC.samples)
    w = on_grid(zmodel.train(SPEC.arch, zmodel.init_weights(SPEC.arch, 1), zdata.client_shard(0, 4), epochs=5), SPEC)
    float_logits = zmodel.logits(SPEC.arch, w, test.X)
    exact = quantized_logits(SPEC, w, test.X)
    n_lin = len(SPEC.arch.layers) - 1
    scale = 2.0 ** (n_lin - 1 + SPEC.input_scale + n_lin * SPEC.param_scale)  # doubled ReLUs, growing scales
    assert np.allclose(exact / scale, float_logits, rtol=0, atol=1e-9)
    assert quantized_count(SPEC, w, test) == zmodel.count_correct(SPEC.arch, w, test) > 60


def test_quantizing_a_model_off_the_grid_can_move_its_count_only_near_ties() -> None:
    test = zdata.public_test_set(SPEC.samples)
    w = zmodel.train(SPEC.arch, zmodel.init_weights(SPEC.arch, 1), zdata.client_shard(1, 4), epochs=5)
    assert abs(quantized_count(SPEC, w, test) - zmodel.count_correct(SPEC.arch, w, test)) <= 2


def test_a_digits_spec_keeps_the_dict_it_always_had_and_an_mnist_spec_round_trips() -> None:
    assert tasks.get("digits").default_samples == FastSystem.default_samples == MAX_CHUNK_SAMPLES  # one default
    digits = FastCircuitSpec().to_dict()
    assert "task" not in digits and digits["dataset"] == zdata.DATASET_ID
    mnist = fast_spec(100, "mnist")
    assert (mnist.arch.layers, mnist.chunks, mnist.task) == ((784, 128, 10), 3, "mnist")
    again = FastCircuitSpec.from_dict(mnist.to_dict())
    assert again == mnist and again.name.startswith("mnist-") and again.key("s") != FastCircuitSpec().key("s")
    with pytest.raises(InputError, match="does not fit the mnist task"):
        FastCircuitSpec(samples=10, chunks=1, task="mnist")  # the digits MLP over MNIST images
    with pytest.raises(InputError, match="1..1000"):
        FastCircuitSpec(arch=mnist.arch, samples=1001, chunks=22, task="mnist")
