"""What a task's accuracy proof costs: the fast circuit over N public test samples, built, proven and verified.

Each build and each proof runs in a fresh process (``measure.run_measured``) so its wall time, CPU time and peak
RSS are its own. The model is a member's (shard 0 of ``clients``, trained from the genesis initial model), and
every row checks that the proof's count equals the quantized model's count (``zk.fast.quantized``) and reports the
float model's count beside them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkpot.bench.measure import run_measured
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.task import INITIAL_MODEL_SEED
from zkpot.zk.fast import build as fbuild
from zkpot.zk.fast.quantized import quantized_count
from zkpot.zk.fast.system import FastSystem, fast_spec


def _build(task: str, samples: int) -> dict[str, Any]:
    system = FastSystem(fbuild.build(fbuild.fit_logrows(fast_spec(samples, task)), self_test=False))
    return {"root": str(system.root), "logrows": system.circuit.spec.logrows, "chunks": system.circuit.spec.chunks,
            "pk_bytes": system.pk_bytes}


def _prove(root: str, weights: zmodel.Weights, workers: int) -> dict[str, Any]:
    from zkpot.zk.fast.prove import prove_accuracy
    from zkpot.zk.fast.verify import verify

    circuit = fbuild.load(Path(root))
    proof = prove_accuracy(circuit, weights, workers=workers)
    commitment, correct, samples = verify(circuit, proof.to_bytes())
    return {"correct": correct, "samples": samples, "proof_bytes": len(proof.to_bytes()),
            "claims_match": commitment == proof.commitment and correct == proof.correct}


def measure(task: str, samples: int, *, clients: int = 10, epochs: int = 5, workers: int = 1,
            progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """One row: build (or take from the cache) and prove over the first ``samples`` of ``task``'s test set."""
    progress(f"{task}: building the fast circuit over {samples} samples")
    built = run_measured(_build, task, samples)
    arch = zmodel.Arch.default(task)
    weights = zmodel.train(arch, zmodel.init_weights(arch, INITIAL_MODEL_SEED),
                           zdata.client_shard(0, clients, task=task), epochs=epochs)
    progress(f"{task}: proving {samples} samples in {built.value['chunks']} chunks")
    proved = run_measured(_prove, built.value["root"], weights, workers)
    test = zdata.public_test_set(samples, task)
    spec = fbuild.load(Path(built.value["root"])).spec
    return {
        "task": task, "arch": arch.name, "samples": samples, "chunks": built.value["chunks"],
        "logrows": built.value["logrows"], "pk_bytes": built.value["pk_bytes"],
        "build_wall_s": built.wall_s, "build_cpu_s": built.cpu_s, "build_peak_rss_mb": built.peak_rss_mb,
        "prove_wall_s": proved.wall_s, "prove_cpu_s": proved.cpu_s, "prove_peak_rss_mb": proved.peak_rss_mb,
        "workers": workers, "proof_bytes": proved.value["proof_bytes"],
        "proven_correct": proved.value["correct"], "quantized_correct": quantized_count(spec, weights, test),
        "float_correct": zmodel.count_correct(arch, weights, test), "claims_match": proved.value["claims_match"],
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as a markdown table."""
    head = ("| task | samples | chunks × 2^k rows | prove wall s | prove CPU s | prove peak RSS MB | proof bytes | "
            "pk bytes | proven / quantized / float count | setup wall s (cold) |")
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(f"| {r['task']} ({r['arch']}) | {r['samples']} | {r['chunks']} × 2^{r['logrows']} | "
                     f"{r['prove_wall_s']:.1f} | {r['prove_cpu_s']:.1f} | {r['prove_peak_rss_mb']:.0f} | "
                     f"{r['proof_bytes']:,} | {r['pk_bytes']:,} | {r['proven_correct']} / {r['quantized_correct']} / "
                     f"{r['float_correct']} | {r['build_wall_s']:.1f} |")
    return "\n".join(lines)
