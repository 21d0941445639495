"""What defines a fast accuracy circuit, and the pure rules derived from it: chunk bounds, ezkl run args, and the
value range the circuit can hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import tasks
from zkpot.ml.model import Arch, check_weights
from zkpot.zk.artifacts import json_sha256
from zkpot.zk.common import EZKL_VERSION

MIN_LOGROWS = 12
RESERVED_ROWS = 64  # blinding rows and ezkl's padding at the bottom of every column
GRAPH_VERSION = "fast-accuracy/2"  # bump when zk/fast/graph.py changes the exported graph: it names the cache
# Headroom kept below the decomposition range: quantized values differ from the float ones by a little.
MAX_CHUNK_SAMPLES = 78  # the most test samples one 2^15-row chunk circuit holds
RANGE_HEADROOM = 0.9
MAX_ABS_WEIGHT = 2.0**20


def chunks_for(samples: int, per_chunk: int = MAX_CHUNK_SAMPLES) -> int:
    """How many chunks keep each at most ``per_chunk`` samples."""
    return max(1, -(-samples // per_chunk))


@dataclass(frozen=True)
class FastCircuitSpec:
    """A fast accuracy circuit: the first ``samples`` public test samples split into ``chunks`` proofs.

    Every chunk circuit has the same settings and the same ``logrows`` so that all of a model's chunk proofs
    expose the same KZG weight commitment; each chunk's samples are fixed columns of its own pk/vk.
    """

    arch: Arch = field(default_factory=Arch)
    samples: int = zdata.TEST_SIZE
    chunks: int = 7  # 77-78 samples each: MAX_CHUNK_SAMPLES at most
    logrows: int = 15
    input_scale: int = 4  # digits/16: every feature is exact at scale 4
    param_scale: int = 8
    num_inner_cols: int = 2
    decomp_base: int = 16384
    decomp_legs: int = 2
    task: str = tasks.DEFAULT_TASK  # whose public test set (zkpot.ml.tasks); the spec's dict records its dataset

    def __post_init__(self) -> None:
        t = tasks.get(self.task)
        if self.arch.layers[0] != t.n_features or self.arch.layers[-1] != t.n_classes:
            raise InputError(f"{self.arch.name} does not fit the {t.name} task ({t.n_features} features, "
                             f"{t.n_classes} classes)")
        if not 1 <= self.samples <= t.test_size:
            raise InputError(f"samples must lie in 1..{t.test_size} (the {t.name} public test set), "
                             f"not {self.samples}")
        if not 1 <= self.chunks <= self.samples:
            raise InputError(f"chunks must lie in 1..{self.samples}, not {self.chunks}")
        if not 10 <= self.logrows <= 24:
            raise InputError(f"logrows must lie in 10..24, not {self.logrows}")
        if self.decomp_base < 2 or self.decomp_base & (self.decomp_base - 1) or self.decomp_legs < 1:
            raise InputError("decomp_base must be a power of two and decomp_legs at least 1")

    @property
    def name(self) -> str:
        prefix = "" if self.task == tasks.DEFAULT_TASK else f"{self.task}-"
        return (f"{prefix}fast-n{self.samples}-x{self.chunks}-k{self.logrows}-s{self.input_scale}-{self.param_scale}"
                f"-c{self.num_inner_cols}")

    def chunk_bounds(self) -> list[tuple[int, int]]:
        """[start, stop) of each chunk over the test set; sizes differ by at most one, larger chunks first."""
        size, extra = divmod(self.samples, self.chunks)
        bounds, start = [], 0
        for i in range(self.chunks):
            stop = start + size + (1 if i < extra else 0)
            bounds.append((start, stop))
            start = stop
        return bounds

    def run_args(self) -> dict[str, Any]:
        """ezkl PyRunArgs fields: fixed test inputs, public count, polycommit weights, no rescaling."""
        return {
            "input_visibility": "fixed",
            "output_visibility": "public",
            "param_visibility": "polycommit",
            "input_scale": self.input_scale,
            "param_scale": self.param_scale,
            # never divide back to the input scale: the count needs only comparisons, and a division costs rows
            "scale_rebase_multiplier": 1000,
            # the inputs are constants of the circuit and the output is a count: nothing to range-check
            "ignore_range_check_inputs_outputs": True,
            "logrows": self.logrows,
            "num_inner_cols": self.num_inner_cols,
            "decomp_base": self.decomp_base,
            "decomp_legs": self.decomp_legs,
        }

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arch"] = self.arch.to_dict()
        del d["task"]  # the dataset names it (and digits specs keep the dict, so the cache key, they always had)
        d.update(ezkl=EZKL_VERSION, dataset=tasks.get(self.task).dataset_id, graph=GRAPH_VERSION)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FastCircuitSpec:
        try:
            fields = {k: int(d[k]) for k in ("samples", "chunks", "logrows", "input_scale", "param_scale",
                                              "num_inner_cols", "decomp_base", "decomp_legs")}
            task = tasks.by_dataset(str(d.get("dataset", zdata.DATASET_ID))).name
            return cls(arch=Arch(tuple(int(n) for n in d["arch"]["layers"])), task=task, **fields)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"not a fast circuit spec: {e}") from e

    def key(self, srs_sha256: str) -> str:
        return json_sha256({"spec": self.to_dict(), "srs": srs_sha256})[:24]


def range_bounds(spec: FastCircuitSpec) -> tuple[float, float]:
    """(largest |pre-activation| of any hidden layer, largest |L_label - L_j|) the sign decompositions hold.

    The graph carries layer i's output times 2**i at scale input + (i + 1) * param; a decomposition holds
    magnitudes below base**legs.
    """
    limit = float(spec.decomp_base) ** spec.decomp_legs
    n_lin = len(spec.arch.layers) - 1
    hidden = min((limit / 2.0 ** (i + spec.input_scale + (i + 1) * spec.param_scale) for i in range(n_lin - 1)),
                 default=float("inf"))
    gap = limit / 2.0 ** (n_lin - 1 + spec.input_scale + n_lin * spec.param_scale)
    return hidden, gap


def check_in_range(spec: FastCircuitSpec, weights: Mapping[str, np.ndarray], data: zdata.Dataset) -> None:
    """Refuse, with the reason, a model whose values would overflow the circuit (its proof could not be made)."""
    w = check_weights(spec.arch, weights)
    biggest = max(float(np.max(np.abs(a))) for a in w.values())
    if biggest > MAX_ABS_WEIGHT:
        raise InputError(f"model weight magnitude {biggest:.3g} exceeds the circuit's limit {MAX_ABS_WEIGHT:.3g}")
    hidden_max, gap_max = (b * RANGE_HEADROOM for b in range_bounds(spec))
    h = data.X.astype(np.float64)
    n_lin = len(spec.arch.layers) - 1
    for i in range(n_lin - 1):
        h = h @ w[f"fc{i}.weight"].astype(np.float64).T + w[f"fc{i}.bias"]
        if np.max(np.abs(h), initial=0.0) > hidden_max:
            raise InputError(f"hidden layer {i} reaches {np.max(np.abs(h)):.1f}; this circuit holds below "
                             f"{hidden_max:.1f} (raise decomp_legs or lower param_scale)")
        h = np.maximum(h, 0.0)
    out = h @ w[f"fc{n_lin - 1}.weight"].astype(np.float64).T + w[f"fc{n_lin - 1}.bias"]
    gap = float(np.max(np.abs(out[np.arange(len(data)), data.y][:, None] - out), initial=0.0))
    if gap > gap_max:
        raise InputError(f"the model's logit gap reaches {gap:.1f}; this circuit holds gaps below {gap_max:.1f} "
                         "(raise decomp_legs or lower param_scale)")


@dataclass
class FastCircuit:
    """A built fast circuit: its folder and the manifest naming every artifact by hash."""

    spec: FastCircuitSpec
    root: Path
    manifest: dict[str, Any]

    srs = property(lambda self: self.root / "kzg.srs")

    @property
    def logrows(self) -> int:
        return self.spec.logrows

    @property
    def layout(self) -> dict[str, Any]:
        return dict(self.manifest["commitment_layout"])

    @property
    def binding_digest(self) -> str:
        """What a proof bundle is checked against instead of public test-set instances: see `binding_digest`."""
        return str(self.manifest["instances_digest"])

    def size_dir(self, size: int) -> Path:
        return self.root / f"size-{size}"

    def settings(self, size: int) -> Path:
        return self.size_dir(size) / "settings.json"

    def chunk_dir(self, index: int) -> Path:
        return self.root / f"chunk-{index:02d}"

    def vk(self, index: int) -> Path:
        return self.chunk_dir(index) / "vk.key"

    def pk(self, index: int) -> Path:
        return self.chunk_dir(index) / "pk.key"

    def input_json(self, index: int) -> Path:
        return self.chunk_dir(index) / "input.json"
