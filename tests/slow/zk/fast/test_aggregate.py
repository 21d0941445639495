"""Verifiable aggregation on a real (small, cached) fast circuit: the encoded message commits exactly as a proof's
witness does, and the affine law links three members' real commitments to the commitment of their weighted sum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from zkpot.domain.aggregation import fedavg
from zkpot.domain.verifiable import AggregateLayout, aggregate_holds, combine, decode, encode, parse_points
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.zk.fast import aggregate
from zkpot.zk.fast.build import build
from zkpot.zk.fast.prove import model_commitment
from zkpot.zk.fast.spec import FastCircuit, FastCircuitSpec
from zkpot.zk.fast.system import FastSystem

pytestmark = pytest.mark.slow

SPEC = FastCircuitSpec(samples=24, chunks=2, logrows=13)
A = (3, 5, 7)


@dataclasses.dataclass
class Members:
    weights: list[zmodel.Weights]
    commitments: list[str]
    messages: list[list[int]]


@pytest.fixture(scope="module")
def circuit() -> FastCircuit:
    return build(SPEC, self_test=False)


@pytest.fixture(scope="module")
def layout(circuit: FastCircuit) -> AggregateLayout:
    return aggregate.layout(circuit)


@pytest.fixture(scope="module")
def members(circuit: FastCircuit, layout: AggregateLayout) -> Members:
    ws = [zmodel.train(SPEC.arch, zmodel.init_weights(SPEC.arch, 10 + i), zdata.client_shard(i, 4), epochs=3,
                       seed=i) for i in range(3)]
    return Members(ws, [model_commitment(circuit, w) for w in ws], [encode(layout, w) for w in ws])


def weighted_sum(messages: list[list[int]], a: tuple[int, ...]) -> list[int]:
    return [sum(ai * m[j] for ai, m in zip(a, messages, strict=True)) for j in range(len(messages[0]))]


def test_the_layout_is_the_circuit_s_and_c0_is_not_the_identity(circuit: FastCircuit,
                                                                 layout: AggregateLayout) -> None:
    assert layout.elements == SPEC.arch.n_params() == 2410
    assert [t.name for t in layout.tensors] == ["fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"]
    assert [(t.scale, t.multiplier) for t in layout.tensors] == [(8, 1), (12, 1), (8, 1), (20, 2)]
    assert layout.c0 != "00" * 64 and len(parse_points(layout.c0)) == 1
    assert AggregateLayout.from_dict(layout.to_dict()) == layout
    assert FastSystem(circuit).aggregate_layout() == layout


def test_the_encoded_message_commits_as_the_circuit_does(circuit: FastCircuit, members: Members) -> None:
    for message, commitment in zip(members.messages, members.commitments, strict=True):
        assert aggregate.commit_message(circuit, message) == commitment


def test_the_weighted_sum_of_real_commitments_is_the_commitment_of_the_sum(
        circuit: FastCircuit, layout: AggregateLayout, members: Members) -> None:
    summed = weighted_sum(members.messages, A)
    c_sum = FastSystem(circuit).commit_message(summed)
    assert aggregate_holds(members.commitments, list(A), layout.c0, c_sum)
    tampered = list(summed)
    tampered[100] += 1
    assert not aggregate_holds(members.commitments, list(A), layout.c0, aggregate.commit_message(circuit, tampered))
    assert not aggregate_holds(members.commitments, [3, 5, 8], layout.c0, c_sum)


def test_decoding_the_sum_is_fedavg_within_quantization_error(layout: AggregateLayout, members: Members) -> None:
    got = decode(layout, sum(A), weighted_sum(members.messages, A))
    want = fedavg(members.weights, [float(a) for a in A])
    for t in layout.tensors:
        step = 0.5 / 2**t.scale / t.multiplier
        np.testing.assert_allclose(got[t.name], want[t.name], rtol=0, atol=step + 1e-6)


def test_sums_far_outside_the_quantized_range_still_commit(circuit: FastCircuit, layout: AggregateLayout,
                                                           members: Members) -> None:
    big = 2**35
    huge = [big * v for v in members.messages[0]]
    assert max(abs(v) for v in huge) > 2**40
    assert aggregate.commit_message(circuit, huge) == combine(members.commitments[:1], [big], layout.c0)
    # 200 members of weight 10^4 each, all holding the same model
    many = 200 * 10**4
    assert (aggregate.commit_message(circuit, [many * v for v in members.messages[1]])
            == combine([members.commitments[1]] * 200, [10**4] * 200, layout.c0))
