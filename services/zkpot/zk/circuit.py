"""The accuracy circuit: frozen settings, one setup (pk/vk) per architecture and sample count.

Build order (ezkl 23.0.5): gen_settings → calibrate_settings → compile_circuit → gen_srs (development only, or an
operator's ceremony SRS) → setup. Setup runs on a reference model whose weights are private witness values, so
the resulting pk/vk serve every client's model of the architecture; clients compile their own weights against the
frozen settings. The pk is derived (setup is deterministic from the compiled circuit and the SRS), cached by the
content hash of its inputs, and never shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkpot.errors import InputError, ZkpotError
from zkpot.zk import data as zdata
from zkpot.zk.artifacts import cache_root, file_sha256, json_sha256, write_json
from zkpot.zk.model import Arch, Weights, export_accuracy_onnx, init_weights

EZKL_VERSION = "23.0.5"
COMMITMENTS = ("polycommit", "hashed")
REFERENCE_SEED = 0

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class CircuitSpec:
    """What defines a circuit. Its hash names the cache folder of the derived artifacts."""

    arch: Arch = field(default_factory=Arch)
    samples: int = 32
    commitment: str = "polycommit"
    input_scale: int = 7
    param_scale: int = 7
    num_inner_cols: int = 2

    def __post_init__(self) -> None:
        if self.commitment not in COMMITMENTS:
            raise InputError(f"commitment must be one of {', '.join(COMMITMENTS)}, not {self.commitment!r}")
        if not 1 <= self.samples <= 540:
            raise InputError(f"samples must lie in 1..540 (the public test set), not {self.samples}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arch"] = self.arch.to_dict()
        d["ezkl"] = EZKL_VERSION
        d["dataset"] = zdata.DATASET_ID
        return d

    def key(self, srs_sha256: str | None = None) -> str:
        return json_sha256({"spec": self.to_dict(), "srs": srs_sha256 or "dev"})[:24]


@dataclass
class Circuit:
    """A built circuit: paths of its artifacts and the manifest that names them by hash."""

    spec: CircuitSpec
    root: Path
    manifest: dict[str, Any]

    settings = property(lambda self: self.root / "settings.json")
    compiled = property(lambda self: self.root / "reference.compiled")
    vk = property(lambda self: self.root / "vk.key")
    pk = property(lambda self: self.root / "pk.key")
    srs = property(lambda self: Path(self.manifest["srs_path"]))
    input_json = property(lambda self: self.root / "input.json")

    @property
    def logrows(self) -> int:
        return int(self.manifest["logrows"])


def test_input(samples: int) -> dict[str, Any]:
    test = zdata.public_test_set(samples)
    return {"input_data": [test.X.flatten().tolist(), test.y.tolist()]}


def build(
    spec: CircuitSpec,
    *,
    srs_file: Path | None = None,
    root: Path | None = None,
    progress: Progress = _quiet,
) -> Circuit:
    """Build (or load from cache) the circuit for `spec`; returns it with its manifest."""
    srs_sha = file_sha256(srs_file) if srs_file else None
    if srs_file and not srs_file.is_file():
        raise InputError(f"no such SRS file: {srs_file}")
    root = root or cache_root() / "circuits" / spec.key(srs_sha)
    manifest_path = root / "manifest.json"
    if manifest_path.exists() and (root / "pk.key").exists():
        return Circuit(spec, root, json.loads(manifest_path.read_text()))
    root.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    _settings(spec, root, progress, timings)
    srs_path = _srs(root, srs_file, progress, timings)
    manifest = _setup(spec, root, srs_path, srs_file is None, progress, timings)
    write_json(manifest_path, manifest)
    return Circuit(spec, root, manifest)


def _timed(timings: dict[str, float], name: str, fn: Callable[[], Any]) -> Any:
    t = time.perf_counter()
    out = fn()
    timings[name] = round(time.perf_counter() - t, 3)
    return out


def _settings(spec: CircuitSpec, root: Path, progress: Progress, timings: dict[str, float]) -> None:
    import ezkl

    progress("exporting the reference accuracy graph")
    reference = init_weights(spec.arch, REFERENCE_SEED)
    onnx_path = root / "reference.onnx"
    export_accuracy_onnx(spec.arch, reference, spec.samples, onnx_path)
    write_json(root / "input.json", test_input(spec.samples))
    args = ezkl.PyRunArgs()
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = spec.commitment
    args.input_scale = spec.input_scale
    args.param_scale = spec.param_scale
    args.num_inner_cols = spec.num_inner_cols
    progress("generating and calibrating settings")
    settings = str(root / "settings.json")
    _timed(timings, "settings_s", lambda: ezkl.gen_settings(str(onnx_path), settings, py_run_args=args))
    _timed(timings, "calibrate_s", lambda: ezkl.calibrate_settings(
        str(root / "input.json"), str(onnx_path), settings, "resources", lookup_safety_margin=2.0,
        scales=[spec.input_scale], scale_rebase_multiplier=[1], max_logrows=22))
    progress("compiling the reference circuit")
    _timed(timings, "compile_s", lambda: ezkl.compile_circuit(str(onnx_path), str(root / "reference.compiled"),
                                                             settings))


def _srs(root: Path, srs_file: Path | None, progress: Progress, timings: dict[str, float]) -> Path:
    import ezkl

    if srs_file is not None:
        return srs_file.resolve()
    logrows = json.loads((root / "settings.json").read_text())["run_args"]["logrows"]
    # One development SRS per size on this machine, shared by every circuit and every local party: all
    # parties must use the same SRS, and gen_srs draws fresh randomness on each call.
    path = cache_root() / "srs" / f"dev-k{logrows}.srs"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        progress(f"generating a DEVELOPMENT SRS (2^{logrows}, insecure: not from a ceremony)")
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        _timed(timings, "srs_s", lambda: ezkl.gen_srs(str(tmp), logrows))
        os.replace(tmp, path)
    return path


def _setup(spec: CircuitSpec, root: Path, srs: Path, dev_srs: bool, progress: Progress,
           timings: dict[str, float]) -> dict[str, Any]:
    import ezkl

    settings = json.loads((root / "settings.json").read_text())
    progress(f"deriving proving and verifying keys (logrows {settings['run_args']['logrows']})")
    pk_tmp = root / "pk.key.tmp"
    _timed(timings, "setup_s", lambda: ezkl.setup(str(root / "reference.compiled"), str(root / "vk.key"),
                                                  str(pk_tmp), srs_path=str(srs)))
    pk_tmp.replace(root / "pk.key")
    progress("recording the public test-set instances")
    from zkpot.zk.prover import commitment_layout, instances_digest

    ezkl.gen_witness(str(root / "input.json"), str(root / "reference.compiled"), str(root / "witness.json"),
                     vk_path=str(root / "vk.key"), srs_path=str(srs))
    wit = json.loads((root / "witness.json").read_text())
    test = zdata.public_test_set(spec.samples)
    return {
        "spec": spec.to_dict(),
        "key": root.name,
        "logrows": settings["run_args"]["logrows"],
        "settings_sha256": json_sha256(settings),
        "compiled_sha256": file_sha256(root / "reference.compiled"),
        "vk_sha256": file_sha256(root / "vk.key"),
        "srs_sha256": file_sha256(srs),
        "srs_path": str(srs),
        "srs_kind": "development (locally generated, insecure)" if dev_srs else "operator-supplied",
        "pk_bytes": (root / "pk.key").stat().st_size,
        "test_set_sha256": test.content_hash(),
        "instances_digest": instances_digest(wit["inputs"]),
        "commitment_layout": commitment_layout(spec.commitment, wit),
        "timings": timings,
    }


def remove(circuit: Circuit) -> None:
    shutil.rmtree(circuit.root, ignore_errors=True)


def reference_weights(spec: CircuitSpec) -> Weights:
    return init_weights(spec.arch, REFERENCE_SEED)


class CircuitError(ZkpotError):
    """The circuit could not be built or used."""
