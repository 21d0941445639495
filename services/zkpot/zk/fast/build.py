"""Building the fast circuit: one settings file and compiled reference per chunk size, one pk/vk per chunk.

The chunk's test samples are fixed columns, so ezkl's setup reads them from a witness and each chunk gets its own
keys; the verifying key's hash therefore identifies the chunk's samples and labels. Setup is deterministic from
the compiled circuit, the samples and the SRS, so every node re-derives the same keys; they are cached under
``cache_root()/fast/<key>`` by the content hash of the spec and the SRS, and never committed or shipped.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.pool import peak_rss_mb
from zkpot.zk.artifacts import cache_root, file_sha256, settings_sha256, write_json
from zkpot.zk.commitment import commitment_layout, witness_commitment
from zkpot.zk.common import (
    DEVELOPMENT_SRS,
    Progress,
    canonical_settings,
    dev_srs,
    locked,
    quiet,
    reference_weights,
)
from zkpot.zk.fast import graph
from zkpot.zk.fast.prove import prove_accuracy
from zkpot.zk.fast.spec import MIN_LOGROWS, RESERVED_ROWS, FastCircuit, FastCircuitSpec
from zkpot.zk.fast.verify import verify


def binding_digest(chunks: list[dict[str, Any]]) -> str:
    """sha256 over each chunk's bounds and vk hash, in order: the test-set binding recorded in genesis."""
    text = "|".join(f"{c['start']}:{c['stop']}:{c['vk_sha256']}" for c in chunks)
    return hashlib.sha256(text.encode()).hexdigest()


def build(spec: FastCircuitSpec, *, srs_file: Path | None = None, self_test: bool = True,
          progress: Progress = quiet) -> FastCircuit:
    """Build (or load from the cache) the chunk circuits of ``spec`` over the given SRS (default: development)."""
    if srs_file is not None and not srs_file.is_file():
        raise InputError(f"no such SRS file: {srs_file}")
    srs = srs_file.resolve() if srs_file else dev_srs(spec.logrows, progress)
    root = cache_root() / "fast" / spec.key(file_sha256(srs))
    with locked(root.with_suffix(".lock")):
        if not (root / "manifest.json").exists():
            try:
                _build_into(spec, srs, srs_file is None, root, progress)
            finally:  # gone after a success (moved into place); a failure leaves no half-build
                shutil.rmtree(root.with_name(root.name + f".tmp{os.getpid()}"), ignore_errors=True)
    circuit = load(root)
    if self_test and "self_test" not in circuit.manifest:
        _self_test(circuit, progress)
    return circuit


def load(root: Path) -> FastCircuit:
    try:
        manifest = json.loads((root / "manifest.json").read_text())
    except FileNotFoundError as e:
        raise InputError(f"no fast circuit at {root}") from e
    return FastCircuit(FastCircuitSpec.from_dict(manifest["spec"]), root, manifest)


