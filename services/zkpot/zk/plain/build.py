"""Building the plain accuracy circuit: frozen settings, one setup (pk/vk) per architecture, sample count and SRS.

Build order (ezkl 23.0.5): settings (frozen in circuits/, else gen_settings + calibrate_settings) -> compile_circuit
-> SRS (an operator's ceremony file, or a development SRS generated here) -> setup -> a reference proof, verified,
as a self-test. The weights are private witness values committed inside the proof, so the one pk/vk serves every
client's model of the architecture; clients compile their own weights against the frozen settings. Setup is
deterministic from the compiled circuit and the SRS, so the pk is derived on each node, cached by the content hash
of its inputs, and never shipped.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml.model import train
from zkpot.zk.artifacts import cache_root, file_sha256, json_sha256, settings_sha256, write_json
from zkpot.zk.commitment import commitment_layout, witness_commitment
from zkpot.zk.common import (
    DEVELOPMENT_SRS,
    REFERENCE_SEED,
    CircuitError,
    Progress,
    canonical_settings,
    dev_srs,
    locked,
    quiet,
    reference_weights,
)
from zkpot.zk.plain.graph import export_accuracy_onnx
from zkpot.zk.plain.prove import instances_digest, prove
from zkpot.zk.plain.spec import Circuit, CircuitSpec, frozen_dir, load_frozen_settings, task_input
from zkpot.zk.plain.verify import ProofVerifier


def build(spec: CircuitSpec, *, srs_file: Path | None = None, progress: Progress = quiet) -> Circuit:
    """Build (or load from the cache) the circuit for ``spec`` with the given SRS (default: development SRS)."""
    if srs_file is not None and not srs_file.is_file():
        raise InputError(f"no such SRS file: {srs_file}")
    settings = load_frozen_settings(spec) or calibrate(spec, progress)
    logrows = int(settings["run_args"]["logrows"])
    srs = srs_file.resolve() if srs_file else dev_srs(logrows, progress)
    srs_sha = file_sha256(srs)
    key = json_sha256({"spec": spec.to_dict(), "settings": settings_sha256(settings), "srs": srs_sha})[:24]
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


def calibrate(spec: CircuitSpec, progress: Progress = quiet) -> dict[str, Any]:
    """Settings for ``spec`` calibrated on a trained reference model (trained weights span wider ranges)."""
    import tempfile

    import ezkl

    pool, _ = zdata.split(spec.task)
    trained = train(spec.arch, reference_weights(spec.arch), pool, epochs=20, seed=REFERENCE_SEED)
    with tempfile.TemporaryDirectory(prefix="zkpot-calibrate-") as tmp:
        work = Path(tmp)
        progress("calibrating settings on a trained reference model")
        export_accuracy_onnx(spec.arch, trained, spec.samples, work / "model.onnx")
        write_json(work / "input.json", task_input(spec.samples, spec.task))
        ezkl.gen_settings(str(work / "model.onnx"), str(work / "settings.json"), py_run_args=_run_args(spec))
        ezkl.calibrate_settings(str(work / "input.json"), str(work / "model.onnx"), str(work / "settings.json"),
                                "resources", lookup_safety_margin=2.0, scales=[spec.input_scale],
                                scale_rebase_multiplier=[1], max_logrows=22)
        settings = canonical_settings(json.loads((work / "settings.json").read_text()))
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


def _build_into(spec: CircuitSpec, settings: dict[str, Any], srs: Path, dev: bool, root: Path,
                progress: Progress) -> None:
    import ezkl

    work = root.with_name(root.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    progress("compiling the reference circuit")
    export_accuracy_onnx(spec.arch, reference_weights(spec.arch), spec.samples, work / "reference.onnx")
    write_json(work / "settings.json", settings)
    write_json(work / "input.json", task_input(spec.samples, spec.task))
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

    ezkl.gen_witness(str(work / "input.json"), str(work / "reference.compiled"), str(work / "witness.json"),
                     vk_path=str(work / "vk.key"), srs_path=str(work / "kzg.srs"))
    wit = json.loads((work / "witness.json").read_text())
    return {
        "spec": spec.to_dict(),
        "name": spec.name,
        "logrows": int(settings["run_args"]["logrows"]),
        "settings_sha256": settings_sha256(settings),
        "vk_sha256": file_sha256(work / "vk.key"),
        "srs_sha256": file_sha256(work / "kzg.srs"),
        "srs_kind": DEVELOPMENT_SRS if dev else "operator-supplied",
        "pk_bytes": (work / "pk.key").stat().st_size,
        "test_set_sha256": zdata.public_test_set(spec.samples, spec.task).content_hash(),
        "instances_digest": instances_digest(wit["inputs"]),
        "commitment_layout": commitment_layout(spec.commitment, wit),
        "reference_commitment": witness_commitment(spec.commitment, wit),
        "timings": timings,
    }


def _self_test(circuit: Circuit) -> None:
    """Prove and verify the reference model once, so a broken setup fails here rather than in a round."""
    result = prove(circuit, reference_weights(circuit.spec.arch))
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
