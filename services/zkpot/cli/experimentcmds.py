"""`zkpot experiment`: run the evaluation (or redraw it from a run.json) and write docs/evaluation.md."""

from __future__ import annotations

import argparse
import json
import platform
import shlex
from pathlib import Path

from zkpot.cli.ui import err, out, print_json
from zkpot.errors import InputError

DEFAULT_OUT = Path("docs/evaluation.md")


def cmd_experiment(args: argparse.Namespace) -> int:
    from zkpot.experiment import report, runner

    if args.from_json:
        result = runner.load(args.from_json)
        if args.network_from:  # join network runs saved by an earlier --network-rounds run, then redraw
            result = runner.attach_network(result, args.network_from)
            result["network_command"] = (f"zkpot experiment --from-json {args.from_json} "
                                         f"--network-from {args.network_from}")
            runner.save(result, args.from_json)
    else:
        proofs = args.proof_bytes or _default_proof_file(args.out)
        result = runner.run(_config(args), proof_bytes=_proof_bytes(proofs),
                            progress=lambda line: err.print(f"[dim]·[/] {line}"),
                            network_dir=args.out.parent / "evaluation" / "network", network_from=args.network_from)
        result["proof_bytes_source"] = str(proofs) if proofs else None
        result["command"] = _command(args)
        result["machine"] = f"{platform.machine()}, {_cores()} CPU cores, torch on 1 thread"
        runner.save(result, args.out.parent / "evaluation" / "run.json")
    written = report.publish(result, args.out)
    if args.json:
        print_json(result)
    else:
        out.print(f"wrote {', '.join(str(p) for p in written)} ({result['wall_s']:.0f} s of runs)")
    return 0


def _config(args: argparse.Namespace):  # -> ExperimentConfig
    from zkpot.experiment.config import ExperimentConfig

    return ExperimentConfig(tasks=_names(args.tasks), partitions=_names(args.partitions), alpha=args.alpha,
                            rounds=args.rounds, clients=args.clients, epochs=args.epochs, noises=_floats(args.noise),
                            pofl_noises=_floats(args.pofl_noise), max_grad_norm=args.max_grad_norm,
                            delta=args.delta, byzantine_every=args.byzantine_every,
                            network_rounds=args.network_rounds, network_clients=args.network_clients,
                            network_epochs=args.network_epochs)


def _command(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every setting spelled out (so a changed default cannot change it)."""
    flags = ["--tasks", args.tasks, "--partitions", args.partitions, "--alpha", f"{args.alpha:g}",
             "--rounds", str(args.rounds), "--clients", str(args.clients), "--epochs", str(args.epochs),
             "--noise", args.noise, "--pofl-noise", args.pofl_noise, "--max-grad-norm", f"{args.max_grad_norm:g}",
             "--delta", f"{args.delta:g}", "--byzantine-every", str(args.byzantine_every),
             "--network-rounds", str(args.network_rounds), "--network-clients", str(args.network_clients),
             "--network-epochs", str(args.network_epochs), "--out", str(args.out)]
    if args.network_from:
        flags += ["--network-from", str(args.network_from)]
    proofs = args.proof_bytes or _default_proof_file(args.out)
    if proofs:
        flags += ["--proof-bytes", str(proofs)]
    return "zkpot experiment " + shlex.join(flags)


def _names(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in text.split(",") if p.strip())


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(p) for p in _names(text))
    except ValueError:
        raise InputError(f"expected comma-separated numbers such as 0.5,1.0,1.5, got {text!r}") from None


def _default_proof_file(out_doc: Path) -> Path | None:
    """``<doc folder>/evaluation/proof_bytes.json`` when the network's side has written one."""
    path = out_doc.parent / "evaluation" / "proof_bytes.json"
    return path if path.is_file() else None


def _proof_bytes(path: Path | None) -> dict[str, int] | None:
    """``{"digits": n, "mnist": n}`` from a JSON file, or None when there is none."""
    if path is None:
        return None
    try:
        raw = json.loads(path.read_text())
        return {str(k): int(v) for k, v in raw.items()}
    except (OSError, ValueError, AttributeError, TypeError) as e:
        raise InputError(f"--proof-bytes {path}: expected a JSON object of task -> proof size in bytes ({e})") from None


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("experiment", help="reproduce the paper's evaluation in-process and write docs/evaluation.md")
    p.add_argument("--tasks", default="digits,mnist", help="comma-separated: digits, mnist")
    p.add_argument("--partitions", default="iid,dirichlet", help="comma-separated: iid, dirichlet")
    p.add_argument("--alpha", type=float, default=0.5, help="Dirichlet concentration of the non-IID partition")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--clients", type=int, default=10)
    p.add_argument("--epochs", type=int, default=1, help="local epochs a member trains each round")
    p.add_argument("--noise", default="0.5,1.0,1.5", help="DP-SGD noise multipliers of the FL + DP rows")
    p.add_argument("--pofl-noise", default="1.0,1.5", help="the PoFL members' DP noise multipliers")
    p.add_argument("--max-grad-norm", type=float, default=1.0, help="DP-SGD per-sample clipping norm")
    p.add_argument("--delta", type=float, default=1e-5, help="the δ every ε is stated at")
    p.add_argument("--byzantine-every", type=int, default=3, metavar="K", help="the leader lies every K-th round")
    p.add_argument("--network-rounds", type=int, default=0, metavar="K",
                   help="also run the devnet for K rounds with real proofs (0: the network rows stay pending)")
    p.add_argument("--network-clients", type=int, default=4, help="the devnet's members (default 4)")
    p.add_argument("--network-epochs", type=int, default=5, help="the devnet members' local epochs (default 5)")
    p.add_argument("--network-from", type=Path, metavar="DIR", help="take the network runs an earlier "
                   "--network-rounds run saved in DIR (<task>-<partition>.json) instead of running them again")
    p.add_argument("--proof-bytes", type=Path, metavar="JSON",
                   help='measured proof sizes, {"digits": n, "mnist": n} (default: evaluation/proof_bytes.json '
                        "beside --out, if there is one; else the IPFS bytes leave proofs out)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the doc to write (PNGs go to its img/ folder)")
    p.add_argument("--from-json", type=Path, metavar="PATH", help="redraw the doc and PNGs from a run.json")
    p.add_argument("--json", action="store_true", help="print the result dict on stdout")
    p.set_defaults(func=cmd_experiment)
