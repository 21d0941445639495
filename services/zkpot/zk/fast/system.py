"""The fast chunked circuit behind the ProofSystem interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from zkpot.domain import ProofChecker
from zkpot.domain.verifiable import AggregateLayout
from zkpot.ml import tasks
from zkpot.ml.model import Arch
from zkpot.zk.common import Progress, quiet
from zkpot.zk.fast import aggregate
from zkpot.zk.fast import build as fbuild
from zkpot.zk.fast.prove import model_commitment, prove_accuracy
from zkpot.zk.fast.spec import MAX_CHUNK_SAMPLES, FastCircuit, FastCircuitSpec, chunks_for
from zkpot.zk.fast.verify import FastVerifier
from zkpot.zk.system import ProofResult, ProofSystem, Weights

DEFAULT_SAMPLES = MAX_CHUNK_SAMPLES  # digits: one 2^15-row chunk
CHUNK_SAMPLES = {"mnist": 47}  # the most test samples one 2^16-row chunk holds, by task (measured: docs/zk.md)


def fast_spec(samples: int, task: str = "digits") -> FastCircuitSpec:
    """The fast circuit over ``samples`` of ``task`` with its default MLP: as few chunks as keep each within the
    task's chunk size (digits: MAX_CHUNK_SAMPLES, one 2^15-row chunk)."""
    per_chunk = CHUNK_SAMPLES.get(task, MAX_CHUNK_SAMPLES)
    return FastCircuitSpec(arch=Arch.default(task), samples=samples, chunks=chunks_for(samples, per_chunk),
                           task=task)


class FastSystem(ProofSystem):
    kind = "fast"
    default_samples = DEFAULT_SAMPLES
    circuit: FastCircuit
    KEYS: ClassVar[tuple[str, ...]] = ("name", "logrows", "srs_sha256", "srs_kind", "commitment_layout",
                                       "instances_digest", "sizes")
    CHUNK_KEYS: ClassVar[tuple[str, ...]] = ("index", "start", "stop", "test_set_sha256", "vk_sha256")

    def __init__(self, circuit: FastCircuit) -> None:
        super().__init__(circuit)

    @classmethod
    def build(cls, samples: int | None = None, *, spec: Mapping[str, Any] | None = None,
              srs_file: Path | None = None, progress: Progress = quiet, task: str = "digits") -> FastSystem:
        n = samples or tasks.get(task).default_samples
        fast = FastCircuitSpec.from_dict(spec) if spec else fbuild.fit_logrows(fast_spec(n, task))
        return cls(fbuild.build(fast, srs_file=srs_file, progress=progress))

    @classmethod
    def load(cls, root: Path) -> FastSystem:
        return cls(fbuild.load(root))

    @staticmethod
    def owns(manifest: Mapping[str, Any]) -> bool:
        return "chunks" in manifest

    def summary(self) -> dict[str, Any]:
        chunks = [{k: c[k] for k in self.CHUNK_KEYS} for c in self.manifest["chunks"]]
        return ({"pipeline": self.kind, "spec": self.manifest["spec"], "chunks": chunks}
                | {k: self.manifest[k] for k in self.KEYS})

    def prove(self, weights: Weights) -> ProofResult:
        proof = prove_accuracy(self.circuit, weights, workers=1)
        timings = {"witness_s": proof.timings["witness_s"],
                   "prove_s": round(proof.timings["prove_s"] - proof.timings["witness_s"], 3),
                   "peak_rss_mb": proof.timings["peak_rss_mb"]}
        return ProofResult(proof.to_bytes(), proof.commitment, proof.correct, proof.samples, timings)

    def commitment(self, weights: Weights) -> str:
        return model_commitment(self.circuit, weights)

    def checker(self) -> ProofChecker:
        return FastVerifier(self.circuit)

    def aggregate_layout(self) -> AggregateLayout:
        return aggregate.layout(self.circuit)

    def commit_message(self, message: Sequence[int]) -> str:
        return aggregate.commit_message(self.circuit, message)
