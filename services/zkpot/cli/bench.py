"""`zkpot bench prove`: the performance baseline — train, set up, prove, verify, one JSON line of figures."""

from __future__ import annotations

import argparse
import time
from typing import Any

from zkpot.cli.ui import out, print_json, step
from zkpot.domain.errors import ProofRejected
from zkpot.zk import circuit as zcircuit
from zkpot.zk import data as zdata
from zkpot.zk import model as zmodel
from zkpot.zk.verifier import ProofVerifier
from zkpot.zk.worker import prove_in_subprocess


def bench_prove(spec: zcircuit.CircuitSpec, *, clients: int = 4, epochs: int = 30) -> dict[str, Any]:
    """Figures of one proof of a freshly trained client model; setup figures come from when the keys were derived."""
    with step(f"training a client model ({spec.arch.name})"):
        weights = zmodel.train(spec.arch, zmodel.init_weights(spec.arch, 1), zdata.client_shard(0, clients),
                               epochs=epochs)
    with step(f"setting up the circuit for {spec.samples} samples ({spec.commitment})") as update:
        c = zcircuit.build(spec, progress=update)
    with step("proving in a worker process"):
        result = prove_in_subprocess(c, weights)
    with step("verifying"):
        t = time.perf_counter()
        try:
            ProofVerifier(c).check(result.proof)
            verified = True
        except ProofRejected:
            verified = False
        verify_s = time.perf_counter() - t
    return {
        "samples": spec.samples,
        "commitment": spec.commitment,
        "correct": result.correct,
        "float_correct": zmodel.count_correct(spec.arch, weights, zdata.public_test_set(spec.samples)),
        "logrows": c.logrows,
        "setup_s": c.manifest["timings"]["setup_s"],
        "pk_mb": round(c.manifest["pk_bytes"] / 1e6, 1),
        "witness_s": result.timings["witness_s"],
        "prove_s": result.timings["prove_s"],
        "verify_s": round(verify_s, 3),
        "peak_rss_mb": result.timings["peak_rss_mb"],
        "proof_bytes": len(result.proof),
        "verified": verified,
    }


def cmd_bench_prove(args: argparse.Namespace) -> int:
    spec = zcircuit.CircuitSpec(arch=zmodel.Arch.parse(args.arch), samples=args.samples, commitment=args.commitment)
    figures = bench_prove(spec)
    if args.json:
        print_json(figures)
    else:
        for k, v in figures.items():
            out.print(f"{k:>14}: {v}")
    return 0 if figures["verified"] else 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bsub = bench.add_subparsers(dest="bench_cmd", required=True)
    p = bsub.add_parser("prove", help="train a model, prove and verify its accuracy; print the figures")
    p.add_argument("--samples", type=int, default=zcircuit.DEFAULT_SAMPLES)
    p.add_argument("--arch", default="mlp-64-32-10")
    p.add_argument("--commitment", choices=zcircuit.COMMITMENTS, default="polycommit")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_bench_prove)
