"""Verifiable aggregation with the plain circuit (polycommit only): the layout of the message its proofs commit
to, and the commitment of any (summed) message.

The plain graph is the MLP as trained (no doubled biases) and ezkl quantizes every parameter of it, weights and
biases alike, at 2**param_scale (measured on ezkl 23.0.5 with scale_rebase_multiplier 1: the add rescales the bias
inside the circuit). ``layout`` checks that against the circuit's own commitment of a probe model before use, so
a spec where it fails is refused, not silently wrong. A ``hashed`` (Poseidon) commitment is not homomorphic.
"""

from __future__ import annotations

from collections.abc import Sequence

from zkpot.domain.verifiable import AggregateLayout, TensorLayout
from zkpot.ml.model import init_weights
from zkpot.zk.commitment import checked_layout, kzg_commit_message
from zkpot.zk.common import CircuitError
from zkpot.zk.plain.prove import model_commitment
from zkpot.zk.plain.spec import Circuit, CircuitSpec

PROBE_SEED = 1  # the weights whose commitment ``layout`` checks its encoding against


def message_tensors(spec: CircuitSpec) -> tuple[TensorLayout, ...]:
    """Layer by layer, weight ([out, in], row-major) then bias, all at param_scale."""
    if spec.commitment != "polycommit":
        raise NotImplementedError(f"verifiable aggregation needs a polycommit (KZG) weight commitment; this plain "
                                  f"circuit's is {spec.commitment!r}, which is not additively homomorphic")
    return tuple(TensorLayout(name, tuple(shape), spec.param_scale) for name, shape in spec.arch.shapes().items())


def layout(circuit: Circuit, *, check: bool = True) -> AggregateLayout:
    """The circuit's aggregate layout, c0 included; ``check`` (a witness, a second or two) proves the encoding
    reproduces the commitment the circuit itself gives a model."""
    tensors = message_tensors(circuit.spec)
    probe = init_weights(circuit.spec.arch, PROBE_SEED)
    reference = (probe, model_commitment(circuit, probe)) if check else None
    return checked_layout(tensors, lambda m: commit_message(circuit, m), reference)


def commit_message(circuit: Circuit, message: Sequence[int]) -> str:
    """The canonical commitment of a signed integer message of the model's length (e.g. sum_i a_i * m_i)."""
    message_tensors(circuit.spec)
    n = circuit.spec.arch.n_params()
    if len(message) != n:
        raise CircuitError(f"a message of this circuit has {n} elements, not {len(message)}")
    return kzg_commit_message(message, circuit.vk, circuit.settings, circuit.srs)