def _build_into(spec: FastCircuitSpec, srs: Path, dev: bool, root: Path, progress: Progress) -> None:
    work = root.with_name(root.name + f".tmp{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copyfile(srs, work / "kzg.srs")
    draft = FastCircuit(spec, work, {})
    timings: dict[str, float] = {}
    t = time.perf_counter()
    sizes = sorted({stop - start for start, stop in spec.chunk_bounds()})
    for size in sizes:
        progress(f"compiling the reference circuit for chunks of {size} samples")
        _compile_reference(draft, size)
    timings["compile_s"] = round(time.perf_counter() - t, 3)
    chunks = []
    for i, (start, stop) in enumerate(spec.chunk_bounds()):
        progress(f"deriving keys for chunk {i + 1}/{spec.chunks} (2^{spec.logrows} rows)")
        chunks.append(_setup_chunk(draft, i, start, stop))
    timings["setup_s"] = round(sum(c["setup_s"] for c in chunks), 3)
    timings["setup_peak_rss_mb"] = peak_rss_mb()
    write_json(work / "manifest.json", _manifest(draft, sizes, chunks, dev, timings))
    shutil.rmtree(root, ignore_errors=True)
    os.replace(work, root)


def fit_logrows(spec: FastCircuitSpec) -> FastCircuitSpec:
    """``spec`` with the smallest logrows whose one column block holds its largest chunk (rows from ezkl)."""
    size = max(b - a for a, b in spec.chunk_bounds())
    with tempfile.TemporaryDirectory(prefix="zkpot-fit-") as tmp:
        rows = int(_reference_settings(spec, size, Path(tmp))["num_rows"])
    return replace(spec, logrows=max(MIN_LOGROWS, math.ceil(math.log2(rows + RESERVED_ROWS))))


def _reference_settings(spec: FastCircuitSpec, size: int, d: Path) -> dict[str, Any]:
    """Export the reference graph for ``size`` samples into ``d`` and generate its settings there."""
    import ezkl

    d.mkdir(parents=True, exist_ok=True)
    graph.export(spec.arch, reference_weights(spec.arch), size, d / "reference.onnx")
    args = ezkl.PyRunArgs()
    for name, value in spec.run_args().items():
        setattr(args, name, value)
    ezkl.gen_settings(str(d / "reference.onnx"), str(d / "settings.json"), py_run_args=args)
    settings = canonical_settings(json.loads((d / "settings.json").read_text()))
    write_json(d / "settings.json", settings)  # compile and setup read this order, so every node derives one vk
    return settings


def _compile_reference(c: FastCircuit, size: int) -> None:
    import ezkl

    d = c.size_dir(size)
    _reference_settings(c.spec, size, d)
    ezkl.compile_circuit(str(d / "reference.onnx"), str(d / "reference.compiled"), str(d / "settings.json"))


def _setup_chunk(c: FastCircuit, index: int, start: int, stop: int) -> dict[str, Any]:
    import ezkl

    d = c.chunk_dir(index)
    d.mkdir(parents=True, exist_ok=True)
    data = _chunk_data(c.spec.task, start, stop)
    write_json(c.input_json(index), graph.graph_input(data))
    compiled = c.size_dir(stop - start) / "reference.compiled"
    # fixed inputs: setup takes their values from a witness (made before any vk exists, so without commitments)
    ezkl.gen_witness(str(c.input_json(index)), str(compiled), str(d / "fixed.json"), vk_path=None, srs_path=None)
    t = time.perf_counter()
    ezkl.setup(str(compiled), str(c.vk(index)), str(c.pk(index)), srs_path=str(c.srs),
               witness_path=str(d / "fixed.json"), disable_selector_compression=False)
    setup_s = time.perf_counter() - t
    (d / "fixed.json").unlink()
    return {"index": index, "start": start, "stop": stop, "test_set_sha256": data.content_hash(),
            "vk_sha256": file_sha256(c.vk(index)), "pk_bytes": c.pk(index).stat().st_size,
            "setup_s": round(setup_s, 3)}


def _chunk_data(task: str, start: int, stop: int) -> zdata.Dataset:
    test = zdata.split(task)[1]
    return zdata.Dataset(test.X[start:stop], test.y[start:stop])


def _manifest(c: FastCircuit, sizes: list[int], chunks: list[dict[str, Any]], dev: bool,
              timings: dict[str, float]) -> dict[str, Any]:
    import ezkl

    size = chunks[0]["stop"] - chunks[0]["start"]
    witness_path = c.chunk_dir(0) / "reference-witness.json"
    ezkl.gen_witness(str(c.input_json(0)), str(c.size_dir(size) / "reference.compiled"), str(witness_path),
                     vk_path=str(c.vk(0)), srs_path=str(c.srs))
    wit = json.loads(witness_path.read_text())
    witness_path.unlink()
    return {
        "spec": c.spec.to_dict(),
        "name": c.spec.name,
        "key": c.root.name.split(".tmp")[0],
        "logrows": c.spec.logrows,
        "sizes": {str(s): {"settings_sha256": settings_sha256(json.loads(c.settings(s).read_text()))} for s in sizes},
        "srs_sha256": file_sha256(c.srs),
        "srs_kind": DEVELOPMENT_SRS if dev else "operator-supplied",
        "test_set_sha256": zdata.public_test_set(c.spec.samples, c.spec.task).content_hash(),
        "chunks": chunks,
        "instances_digest": binding_digest(chunks),
        "commitment_layout": commitment_layout("polycommit", wit),
        "reference_commitment": witness_commitment("polycommit", wit),
        "pk_bytes": sum(ch["pk_bytes"] for ch in chunks),
        "timings": timings,
    }


def _self_test(circuit: FastCircuit, progress: Progress) -> None:
    """Prove and verify the reference model once, so a broken setup fails here rather than in a round."""
    progress("self-test: proving and verifying the reference model")
    result = prove_accuracy(circuit, reference_weights(circuit.spec.arch))
    commitment, correct, samples = verify(circuit, result.to_bytes())
    if commitment != circuit.manifest["reference_commitment"] or correct != result.correct:
        raise InputError("self-test: the proof's claims differ from the witness")
    circuit.manifest["self_test"] = {"prove_s": result.timings["prove_s"], "correct": correct, "samples": samples}
    write_json(circuit.root / "manifest.json", circuit.manifest)
