"""The plain circuit behind the ProofSystem interface."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from zkpot.domain import ProofChecker
from zkpot.domain.verifiable import AggregateLayout
from zkpot.ml.model import Arch
from zkpot.zk.common import Progress, quiet
from zkpot.zk.plain import aggregate
from zkpot.zk.plain import build as pbuild
from zkpot.zk.plain.prove import model_commitment, prove
from zkpot.zk.plain.spec import DEFAULT_SAMPLES, Circuit, CircuitSpec
from zkpot.zk.plain.verify import ProofVerifier
from zkpot.zk.system import ProofResult, ProofSystem, Weights


class PlainSystem(ProofSystem):
    kind = "plain"
    default_samples = DEFAULT_SAMPLES
    circuit: Circuit
    KEYS: ClassVar[tuple[str, ...]] = ("name", "logrows", "settings_sha256", "vk_sha256", "srs_sha256", "srs_kind",
                                       "commitment_layout", "instances_digest")

    def __init__(self, circuit: Circuit) -> None:
        super().__init__(circuit)

    @classmethod
    def build(cls, samples: int | None = None, *, spec: Mapping[str, Any] | None = None,
              srs_file: Path | None = None, progress: Progress = quiet, task: str = "digits") -> PlainSystem:
        plain = CircuitSpec.from_dict(dict(spec)) if spec else CircuitSpec(
            arch=Arch.default(task), samples=samples or DEFAULT_SAMPLES, task=task)
        return cls(pbuild.build(plain, srs_file=srs_file, progress=progress))

    @classmethod
    def load(cls, root: Path) -> PlainSystem:
        return cls(pbuild.load(root))

    @staticmethod
    def owns(manifest: Mapping[str, Any]) -> bool:
        return "chunks" not in manifest

    def summary(self) -> dict[str, Any]:
        return {"pipeline": self.kind, "spec": self.manifest["spec"]} | {k: self.manifest[k] for k in self.KEYS}

    def prove(self, weights: Weights) -> ProofResult:
        return prove(self.circuit, weights)

    def commitment(self, weights: Weights) -> str:
        return model_commitment(self.circuit, weights)

    def checker(self) -> ProofChecker:
        return ProofVerifier(self.circuit)

    def aggregate_layout(self) -> AggregateLayout:
        return aggregate.layout(self.circuit)

    def commit_message(self, message: Sequence[int]) -> str:
        return aggregate.commit_message(self.circuit, message)
