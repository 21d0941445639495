"""One ezkl circuit over all N samples, for a given configuration: plain ezkl (the baseline) and the single-circuit
rungs of the lever ladder in docs/performance.md.

A configuration names the accuracy graph (``argmax``: `zkpot.zk.plain.graph.export_accuracy_onnx`; ``fast``:
`zkpot.zk.fast.graph`), the ezkl run args it overrides, and whether ezkl's default calibration ("resources") picks
scales and logrows; otherwise logrows is the smallest that holds the circuit in one column block. Artifacts are
cached under ``cache_root()/single/<key>``; setup figures are those measured when the keys were derived.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, check_weights
from zkpot.pool import peak_rss_mb
from zkpot.zk.artifacts import cache_root, json_sha256, write_json
from zkpot.zk.common import EZKL_VERSION, dev_srs, felt_to_int, locked, reference_weights
from zkpot.zk.fast import graph
from zkpot.zk.fast.spec import MIN_LOGROWS, RESERVED_ROWS
from zkpot.zk.plain.graph import export_accuracy_onnx
from zkpot.zk.plain.spec import task_input

GRAPHS = ("argmax", "fast", "mlp")  # mlp: the fast graph's MLP alone, logits as a private output


@dataclass(frozen=True)
class SingleConfig:
    name: str
    graph: str = "argmax"
    run_args: tuple[tuple[str, Any], ...] = ()
    calibrate: bool = False
    compress_selectors: bool = True

    def args(self) -> dict[str, Any]:
        return {"input_visibility": "public", "output_visibility": "public", **dict(self.run_args)}


PLAIN = SingleConfig("plain ezkl", run_args=(("param_visibility", "hashed"),), calibrate=True)


@dataclass
class Single:
    config: SingleConfig
    arch: Arch
    samples: int
    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    settings = property(lambda self: self.root / "settings.json")
    vk = property(lambda self: self.root / "vk.key")
    pk = property(lambda self: self.root / "pk.key")
    srs = property(lambda self: self.root / "kzg.srs")
    input_json = property(lambda self: self.root / "input.json")


def build(config: SingleConfig, arch: Arch, samples: int) -> Single:
    """Settings, compile and setup for the first ``samples`` test samples (cached by content hash)."""
    key = json_sha256({"single": config.name, "config": repr(config), "arch": arch.to_dict(), "samples": samples,
                       "ezkl": EZKL_VERSION})[:24]
    root = cache_root() / "single" / key
    with locked(root.with_suffix(".lock")):
        if not (root / "manifest.json").exists():
            work = root.with_name(root.name + f".tmp{os.getpid()}")
            try:
                _build_into(Single(config, arch, samples, work), root)
            finally:
                shutil.rmtree(work, ignore_errors=True)  # gone after a success; a failure leaves no half-build
    return Single(config, arch, samples, root, json.loads((root / "manifest.json").read_text()))


def _build_into(s: Single, root: Path) -> None:
    import ezkl

    shutil.rmtree(s.root, ignore_errors=True)
    s.root.mkdir(parents=True)
    _export(s, reference_weights(s.arch), s.root / "reference.onnx")
    write_json(s.input_json, _input(s))
    timings = {"settings_s": _settings(s)}
    settings = json.loads(s.settings.read_text())
    logrows = int(settings["run_args"]["logrows"])
    shutil.copyfile(dev_srs(logrows), s.srs)
    compiled = _compile(s, s.root / "reference.onnx")
    fixed = None
    if s.config.args().get("input_visibility") == "fixed":  # setup reads fixed inputs from a witness
        fixed = s.root / "fixed.json"
        ezkl.gen_witness(str(s.input_json), str(compiled), str(fixed), vk_path=None, srs_path=None)
    t = time.perf_counter()
    ezkl.setup(str(compiled), str(s.vk), str(s.pk), srs_path=str(s.srs), witness_path=str(fixed) if fixed else None,
               disable_selector_compression=not s.config.compress_selectors)
    timings["setup_s"] = round(time.perf_counter() - t, 3)
    timings["setup_peak_rss_mb"] = peak_rss_mb()  # of the building process (a fresh one under `zkpot bench`)
    write_json(s.root / "manifest.json", {
        "config": s.config.name, "samples": s.samples, "logrows": logrows, "num_rows": settings["num_rows"],
        "scales": [settings["run_args"]["input_scale"], settings["run_args"]["param_scale"]],
        "pk_bytes": s.pk.stat().st_size, "timings": timings,
    })
    shutil.rmtree(root, ignore_errors=True)
    os.replace(s.root, root)


def _export(s: Single, weights: Mapping[str, np.ndarray], path: Path) -> None:
    if s.config.graph in ("fast", "mlp"):
        graph.export(s.arch, weights, s.samples, path, count=s.config.graph == "fast")
    else:
        export_accuracy_onnx(s.arch, weights, s.samples, path)


def _input(s: Single) -> dict[str, Any]:
    if s.config.graph == "mlp":
        return {"input_data": graph.graph_input(zdata.public_test_set(s.samples))["input_data"][:1]}
    if s.config.graph == "fast":
        return graph.graph_input(zdata.public_test_set(s.samples))
    return task_input(s.samples)


def _settings(s: Single) -> float:
    """Write settings.json (calibrated, or with the smallest one-block logrows); returns the seconds it took."""
    import ezkl

    args = ezkl.PyRunArgs()
    for name, value in s.config.args().items():
        setattr(args, name, value)
    onnx_path, t = str(s.root / "reference.onnx"), time.perf_counter()
    ezkl.gen_settings(onnx_path, str(s.settings), py_run_args=args)
    if s.config.calibrate:
        # ezkl's defaults, spelled out: margin 2, every scale, rebase multipliers 1 and 10, no logrows cap
        ezkl.calibrate_settings(str(s.input_json), onnx_path, str(s.settings), "resources", lookup_safety_margin=2.0,
                                scales=None, scale_rebase_multiplier=[1, 10], max_logrows=None)
    elif "logrows" not in s.config.args():
        settings = json.loads(s.settings.read_text())
        rows = settings["num_rows"] + RESERVED_ROWS
        args.logrows = max(MIN_LOGROWS, math.ceil(math.log2(rows)))  # type: ignore[attr-defined]  # not in the stub
        ezkl.gen_settings(onnx_path, str(s.settings), py_run_args=args)
    return round(time.perf_counter() - t, 3)


def _compile(s: Single, onnx_path: Path) -> Path:
    import ezkl

    compiled = onnx_path.with_suffix(".compiled")
    ezkl.compile_circuit(str(onnx_path), str(compiled), str(s.settings))
    return compiled


def prove(s: Single, weights: Mapping[str, np.ndarray]) -> tuple[bytes, int]:
    """(proof file, proven count) for ``weights``: compile against the frozen settings, witness, prove."""
    import ezkl

    with tempfile.TemporaryDirectory(prefix="zkpot-single-") as tmp:
        work = Path(tmp)
        _export(s, check_weights(s.arch, weights), work / "model.onnx")
        compiled = _compile(s, work / "model.onnx")
        ezkl.gen_witness(str(s.input_json), str(compiled), str(work / "witness.json"), vk_path=str(s.vk),
                         srs_path=str(s.srs))
        witness = json.loads((work / "witness.json").read_text())
        ezkl.prove(str(work / "witness.json"), str(compiled), str(s.pk), str(work / "proof.json"),
                   srs_path=str(s.srs))
        correct = felt_to_int(witness["outputs"][-1][-1]) if s.config.graph != "mlp" else -1
        return (work / "proof.json").read_bytes(), correct


def verify(s: Single, proof: bytes) -> bool:
    """ezkl's verify as a plain user calls it (full SRS); raises RuntimeError on an invalid proof."""
    import ezkl

    with tempfile.NamedTemporaryFile(prefix="zkpot-single-proof-", suffix=".json") as f:
        f.write(proof)
        f.flush()
        return bool(ezkl.verify(f.name, str(s.settings), str(s.vk), srs_path=str(s.srs), reduced_srs=False))
