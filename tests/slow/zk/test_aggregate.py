"""Verifiable aggregation on the plain (polycommit) circuit, the one the proof tests build and cache: its message
layout (every parameter at param_scale, no doubled biases) commits as its witness does."""

from __future__ import annotations

import pytest
from zkpot.domain.verifiable import aggregate_holds, encode
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.zk.plain import aggregate
from zkpot.zk.plain import build as pbuild
from zkpot.zk.plain.prove import model_commitment
from zkpot.zk.plain.spec import Circuit, CircuitSpec
from zkpot.zk.plain.system import PlainSystem

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def circuit() -> Circuit:
    return pbuild.build(CircuitSpec())


def test_plain_commitments_aggregate(circuit: Circuit) -> None:
    system = PlainSystem(circuit)
    layout = system.aggregate_layout()
    assert [(t.scale, t.multiplier) for t in layout.tensors] == [(10, 1)] * 4
    ws = [zmodel.train(circuit.spec.arch, zmodel.init_weights(circuit.spec.arch, 20 + i), zdata.client_shard(i, 4),
                       epochs=3, seed=i) for i in range(2)]
    messages = [encode(layout, w) for w in ws]
    commitments = [model_commitment(circuit, w) for w in ws]
    assert [system.commit_message(m) for m in messages] == commitments
    summed = [2 * a + 9 * b for a, b in zip(*messages, strict=True)]
    assert aggregate_holds(commitments, [2, 9], layout.c0, aggregate.commit_message(circuit, summed))


def test_a_hashed_plain_circuit_cannot_aggregate() -> None:
    with pytest.raises(NotImplementedError, match="polycommit"):
        aggregate.message_tensors(CircuitSpec(commitment="hashed"))
