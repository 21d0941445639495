"""`zkpot bench compare` and `zkpot bench sweep`: plain ezkl and the fast pipeline on the same trained model and
samples, each set up and proved in its own child process (so each peak RSS is its own), verified here.

A baseline larger than ``baseline_max`` samples is not run: the baseline is measured at ``baseline_max`` samples and
its prove time is extrapolated linearly in N, labelled as such; the speedup is then a ratio of measured
throughputs (samples proved per second), never of an extrapolated time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from zkpot.bench import single
from zkpot.bench.measure import run_measured
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.zk.fast.build import build as build_fast
from zkpot.zk.fast.build import fit_logrows
from zkpot.zk.fast.prove import prove_accuracy
from zkpot.zk.fast.spec import MAX_CHUNK_SAMPLES, FastCircuitSpec, chunks_for
from zkpot.zk.fast.verify import verify as verify_fast

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def trained_model(arch: zmodel.Arch, *, clients: int = 4, epochs: int = 30) -> zmodel.Weights:
    """Client 0's model trained on its shard, as `zkpot bench prove` trains it."""
    return zmodel.train(arch, zmodel.init_weights(arch, 1), zdata.client_shard(0, clients), epochs=epochs)


def fast_spec_for(samples: int, per_chunk: int, spec: FastCircuitSpec | None = None) -> FastCircuitSpec:
    """The fast spec for N samples in chunks of at most ``per_chunk``, with the smallest logrows that fits."""
    base = spec or FastCircuitSpec()
    return fit_logrows(replace(base, samples=samples, chunks=chunks_for(samples, per_chunk)))


def measure_fast(spec: FastCircuitSpec, weights: Mapping[str, np.ndarray], workers: int) -> dict[str, Any]:
    run_measured(build_fast, spec, self_test=False)  # in a child: the setup's memory is not the prover's
    circuit = build_fast(spec, self_test=False)
    proved = run_measured(prove_accuracy, circuit, dict(weights), workers=workers)
    bundle = proved.value.to_bytes()
    t = time.perf_counter()
    _, correct, _ = verify_fast(circuit, bundle)
    verify_s = time.perf_counter() - t
    return {
        "samples": spec.samples,
        "prove_s": proved.wall_s,
        "prove_cpu_s": proved.cpu_s,
        "verify_s": round(verify_s, 4),
        "verify_per_chunk_s": round(verify_s / spec.chunks, 4),
        "peak_rss_mb": _rss(proved, workers),
        "proof_bytes": len(bundle),
        "setup_s": circuit.manifest["timings"]["setup_s"],
        "setup_peak_rss_mb": circuit.manifest["timings"].get("setup_peak_rss_mb"),
        "logrows": spec.logrows,
        "chunks": spec.chunks,
        "workers": workers,
        "pk_mb": round(circuit.manifest["pk_bytes"] / 1e6, 1),
        "correct": correct,
    }


def _rss(proved: Any, workers: int) -> float:
    """Peak memory of the proving process tree: with concurrent workers, an upper bound (their peaks added)."""
    if workers <= 1:
        return float(proved.peak_rss_mb)
    return round(proved.peak_rss_mb - proved.workers_rss_mb + workers * proved.workers_rss_mb, 1)


