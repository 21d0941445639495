"""The accuracy circuit: frozen settings, one setup (pk/vk) per architecture, sample count and SRS.

Build order (ezkl 23.0.5): settings (frozen in circuits/, else gen_settings + calibrate_settings) -> compile_circuit
-> SRS (an operator's ceremony file, or a development SRS generated here) -> setup -> a reference proof, verified,
as a self-test. The weights are private witness values committed inside the proof, so the one pk/vk serves every
client's model of the architecture; clients compile their own weights against the frozen settings. Setup is
deterministic from the compiled circuit and the SRS, so the pk is derived on each node, cached by the content hash
of its inputs, and never shipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.zk import data as zdata
from zkpot.zk.artifacts import cache_root, file_sha256, json_sha256, write_json
from zkpot.zk.commitment import commitment_layout, witness_commitment
from zkpot.zk.model import Arch, Weights, export_accuracy_onnx, init_weights, train

EZKL_VERSION = "23.0.5"
COMMITMENTS = ("polycommit", "hashed")
REFERENCE_SEED = 0
DEFAULT_SAMPLES = 16

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True)
class CircuitSpec:
    """What defines a circuit; together with the frozen settings and the SRS it names the cached artifacts."""

    arch: Arch = field(default_factory=Arch)
    samples: int = DEFAULT_SAMPLES
    commitment: str = "polycommit"
    input_scale: int = 10
    param_scale: int = 10
    num_inner_cols: int = 2

    def __post_init__(self) -> None:
        if self.commitment not in COMMITMENTS:
            raise InputError(f"commitment must be one of {', '.join(COMMITMENTS)}, not {self.commitment!r}")
        if not 1 <= self.samples <= zdata.TEST_SIZE:
            raise InputError(f"samples must lie in 1..{zdata.TEST_SIZE} (the public test set), not {self.samples}")

    @property
    def name(self) -> str:
        return f"n{self.samples}-{self.commitment}-s{self.input_scale}-{self.param_scale}-c{self.num_inner_cols}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["arch"] = self.arch.to_dict()
        d["ezkl"] = EZKL_VERSION
        d["dataset"] = zdata.DATASET_ID
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CircuitSpec:
        try:
            arch = Arch(tuple(int(n) for n in d["arch"]["layers"]))
            return cls(arch, int(d["samples"]), str(d["commitment"]), int(d["input_scale"]), int(d["param_scale"]),
                       int(d["num_inner_cols"]))
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
    return Path(env) if env else Path(__file__).resolve().parents[3] / "circuits"


def frozen_dir(spec: CircuitSpec) -> Path:
    return repo_circuits_dir() / spec.arch.name / spec.name


def task_input(samples: int) -> dict[str, Any]:
    test = zdata.public_test_set(samples)
    return {"input_data": [test.X.flatten().tolist(), test.y.tolist()]}


def reference_weights(spec: CircuitSpec) -> Weights:
    """Deterministic weights compiled into the reference circuit (their values do not reach the vk)."""
    return init_weights(spec.arch, REFERENCE_SEED)


def build(spec: CircuitSpec, *, srs_file: Path | None = None, progress: Progress = _quiet) -> Circuit:
    """Build (or load from the cache) the circuit for ``spec`` with the given SRS (default: development SRS)."""
    if srs_file is not None and not srs_file.is_file():
        raise InputError(f"no such SRS file: {srs_file}")
    settings = load_frozen_settings(spec) or calibrate(spec, progress)
    logrows = int(settings["run_args"]["logrows"])
    srs = srs_file.resolve() if srs_file else dev_srs(logrows, progress)
    srs_sha = file_sha256(srs)
    key = json_sha256({"spec": spec.to_dict(), "settings": json_sha256(settings), "srs": srs_sha})[:24]
    root = cache_root() / "circuits" / key
    with locked(root.with_suffix(".lock")):
        if not (root / "manifest.json").exists():
            _build_into(spec, settings, srs, srs_file is None, root, progress)
    return load(root)


def load(root: Path) -> Circuit:
    """A circuit built earlier into ``root`` (e.g. the shared volume the setup job wrote)."""
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no circuit at {root} (run `zkpot circuit setup`)") from e
    return Circuit(CircuitSpec.from_dict(manifest["spec"]), root, manifest)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Serialize builds of one circuit across processes (devnet services start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def load_frozen_settings(spec: CircuitSpec) -> dict[str, Any] | None:
    path = frozen_dir(spec) / "settings.json"
    return json.loads(path.read_text()) if path.exists() else None


def calibrate(spec: CircuitSpec, progress: Progress = _quiet) -> dict[str, Any]:
    """Settings for ``spec`` calibrated on a trained reference model (trained weights span wider ranges)."""
    import tempfile

    import ezkl

    pool, _ = zdata.split()
    trained = train(spec.arch, reference_weights(spec), pool, epochs=20, seed=REFERENCE_SEED)
    with tempfile.TemporaryDirectory(prefix="zkpot-calibrate-") as tmp:
        work = Path(tmp)
        progress("calibrating settings on a trained reference model")
        export_accuracy_onnx(spec.arch, trained, spec.samples, work / "model.onnx")
        write_json(work / "input.json", task_input(spec.samples))
        ezkl.gen_settings(str(work / "model.onnx"), str(work / "settings.json"), py_run_args=_run_args(spec))
        ezkl.calibrate_settings(str(work / "input.json"), str(work / "model.onnx"), str(work / "settings.json"),
                                "resources", lookup_safety_margin=2.0, scales=[spec.input_scale],
                                scale_rebase_multiplier=[1], max_logrows=22)
        settings: dict[str, Any] = json.loads((work / "settings.json").read_text())
    return settings


def _run_args(spec: CircuitSpec) -> Any:
    import ezkl

    args: Any = ezkl.PyRunArgs()  # the stubs of ezkl 23.0.5 miss its attributes
    args.input_visibility = "public"
    args.output_visibility = "public"
    args.param_visibility = spec.commitment
    args.input_scale = spec.input_scale
    args.param_scale = spec.param_scale
    args.num_inner_cols = spec.num_inner_cols
    return args


def dev_srs(logrows: int, progress: Progress = _quiet) -> Path:
    """This machine's development SRS for 2^logrows rows (insecure: its toxic waste is not destroyed).

    One per size, shared by every local party: all parties must use the same SRS, and gen_srs draws fresh
    randomness on each call.
    """
    import ezkl

    path = cache_root() / "srs" / f"dev-k{logrows}.srs"
    with locked(path.with_suffix(".lock")):
        if not path.exists():
            progress(f"generating a DEVELOPMENT SRS (2^{logrows}, insecure: not from a ceremony)")
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            ezkl.gen_srs(str(tmp), logrows)
            os.replace(tmp, path)
    return path


def _build_into(spec: CircuitSpec, settings: dict[str, Any], srs: Path, dev: bool, root: Path,
                progress: Progress) -> None:
    import ezkl

    work = root.with_name(root.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    progress("compiling the reference circuit")
    export_accuracy_onnx(spec.arch, reference_weights(spec), spec.samples, work / "reference.onnx")
    write_json(work / "settings.json", settings)
    write_json(work / "input.json", task_input(spec.samples))
    ezkl.compile_circuit(str(work / "reference.onnx"), str(work / "reference.compiled"), str(work / "settings.json"))
    shutil.copyfile(srs, work / "kzg.srs")
    timings["compile_s"] = round(time.perf_counter() - t, 3)
    progress(f"deriving proving and verifying keys (2^{settings['run_args']['logrows']} rows)")
    t = time.perf_counter()
    ezkl.setup(str(work / "reference.compiled"), str(work / "vk.key"), str(work / "pk.key"),  # type: ignore[call-arg]
               srs_path=str(work / "kzg.srs"))
    timings["setup_s"] = round(time.perf_counter() - t, 3)
    manifest = _manifest(spec, settings, work, dev, timings)
    write_json(work / "manifest.json", manifest)
    progress("self-test: proving and verifying the reference model")
    _self_test(load(work))
    shutil.rmtree(root, ignore_errors=True)
    os.replace(work, root)


def _manifest(spec: CircuitSpec, settings: dict[str, Any], work: Path, dev: bool,
              timings: dict[str, float]) -> dict[str, Any]:
    import ezkl

    from zkpot.zk.prover import instances_digest

    ezkl.gen_witness(str(work / "input.json"), str(work / "reference.compiled"), str(work / "witness.json"),
                     vk_path=str(work / "vk.key"), srs_path=str(work / "kzg.srs"))
    wit = json.loads((work / "witness.json").read_text())
    return {
        "spec": spec.to_dict(),
        "name": spec.name,
        "logrows": int(settings["run_args"]["logrows"]),
        "settings_sha256": json_sha256(settings),
        "vk_sha256": file_sha256(work / "vk.key"),
        "srs_sha256": file_sha256(work / "kzg.srs"),
        "srs_kind": "development (generated on this machine, insecure)" if dev else "operator-supplied",
        "pk_bytes": (work / "pk.key").stat().st_size,
        "test_set_sha256": zdata.public_test_set(spec.samples).content_hash(),
        "instances_digest": instances_digest(wit["inputs"]),
        "commitment_layout": commitment_layout(spec.commitment, wit),
        "reference_commitment": witness_commitment(spec.commitment, wit),
        "timings": timings,
    }


def _self_test(circuit: Circuit) -> None:
    """Prove and verify the reference model once, so a broken setup fails here rather than in a round."""
    from zkpot.zk.prover import prove
    from zkpot.zk.verifier import ProofVerifier

    result = prove(circuit, reference_weights(circuit.spec))
    claims = ProofVerifier(circuit).check(result.proof)
    if claims.commitment != circuit.manifest["reference_commitment"]:
        raise CircuitError("self-test: the proof's commitment differs from the witness commitment")
    timings = dict(circuit.manifest["timings"], self_test_prove_s=result.timings["prove_s"])
    circuit.manifest["timings"] = timings
    write_json(circuit.root / "manifest.json", circuit.manifest)


def freeze(circuit: Circuit) -> Path:
    """Write the circuit's spec, settings and artifact hashes into the source tree (circuits/<arch>/<name>/)."""
    out = frozen_dir(circuit.spec)
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(circuit.settings, out / "settings.json")
    write_json(out / "spec.json", circuit.spec.to_dict())
    keep = ("name", "logrows", "settings_sha256", "test_set_sha256", "instances_digest",
            "commitment_layout", "pk_bytes")
    write_json(out / "manifest.json", {k: circuit.manifest[k] for k in keep})
    return out


class CircuitError(InputError):
    """The circuit could not be built or used."""
