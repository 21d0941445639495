"""Proving a model's accuracy with the fast circuit: one compile per chunk size, then a witness and a proof per
chunk, optionally spread over worker processes. Every chunk proof exposes the same weight commitment.

CPU-heavy: call it from a worker process or thread, never an event loop.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml.model import check_weights
from zkpot.pool import peak_rss_mb, spawn_pool
from zkpot.zk.commitment import witness_commitment
from zkpot.zk.common import CircuitError, felt_to_int
from zkpot.zk.fast import graph
from zkpot.zk.fast.spec import FastCircuit, check_in_range

BUNDLE_FORMAT = "zkpot-chunked-proof/1"


@dataclass(frozen=True)
class ChunkProof:
    index: int
    proof: bytes  # the ezkl proof file (JSON)
    commitment: str
    correct: int
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FastProof:
    """A model's proof of accuracy: one proof per chunk, all binding ``commitment``; ``correct`` is their sum."""

    chunks: tuple[bytes, ...]
    commitment: str
    correct: int
    samples: int
    timings: dict[str, float]

    def to_bytes(self) -> bytes:
        """The bundle stored on IPFS (one CID per transaction): every chunk's ezkl proof, in chunk order."""
        return encode_bundle(self.chunks)


def encode_bundle(chunks: tuple[bytes, ...] | list[bytes]) -> bytes:
    docs = [json.loads(c) for c in chunks]
    return json.dumps({"format": BUNDLE_FORMAT, "chunks": docs}, separators=(",", ":")).encode()


def prove_accuracy(circuit: FastCircuit, weights: Mapping[str, np.ndarray], *, workers: int = 1) -> FastProof:
    """Prove the model's count of correct samples over the circuit's test set.

    ``workers`` > 1 proves chunks in that many spawned processes, each with an equal share of the CPU threads.
    """
    spec = circuit.spec
    w = check_weights(spec.arch, weights)
    check_in_range(spec, w, zdata.public_test_set(spec.samples, spec.task))
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="zkpot-fast-") as tmp:
        compiled = {size: _compile(circuit, w, size, Path(tmp)) for size in _sizes(circuit)}
        jobs = [(circuit, i, compiled[b - a], Path(tmp)) for i, (a, b) in enumerate(spec.chunk_bounds())]
        results = _run(jobs, workers)
    total_s = time.perf_counter() - start
    commitments = {r.commitment for r in results}
    if len(commitments) != 1:
        raise InputError("chunk witnesses disagree on the weight commitment: the circuit artifacts are inconsistent")
    return FastProof(
        chunks=tuple(r.proof for r in results),
        commitment=commitments.pop(),
        correct=sum(r.correct for r in results),
        samples=spec.samples,
        timings={
            "prove_s": round(total_s, 3),
            "witness_s": round(sum(r.timings["witness_s"] for r in results), 3),
            "chunk_prove_s": round(sum(r.timings["prove_s"] for r in results), 3),
            "peak_rss_mb": max(r.timings["peak_rss_mb"] for r in results),
        },
    )


def model_commitment(circuit: FastCircuit, weights: Mapping[str, np.ndarray]) -> str:
    """The commitment every chunk proof of these weights exposes, recomputed from the weights alone."""
    import ezkl

    w = check_weights(circuit.spec.arch, weights)
    start, stop = circuit.spec.chunk_bounds()[0]
    with tempfile.TemporaryDirectory(prefix="zkpot-fast-commit-") as tmp:
        compiled = _compile(circuit, w, stop - start, Path(tmp))
        out = Path(tmp) / "witness.json"
        ezkl.gen_witness(str(circuit.input_json(0)), str(compiled), str(out), vk_path=str(circuit.vk(0)),
                         srs_path=str(circuit.srs))
        return witness_commitment("polycommit", json.loads(out.read_text()))


def _sizes(circuit: FastCircuit) -> set[int]:
    return {b - a for a, b in circuit.spec.chunk_bounds()}


def _compile(circuit: FastCircuit, weights: Mapping[str, np.ndarray], size: int, work: Path) -> Path:
    import ezkl

    onnx_path, compiled = work / f"model-{size}.onnx", work / f"model-{size}.compiled"
    graph.export(circuit.spec.arch, weights, size, onnx_path)
    ezkl.compile_circuit(str(onnx_path), str(compiled), str(circuit.settings(size)))
    return compiled


def schedule(chunks: int, workers: int, cores: int) -> list[tuple[int, int, int, int]]:
    """How ``chunks`` chunk proofs run on ``workers`` processes: ``(first, stop, processes, threads)`` stages.

    Full rounds first, ``workers`` processes with an equal share of the cores each; then the leftover chunks (fewer
    than ``workers``), each process with a larger share, so no core idles while one worker proves a last chunk
    alone. 7 chunks, 2 workers, 2 cores: 6 chunks on 2 one-thread processes, then 1 chunk on one two-thread process.
    """
    if workers <= 1 or chunks == 0:
        return [(0, chunks, 1, 0)] if chunks else []
    full = chunks - chunks % workers
    stages = [(0, full, workers, max(1, cores // workers))] if full else []
    if full < chunks:
        rest = chunks - full
        stages.append((full, chunks, rest, max(1, cores // rest)))
    return stages


def _run(jobs: list[tuple[FastCircuit, int, Path, Path]], workers: int) -> list[ChunkProof]:
    results: list[ChunkProof] = []
    for first, stop, processes, threads in schedule(len(jobs), workers, os.cpu_count() or 1):
        if threads == 0:  # in this process, with its own thread setting
            results += [prove_chunk(job) for job in jobs[first:stop]]
            continue
        with spawn_pool(processes, _set_threads, (threads,)) as pool:
            results += list(pool.map(prove_chunk, jobs[first:stop]))
    return results


def _set_threads(threads: int) -> None:
    """Runs in each fresh worker before ezkl starts its thread pool, which reads this once."""
    os.environ["RAYON_NUM_THREADS"] = str(threads)


def prove_chunk(job: tuple[FastCircuit, int, Path, Path]) -> ChunkProof:
    """Witness and proof of one chunk (module level, so a process pool can run it)."""
    import ezkl

    circuit, i, compiled, work = job
    witness_path, proof_path = work / f"witness-{i}.json", work / f"proof-{i}.json"
    t = time.perf_counter()
    try:
        ezkl.gen_witness(str(circuit.input_json(i)), str(compiled), str(witness_path), vk_path=str(circuit.vk(i)),
                         srs_path=str(circuit.srs))
        witness = json.loads(witness_path.read_text())
        witness_s = time.perf_counter() - t
        t = time.perf_counter()
        ezkl.prove(str(witness_path), str(compiled), str(circuit.pk(i)), str(proof_path), srs_path=str(circuit.srs))
    except RuntimeError as e:  # ezkl reports every failure this way; the range pre-check should have caught it
        raise CircuitError(f"chunk {i} could not be proved: {str(e).splitlines()[0]}") from e
    prove_s = time.perf_counter() - t
    return ChunkProof(
        index=i,
        proof=proof_path.read_bytes(),
        commitment=witness_commitment("polycommit", witness),
        correct=felt_to_int(witness["outputs"][-1][-1]),
        timings={"witness_s": round(witness_s, 3), "prove_s": round(prove_s, 3),
                 "peak_rss_mb": round(peak_rss_mb(), 1)},
    )