def measure_single(config: single.SingleConfig, arch: zmodel.Arch, samples: int,
                   weights: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Set up (cached) and prove one circuit over all samples, each in a child process; verify here."""
    s = run_measured(single.build, config, arch, samples).value
    proved = run_measured(single.prove, s, dict(weights))
    proof, correct = proved.value
    t = time.perf_counter()
    single.verify(s, proof)
    verify_s = time.perf_counter() - t
    return {
        "samples": samples,
        "prove_s": proved.wall_s,
        "prove_cpu_s": proved.cpu_s,
        "verify_s": round(verify_s, 4),
        "peak_rss_mb": proved.peak_rss_mb,
        "proof_bytes": len(proof),
        "setup_s": s.manifest["timings"]["setup_s"],
        "setup_peak_rss_mb": s.manifest["timings"].get("setup_peak_rss_mb"),
        "logrows": s.manifest["logrows"],
        "scales": s.manifest["scales"],
        "pk_mb": round(s.manifest["pk_bytes"] / 1e6, 1),
        "correct": correct,
    }


def measure_baseline(arch: zmodel.Arch, samples: int, weights: Mapping[str, np.ndarray]) -> dict[str, Any]:
    return measure_single(single.PLAIN, arch, samples, weights)


def compare(samples: int, *, baseline_max: int = 64, per_chunk: int = MAX_CHUNK_SAMPLES, workers: int = 1,
            spec: FastCircuitSpec | None = None, progress: Progress = _quiet) -> dict[str, Any]:
    """The figures `zkpot bench compare --json` prints (see the module docstring)."""
    fast_spec = fast_spec_for(samples, per_chunk, spec)
    arch = fast_spec.arch
    progress("training the client model")
    weights = trained_model(arch)
    measured_n = min(samples, baseline_max)
    progress(f"plain ezkl: setup and proof over {measured_n} samples")
    base = measure_baseline(arch, measured_n, weights)
    progress(f"fast pipeline: setup and proof over {samples} samples in {fast_spec.chunks} chunks")
    fast = measure_fast(fast_spec, weights, workers)
    return summarize(samples, base, fast, zmodel.count_correct(arch, weights, zdata.public_test_set(samples)),
                     zmodel.count_correct(arch, weights, zdata.public_test_set(measured_n)))


def summarize(samples: int, base: dict[str, Any], fast: dict[str, Any], float_correct: int,
              float_correct_base: int) -> dict[str, Any]:
    """The compare document: speedup as a throughput ratio, extrapolation (if any) labelled."""
    measured_n = base["samples"]
    if measured_n < samples:
        base = dict(base, extrapolated_to_samples=samples,
                    prove_s_extrapolated=round(base["prove_s"] * samples / measured_n, 1),
                    note=f"measured at {measured_n} samples; prove_s_extrapolated is linear in N, not a measurement")
    doc: dict[str, Any] = {
        "samples": samples,
        "baseline": base,
        "zkpot": fast,
        "speedup": round((samples / fast["prove_s"]) / (measured_n / base["prove_s"]), 2),
        "speedup_basis": "throughput ratio: samples proved per second, each measured",
        # on a shared machine wall time depends on the neighbours; CPU seconds do not
        "speedup_cpu": round((samples / fast["prove_cpu_s"]) / (measured_n / base["prove_cpu_s"]), 2),
        "counts_equal": fast["correct"] == float_correct and base["correct"] == float_correct_base,
        "float_correct": float_correct,
    }
    if measured_n < samples:
        doc["float_correct_baseline_samples"] = float_correct_base
    return doc


def sweep(ns: list[int], *, baseline_max: int = 64, per_chunk: int = MAX_CHUNK_SAMPLES, workers: int = 1,
          progress: Progress = _quiet) -> list[dict[str, Any]]:
    """Both pipelines at each N (the baseline only up to ``baseline_max``), on one trained model."""
    arch = FastCircuitSpec().arch
    progress("training the client model")
    weights = trained_model(arch)
    rows = []
    for n in ns:
        row: dict[str, Any] = {"samples": n, "float_correct": zmodel.count_correct(arch, weights,
                                                                                  zdata.public_test_set(n))}
        if n <= baseline_max:
            progress(f"N={n}: plain ezkl")
            row["baseline"] = measure_baseline(arch, n, weights)
        progress(f"N={n}: fast pipeline")
        row["zkpot"] = measure_fast(fast_spec_for(n, per_chunk), weights, workers)
        rows.append(row)
    return rows


def ladder(samples: int, names: list[str] | None = None, *, progress: Progress = _quiet) -> list[dict[str, Any]]:
    """The lever rows of docs/performance.md, each a single circuit over ``samples`` samples, one trained model."""
    from zkpot.bench import levers

    arch = FastCircuitSpec().arch
    progress("training the client model")
    weights = trained_model(arch)
    float_correct = zmodel.count_correct(arch, weights, zdata.public_test_set(samples))

    def measure(config: single.SingleConfig) -> dict[str, Any]:
        progress(f"{config.name}: setup and proof over {samples} samples")
        figures = measure_single(config, arch, samples, weights)
        counts = figures["correct"] == float_correct if figures["correct"] >= 0 else None  # None: no count
        return dict(figures, counts_equal=counts)

    return levers.run_levers(names or [c.name for c in levers.LADDER], samples, measure)
