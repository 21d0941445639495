"""`zkpot bench prove`: the performance baseline — train, set up, prove, verify, one JSON line of figures."""

from __future__ import annotations

import argparse

from zkpot.bench.prove import bench_prove
from zkpot.cli.ui import err, out, print_json
from zkpot.ml import model as zmodel
from zkpot.zk.plain.spec import COMMITMENTS, DEFAULT_SAMPLES, CircuitSpec


def cmd_bench_prove(args: argparse.Namespace) -> int:
    spec = CircuitSpec(arch=zmodel.Arch.parse(args.arch), samples=args.samples, commitment=args.commitment)
    figures = bench_prove(spec, progress=lambda text: err.print(f"· {text}"))
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
    p.add_argument("--samples", type=int, default=DEFAULT_SAMPLES)
    p.add_argument("--arch", default="mlp-64-32-10")
    p.add_argument("--commitment", choices=COMMITMENTS, default="polycommit")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_bench_prove)
