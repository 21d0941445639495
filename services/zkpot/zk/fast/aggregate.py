"""Verifiable aggregation with the fast circuit: the layout of the message its proofs commit to, and the
commitment of any (summed) message, bit-exact with the one a proof of the same message would expose.

The graph holds layer i's bias times 2**i (``graph.doubled_biases``) and never rebases (scale_rebase_multiplier
is large), so weights sit at 2**param_scale and layer i's bias at 2**(input_scale + (i + 1) * param_scale).
CPU-light (tens of ms per commitment) but blocking: call it from a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from zkpot.domain.verifiable import AggregateLayout, TensorLayout
from zkpot.ml.model import init_weights
from zkpot.zk.commitment import checked_layout, kzg_commit_message
from zkpot.zk.common import CircuitError
from zkpot.zk.fast.prove import model_commitment
from zkpot.zk.fast.spec import FastCircuit, FastCircuitSpec

PROBE_SEED = 1  # the weights whose commitment ``layout`` checks its encoding against


def message_tensors(spec: FastCircuitSpec, scale_rebase_multiplier: int) -> tuple[TensorLayout, ...]:
    """Layer by layer, weight ([out, in], row-major) then bias, as the circuit's polycommit column holds them."""
    layers = len(spec.arch.layers) - 1
    top = spec.input_scale + layers * spec.param_scale
    if top > spec.input_scale * scale_rebase_multiplier:
        raise CircuitError(f"this circuit rebases (scale {top} > input scale {spec.input_scale} x multiplier "
                           f"{scale_rebase_multiplier}): its biases are not quantized at the layer scale, so the "
                           "aggregate layout does not hold")
    shapes = spec.arch.shapes()
    out: list[TensorLayout] = []
    for i in range(layers):
        w, b = f"fc{i}.weight", f"fc{i}.bias"
        out.append(TensorLayout(w, tuple(shapes[w]), spec.param_scale))
        out.append(TensorLayout(b, tuple(shapes[b]), spec.input_scale + (i + 1) * spec.param_scale, 2**i))
    return tuple(out)


def layout(circuit: FastCircuit, *, check: bool = True) -> AggregateLayout:
    """The circuit's aggregate layout, c0 included; ``check`` (a witness, about a second) proves the encoding
    reproduces the commitment the circuit itself gives a model."""
    size = _size(circuit)
    multiplier = int(json.loads(circuit.settings(size).read_text())["run_args"]["scale_rebase_multiplier"])
    probe = init_weights(circuit.spec.arch, PROBE_SEED)
    reference = (probe, model_commitment(circuit, probe)) if check else None
    return checked_layout(message_tensors(circuit.spec, multiplier), lambda m: commit_message(circuit, m), reference)


def commit_message(circuit: FastCircuit, message: Sequence[int]) -> str:
    """The canonical commitment of a signed integer message of the model's length (e.g. sum_i a_i * m_i)."""
    n = circuit.spec.arch.n_params()
    if len(message) != n:
        raise CircuitError(f"a message of this circuit has {n} elements, not {len(message)}")
    return kzg_commit_message(message, circuit.vk(0), circuit.settings(_size(circuit)), circuit.srs)


def _size(circuit: FastCircuit) -> int:
    start, stop = circuit.spec.chunk_bounds()[0]
    return stop - start
