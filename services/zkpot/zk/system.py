"""The proof system a task uses, behind one interface: build or load it, prove, recompute a commitment, verify.

Two systems prove the same statement ("the model committing to C gets k of the first N public test samples
right"), each a sibling package with the same module names (spec, build, prove, verify, graph, system):

- ``zk.plain``: one ezkl circuit with the test samples as public instances, the reference baseline;
- ``zk.fast``: the test set as fixed columns, a cheaper accuracy graph and the samples split into chunk proofs that
  all bind one commitment (docs/performance.md) — several times cheaper per sample.

Genesis names the system and pins its artifact hashes (``summary()``); ``zk.registry`` picks one by name or from a
built folder. Services, the simulation and the audit only see this interface. Everything here is CPU-heavy: call
it from worker processes or threads.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np

from zkpot.domain import ProofChecker
from zkpot.domain.verifiable import AggregateLayout
from zkpot.ml.model import Arch
from zkpot.pool import peak_rss_mb, spawn_pool
from zkpot.zk.common import Progress, quiet

Weights = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class ProofResult:
    proof: bytes  # the bytes stored on IPFS (an ezkl proof file, or a bundle of chunk proofs)
    commitment: str
    correct: int
    samples: int
    timings: dict[str, float]


class CircuitSpecLike(Protocol):
    """What every proof system's spec says: the architecture and how many public test samples it proves over."""

    @property
    def arch(self) -> Arch: ...

    @property
    def samples(self) -> int: ...

    @property
    def task(self) -> str: ...


class BuiltCircuit(Protocol):
    """A built circuit of either system: the folder of its derived artifacts and the manifest naming them."""

    @property
    def spec(self) -> CircuitSpecLike: ...

    @property
    def root(self) -> Path: ...

    @property
    def manifest(self) -> dict[str, Any]: ...


class ProofSystem(abc.ABC):
    """One built circuit and what can be done with it."""

    kind: ClassVar[str]
    default_samples: ClassVar[int]  # public test samples a circuit proves over unless told otherwise
    circuit: BuiltCircuit

    def __init__(self, circuit: BuiltCircuit) -> None:
        self.circuit = circuit
        self.root, self.manifest = circuit.root, circuit.manifest
        self.arch, self.samples, self.task = circuit.spec.arch, circuit.spec.samples, circuit.spec.task

    @classmethod
    @abc.abstractmethod
    def build(cls, samples: int | None = None, *, spec: Mapping[str, Any] | None = None,
              srs_file: Path | None = None, progress: Progress = quiet, task: str = "digits") -> Self:
        """Build (or take from the cache) the circuit over the first ``samples`` test samples of ``task`` with the
        task's default architecture; ``spec`` (a genesis' ``circuit.spec``) overrides all of these."""

    @classmethod
    @abc.abstractmethod
    def load(cls, root: Path) -> Self:
        """The system whose artifacts a setup wrote into ``root``."""

    @staticmethod
    @abc.abstractmethod
    def owns(manifest: Mapping[str, Any]) -> bool:
        """Whether a built folder's manifest is this system's."""

    @abc.abstractmethod
    def summary(self) -> dict[str, Any]:
        """What genesis pins: the system, its spec and the hashes every node must reproduce (no floats)."""

    @abc.abstractmethod
    def prove(self, weights: Weights) -> ProofResult: ...

    @abc.abstractmethod
    def commitment(self, weights: Weights) -> str:
        """The commitment a proof of ``weights`` exposes, recomputed from the weights alone."""

    @abc.abstractmethod
    def checker(self) -> ProofChecker: ...

    def aggregate_layout(self) -> AggregateLayout:
        """How this system's committed message is made from a model, and C0 (``domain.verifiable``), checked
        against the circuit's own commitment of a probe model; what genesis stores for verifiable aggregation.
        Systems whose commitment is not additively homomorphic raise NotImplementedError."""
        raise NotImplementedError(f"the {self.kind} proof system does not support verifiable aggregation")

    def commit_message(self, message: Sequence[int]) -> str:
        """The commitment a proof would expose for the signed integer message ``message`` (e.g. a weighted sum
        of members' messages), in the canonical form ``commitment`` returns."""
        raise NotImplementedError(f"the {self.kind} proof system does not support verifiable aggregation")

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


def prove_job(job: tuple[ProofSystem, Weights]) -> ProofResult:
    """One proof, for ``ProcessPoolExecutor.map``: ``job`` is (a proof system, weights); the worker's peak RSS rides
    in the timings."""
    system, weights = job
    result = system.prove(weights)
    result.timings["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result


def prove_in_subprocess(system: ProofSystem, weights: Weights) -> ProofResult:
    """Prove in a fresh process, so ``timings["peak_rss_mb"]`` is that proof's own peak."""
    with spawn_pool(1) as pool:
        return pool.submit(prove_job, (system, dict(weights))).result()
