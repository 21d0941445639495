"""The aggregate message layouts the proof systems derive from their specs (no ezkl)."""

from __future__ import annotations

import pytest
from zkpot.ml.model import Arch
from zkpot.zk.common import CircuitError
from zkpot.zk.fast.aggregate import message_tensors as fast_tensors
from zkpot.zk.fast.spec import FastCircuitSpec
from zkpot.zk.plain.aggregate import message_tensors as plain_tensors
from zkpot.zk.plain.spec import CircuitSpec


def test_fast_biases_sit_at_the_layer_scale_times_two_to_the_layer() -> None:
    spec = FastCircuitSpec(arch=Arch((64, 16, 16, 10)), samples=24, chunks=2, logrows=13)
    got = [(t.name, t.shape, t.scale, t.multiplier) for t in fast_tensors(spec, 1000)]
    assert got == [("fc0.weight", (16, 64), 8, 1), ("fc0.bias", (16,), 12, 1), ("fc1.weight", (16, 16), 8, 1),
                   ("fc1.bias", (16,), 20, 2), ("fc2.weight", (10, 16), 8, 1), ("fc2.bias", (10,), 28, 4)]


def test_a_fast_spec_that_would_rebase_is_refused() -> None:
    with pytest.raises(CircuitError, match="rebases"):
        fast_tensors(FastCircuitSpec(samples=24, chunks=2, logrows=13), 4)


def test_plain_keeps_every_parameter_at_param_scale() -> None:
    assert {(t.scale, t.multiplier) for t in plain_tensors(CircuitSpec())} == {(10, 1)}
    with pytest.raises(NotImplementedError):
        plain_tensors(CircuitSpec(commitment="hashed"))
