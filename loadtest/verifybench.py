"""`python -m loadtest verify`: proof-verification throughput with 1, 2, 4 ... workers.

Each worker stands for one validator's verifier: a process that builds the proof system's checker once (what a
validator runs: ezkl verify plus reading back the commitment, the count and the test-set binding) and checks the
pool's proofs with it. The same proofs are split among the workers; throughput = proofs / wall time.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

from zkpot.cli.ui import print_json, step
from zkpot.pool import spawn_pool
from zkpot.zk.system import ProofSystem

from loadtest import poolgen
from loadtest.stats import percentile, summary

_verifier: Any = None


def _init(system: ProofSystem) -> None:
    global _verifier
    _verifier = system.checker()


def _check(proof: bytes) -> tuple[float, float]:
    """(wall, CPU) seconds of one check in this worker."""
    t, cpu = time.perf_counter(), time.process_time()
    _verifier.check(proof)
    return time.perf_counter() - t, time.process_time() - cpu


def measure(system: ProofSystem, proofs: Sequence[bytes], workers: int, repeat: int = 3) -> dict[str, Any]:
    """Verify every proof ``repeat`` times over (after a warm-up); the median pass gives the throughput."""
    walls: list[float] = []
    each: list[tuple[float, float]] = []
    with spawn_pool(workers, _init, (system,)) as pool:
        list(pool.map(_check, proofs[:workers]))  # warm-up: every worker has checked once
        for _ in range(repeat):
            t = time.perf_counter()
            each += list(pool.map(_check, proofs))
            walls.append(time.perf_counter() - t)
    wall = percentile(walls, 50) or 0.0
    return {"workers": workers, "proofs": len(proofs), "passes": repeat, "wall_s": round(wall, 3),
            "proofs_per_s": round(len(proofs) / wall, 2), "passes_per_s": [round(len(proofs) / w, 2) for w in walls],
            "check_s": summary([w for w, _ in each]), "check_cpu_s": summary([c for _, c in each])}


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest verify", description=__doc__)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--proofs", type=int, default=30, help="distinct pool proofs to verify per measurement")
    p.add_argument("--repeat", type=int, default=3, help="passes over the proofs per worker count")
    from loadtest.system import add_system_args, load_system

    add_system_args(p)
    args = p.parse_args(list(argv))
    system = load_system(args.circuit, args.pipeline, args.samples)
    proofs = [e.proof for e in poolgen.ensure(system, args.proofs)]
    results = []
    for w in args.workers:
        with step(f"verifying {len(proofs)} proofs with {w} worker(s)"):
            results.append(measure(system, proofs, w, args.repeat))
    print_json({"cpus": os.cpu_count(), "loadavg": [round(x, 2) for x in os.getloadavg()],
                "pipeline": system.kind, "circuit": system.manifest["name"], "results": results})
    return 0
