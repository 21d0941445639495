"""What defines a plain accuracy circuit, where its frozen settings live, and its public input."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import tasks
from zkpot.ml.model import Arch
from zkpot.zk.common import EZKL_VERSION

COMMITMENTS = ("polycommit", "hashed")
DEFAULT_SAMPLES = 16


@dataclass(frozen=True)
class CircuitSpec:
    """What defines a circuit; together with the frozen settings and the SRS it names the cached artifacts."""

    arch: Arch = field(default_factory=Arch)
    samples: int = DEFAULT_SAMPLES
    commitment: str = "polycommit"
    input_scale: int = 10
    param_scale: int = 10
    num_inner_cols: int = 2
    task: str = tasks.DEFAULT_TASK  # whose public test set (zkpot.ml.tasks); the spec's dict records its dataset

    def __post_init__(self) -> None:
        if self.commitment not in COMMITMENTS:
            raise InputError(f"commitment must be one of {', '.join(COMMITMENTS)}, not {self.commitment!r}")
        t = tasks.get(self.task)
        if self.arch.layers[0] != t.n_features or self.arch.layers[-1] != t.n_classes:
            raise InputError(f"{self.arch.name} does not fit the {t.name} task ({t.n_features} features, "
                             f"{t.n_classes} classes)")
        if not 1 <= self.samples <= t.test_size:
            raise InputError(f"samples must lie in 1..{t.test_size} (the {t.name} public test set), "
                             f"not {self.samples}")

    @property
    def name(self) -> str:
        prefix = "" if self.task == tasks.DEFAULT_TASK else f"{self.task}-"
        return (f"{prefix}n{self.samples}-{self.commitment}-s{self.input_scale}-{self.param_scale}"
                f"-c{self.num_inner_cols}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arch"] = self.arch.to_dict()
        d["ezkl"] = EZKL_VERSION
        del d["task"]  # the dataset names it
        d["dataset"] = tasks.get(self.task).dataset_id
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CircuitSpec:
        try:
            arch = Arch(tuple(int(n) for n in d["arch"]["layers"]))
            task = tasks.by_dataset(str(d.get("dataset", zdata.DATASET_ID))).name
            return cls(arch, int(d["samples"]), str(d["commitment"]), int(d["input_scale"]), int(d["param_scale"]),
                       int(d["num_inner_cols"]), task)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"not a circuit spec: {e}") from e


@dataclass
class Circuit:
    """A built circuit: the folder of its artifacts and the manifest that names them by hash."""

    spec: CircuitSpec
    root: Path
    manifest: dict[str, Any]

    settings = property(lambda self: self.root / "settings.json")
    compiled = property(lambda self: self.root / "reference.compiled")
    vk = property(lambda self: self.root / "vk.key")
    pk = property(lambda self: self.root / "pk.key")
    input_json = property(lambda self: self.root / "input.json")
    srs = property(lambda self: self.root / "kzg.srs")

    @property
    def logrows(self) -> int:
        return int(self.manifest["logrows"])

    @property
    def layout(self) -> dict[str, Any]:
        return dict(self.manifest["commitment_layout"])


def repo_circuits_dir() -> Path:
    """Where frozen circuit specs live: $ZKPOT_CIRCUITS, else circuits/ at the top of the source checkout."""
    env = os.environ.get("ZKPOT_CIRCUITS")
    return Path(env) if env else Path(__file__).resolve().parents[4] / "circuits"


def frozen_dir(spec: CircuitSpec) -> Path:
    return repo_circuits_dir() / spec.arch.name / spec.name


def task_input(samples: int, task: str = tasks.DEFAULT_TASK) -> dict[str, Any]:
    test = zdata.public_test_set(samples, task)
    return {"input_data": [test.X.flatten().tolist(), test.y.tolist()]}


def load_frozen_settings(spec: CircuitSpec) -> dict[str, Any] | None:
    path = frozen_dir(spec) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else None
