"""The proof system a task uses, behind one interface: build or load it, prove, recompute a commitment, verify.

Two pipelines prove the same statement ("the model committing to C gets k of the first N public test samples
right"):

- ``plain``: one ezkl circuit with the test samples as public instances (`zk/circuit.py`), the reference baseline;
- ``fast``: the test set as fixed columns, a cheaper accuracy graph and the samples split into chunk proofs that all
  bind one commitment (`perf/`, docs/performance.md) — several times cheaper per sample.

Genesis names the pipeline and pins its artifact hashes (``summary()``); services, the simulation and the audit
only see this interface. Everything here is CPU-heavy: call it from worker processes or threads.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.domain import ProofChecker
from zkpot.errors import InputError
from zkpot.zk.model import Arch
from zkpot.zk.prover import ProofResult

PIPELINES = ("fast", "plain")
DEFAULT_PIPELINE = "fast"
DEFAULT_SAMPLES = {"fast": 78, "plain": 16}  # fast: one 2^15-row chunk (perf.spec.MAX_CHUNK_SAMPLES); plain: 2^15 rows
Weights = Mapping[str, np.ndarray]


class ProofSystem(abc.ABC):
    """One built circuit (its folder of derived artifacts and manifest) and what can be done with it."""

    kind: str
    root: Path
    manifest: dict[str, Any]
    arch: Arch
    samples: int

    def __init__(self, circuit: Any) -> None:
        """``circuit``: the pipeline's built circuit (``zk.circuit.Circuit`` or ``perf.build.FastCircuit``)."""
        self.circuit = circuit
        self.root, self.manifest = circuit.root, circuit.manifest
        self.arch, self.samples = circuit.spec.arch, circuit.spec.samples

    @abc.abstractmethod
    def summary(self) -> dict[str, Any]:
        """What genesis pins: the pipeline, its spec and the hashes every node must reproduce (no floats)."""

    @abc.abstractmethod
    def prove(self, weights: Weights) -> ProofResult: ...

    @abc.abstractmethod
    def commitment(self, weights: Weights) -> str:
        """The commitment a proof of ``weights`` exposes, recomputed from the weights alone."""

    @abc.abstractmethod
    def checker(self) -> ProofChecker: ...

    @property
    def instances_digest(self) -> str:
        """The test-set binding genesis records (public-instance digest, or chunk vk digest for ``fast``)."""
        return str(self.manifest["instances_digest"])

    @property
    def test_set_sha256(self) -> str:
        return str(self.manifest["test_set_sha256"])

    @property
    def pk_bytes(self) -> int:
        return int(self.manifest["pk_bytes"])


class PlainSystem(ProofSystem):
    kind = "plain"
    KEYS = ("name", "logrows", "settings_sha256", "vk_sha256", "srs_sha256", "srs_kind",
            "commitment_layout", "instances_digest")

    def summary(self) -> dict[str, Any]:
        return {"pipeline": self.kind, "spec": self.manifest["spec"]} | {k: self.manifest[k] for k in self.KEYS}

    def prove(self, weights: Weights) -> ProofResult:
        from zkpot.zk.prover import prove

        return prove(self.circuit, weights)

    def commitment(self, weights: Weights) -> str:
        from zkpot.zk.prover import model_commitment

        return model_commitment(self.circuit, weights)

    def checker(self) -> ProofChecker:
        from zkpot.zk.verifier import ProofVerifier

        return ProofVerifier(self.circuit)


class FastSystem(ProofSystem):
    kind = "fast"
    KEYS = ("name", "logrows", "srs_sha256", "srs_kind", "commitment_layout", "instances_digest", "sizes")
    CHUNK_KEYS = ("index", "start", "stop", "test_set_sha256", "vk_sha256")

    def summary(self) -> dict[str, Any]:
        chunks = [{k: c[k] for k in self.CHUNK_KEYS} for c in self.manifest["chunks"]]
        return ({"pipeline": self.kind, "spec": self.manifest["spec"], "chunks": chunks}
                | {k: self.manifest[k] for k in self.KEYS})

    def prove(self, weights: Weights) -> ProofResult:
        from zkpot.perf.prove import prove_accuracy

        proof = prove_accuracy(self.circuit, weights, workers=1)
        timings = {"witness_s": proof.timings["witness_s"],
                   "prove_s": round(proof.timings["prove_s"] - proof.timings["witness_s"], 3),
                   "peak_rss_mb": proof.timings["peak_rss_mb"]}
        return ProofResult(proof.to_bytes(), proof.commitment, proof.correct, proof.samples, timings)

    def commitment(self, weights: Weights) -> str:
        from zkpot.perf.prove import model_commitment

        return model_commitment(self.circuit, weights)

    def checker(self) -> ProofChecker:
        from zkpot.perf.verify import FastVerifier

        return FastVerifier(self.circuit)


def load(root: Path) -> ProofSystem:
    """The proof system whose artifacts a setup wrote into ``root``."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no circuit at {root} (run `zkpot circuit setup`)") from e
    if "chunks" in manifest:
        from zkpot.perf.build import load as load_fast

        return FastSystem(load_fast(root))
    from zkpot.zk.circuit import load as load_plain

    return PlainSystem(load_plain(root))


def build(pipeline: str, samples: int | None = None, *, spec: Mapping[str, Any] | None = None,
          srs_file: Path | None = None, progress: Any = None) -> ProofSystem:
    """Build (or take from the cache) the circuit of ``pipeline`` over the first ``samples`` test samples.

    ``spec`` (a genesis' ``circuit.spec``) overrides ``samples`` and every default.
    """
    kwargs: dict[str, Any] = {"srs_file": srs_file}
    if progress is not None:
        kwargs["progress"] = progress
    if pipeline == "fast":
        from zkpot.perf.build import build as build_fast
        from zkpot.perf.build import fit_logrows
        from zkpot.perf.spec import FastCircuitSpec

        fast = FastCircuitSpec.from_dict(spec) if spec else fast_spec(samples or DEFAULT_SAMPLES["fast"])
        return FastSystem(build_fast(fast if spec else fit_logrows(fast), **kwargs))
    if pipeline == "plain":
        from zkpot.zk.circuit import CircuitSpec
        from zkpot.zk.circuit import build as build_plain

        plain = CircuitSpec.from_dict(dict(spec)) if spec else CircuitSpec(samples=samples or DEFAULT_SAMPLES["plain"])
        return PlainSystem(build_plain(plain, **kwargs))
    raise InputError(f"pipeline must be one of {', '.join(PIPELINES)}, not {pipeline!r}")


def fast_spec(samples: int) -> Any:
    """The fast pipeline over ``samples``: as few 2^15-row chunks as hold them (MAX_CHUNK_SAMPLES each at most)."""
    from zkpot.perf.spec import FastCircuitSpec, chunks_for

    return FastCircuitSpec(samples=samples, chunks=chunks_for(samples))


def from_genesis_circuit(circuit: Mapping[str, Any], *, srs_file: Path | None = None, progress: Any = None
                         ) -> ProofSystem:
    """Derive the proof system a genesis names (``circuit`` is genesis' ``circuit`` object)."""
    return build(str(circuit.get("pipeline", "plain")), spec=circuit["spec"], srs_file=srs_file, progress=progress)


def as_system(circuit: Any) -> ProofSystem:
    """A ProofSystem from a ProofSystem, a plain ``zk.circuit.Circuit`` or a fast ``perf.build.FastCircuit``."""
    if isinstance(circuit, ProofSystem):
        return circuit
    return FastSystem(circuit) if "chunks" in circuit.manifest else PlainSystem(circuit)
