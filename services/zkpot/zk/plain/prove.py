"""Proving a model's accuracy, and recomputing its weight commitment outside the circuit.

A client's weights are compiled against the circuit's frozen settings; the witness then carries the weight
commitment, the public test-set inputs and the count of correct predictions; the pk comes from the one setup of the
architecture. Everything here is CPU-heavy: call it from a worker process or thread, never the event loop.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.ml.model import check_weights
from zkpot.zk.commitment import witness_commitment
from zkpot.zk.common import felt_to_int
from zkpot.zk.plain.graph import export_accuracy_onnx
from zkpot.zk.plain.spec import Circuit
from zkpot.zk.system import ProofResult


def instances_digest(inputs: list[list[str]]) -> str:
    """sha256 over the public input felts (test features, then labels), in circuit order."""
    h = hashlib.sha256()
    for tensor in inputs:
        for felt in tensor:
            h.update(felt.encode())
            h.update(b",")
        h.update(b"|")
    return h.hexdigest()


def _compile(circuit: Circuit, weights: Mapping[str, np.ndarray], work: Path) -> Path:
    import ezkl

    onnx_path, compiled = work / "model.onnx", work / "model.compiled"
    arch = circuit.spec.arch
    export_accuracy_onnx(arch, check_weights(arch, weights), circuit.spec.samples, onnx_path)
    ezkl.compile_circuit(str(onnx_path), str(compiled), str(circuit.settings))
    return compiled


def _witness(circuit: Circuit, compiled: Path, input_json: Path, out: Path) -> dict[str, Any]:
    """Run gen_witness and read its JSON file (the returned object holds opaque G1 points)."""
    import ezkl

    ezkl.gen_witness(str(input_json), str(compiled), str(out), vk_path=str(circuit.vk), srs_path=str(circuit.srs))
    witness: dict[str, Any] = json.loads(out.read_text())
    return witness


def model_commitment(circuit: Circuit, weights: Mapping[str, np.ndarray]) -> str:
    """The commitment a proof of these weights exposes, recomputed from the weights alone."""
    with tempfile.TemporaryDirectory(prefix="zkpot-commit-") as tmp:
        compiled = _compile(circuit, weights, Path(tmp))
        witness = _witness(circuit, compiled, circuit.input_json, Path(tmp) / "w.json")
        return witness_commitment(circuit.spec.commitment, witness)


def prove(circuit: Circuit, weights: Mapping[str, np.ndarray], *, input_json: Path | None = None) -> ProofResult:
    """Compile, witness and prove the model's count of correct test samples.

    ``input_json`` replaces the task's test set (only tests use it, to build proofs over other data).
    """
    import ezkl

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="zkpot-prove-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        compiled = _compile(circuit, weights, work)
        witness = _witness(circuit, compiled, input_json or circuit.input_json, work / "witness.json")
        timings["witness_s"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        ezkl.prove(str(work / "witness.json"), str(compiled), str(circuit.pk), str(work / "proof.json"),
                   srs_path=str(circuit.srs))
        timings["prove_s"] = round(time.perf_counter() - t, 3)
        proof = (work / "proof.json").read_bytes()
    return ProofResult(
        proof=proof,
        commitment=witness_commitment(circuit.spec.commitment, witness),
        correct=felt_to_int(witness["outputs"][-1][-1]),
        samples=circuit.spec.samples,
        timings=timings,
    )
