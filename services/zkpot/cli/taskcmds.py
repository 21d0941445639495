"""`zkpot keys gen`, `zkpot genesis` and `zkpot sim`: the task publisher's commands and the in-process run."""

from __future__ import annotations

import argparse
from pathlib import Path

from zkpot.cli.ui import out, print_json, results_table, step
from zkpot.cli.zkcmds import add_circuit_args, load_circuit
from zkpot.sim import RoundReport, SimConfig
from zkpot.task import Keyring, RoundParams, make_genesis, read_public_keys, write_genesis


def cmd_keys_gen(args: argparse.Namespace) -> int:
    keys = Keyring.generate(args.clients, args.validators, member_provers=args.member_provers,
                            member_producers=args.member_producers)
    keys.write(args.out)
    out.print(f"wrote {len(keys.files())} secret key files and public.json to {args.out} (keep the .key files secret)")
    return 0


def cmd_genesis(args: argparse.Namespace) -> int:
    public = read_public_keys(args.keys)
    circuit = load_circuit(args)
    params = RoundParams(round_deadline_s=args.deadline, accuracy_floor_pct=args.floor, aggregation=args.aggregation)
    genesis = make_genesis(circuit, public, params, task_id=args.task_id)
    write_genesis(genesis, args.out)
    out.print(f"wrote {args.out}: task {genesis.task_id}, genesis {genesis.genesis_hash}")
    return 0


def cmd_sim(args: argparse.Namespace) -> int:
    from zkpot import sim

    config = SimConfig(clients=args.clients, validators=args.validators, rounds=args.rounds, epochs=args.epochs,
                       alpha=args.alpha)
    circuit = load_circuit(args)
    rows: list[RoundReport] = []

    def show(report: RoundReport) -> None:
        rows.append(report)
        leader = "-" if report.leader is None else f"client {report.leader}"
        out.print(f"round {report.round}: leader {leader} proved {report.leader_correct}/{report.samples}, "
                  f"global accuracy {report.global_accuracy:.1%} (full test set {report.full_test_accuracy:.1%}), "
                  f"{report.accepted} accepted / {report.rejected} rejected, {report.round_s:.0f} s")

    with step(f"simulating {args.rounds} rounds: {args.clients} clients, {args.validators} validators"):
        sim.run(circuit, config, show)
    if args.json:
        print_json({"blocks": [r.to_dict() for r in rows]})
    else:
        out.print(results_table([summary_row(r) for r in rows]))
    return 0


def summary_row(r: RoundReport) -> dict[str, str]:
    return {
        "round": str(r.round),
        "block": r.hash[:10],
        "leader": "-" if r.leader is None else f"client {r.leader}",
        "proven k/N": f"{r.leader_correct}/{r.samples}",
        "txs ok/rejected": f"{r.accepted}/{r.rejected}",
        "global acc (N)": f"{r.global_accuracy:.1%}",
        "global acc (540)": f"{r.full_test_accuracy:.1%}",
        "round s": f"{r.round_s:.0f}",
    }


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    keys = sub.add_parser("keys", help="party keys")
    ksub = keys.add_subparsers(dest="keys_cmd", required=True)
    gen = ksub.add_parser("gen", help="generate every party's keys into a folder")
    gen.add_argument("--out", type=Path, required=True)
    gen.add_argument("--clients", type=int, default=4)
    gen.add_argument("--validators", type=int, default=4)
    gen.add_argument("--member-producers", action="store_true",
                     help="each member its own block producer (producer-<m>.key) and no aggregator: secure, "
                          "verifiable aggregation (docs/consensus.md)")
    gen.add_argument("--member-provers", action="store_true",
                     help="each member its own prover (box, signing and NATS keys prover-<m>) instead of one shared")
    gen.set_defaults(func=cmd_keys_gen)

    genesis = sub.add_parser("genesis", help="write the genesis block of a task")
    genesis.add_argument("--keys", type=Path, required=True, help="public.json from `zkpot keys gen`")
    genesis.add_argument("--out", type=Path, default=Path("genesis.json"))
    genesis.add_argument("--task-id", help="a name for this network (default: <task>-mlp)")
    genesis.add_argument("--deadline", type=int, default=600, help="round deadline in seconds")
    genesis.add_argument("--floor", type=int, default=20, help="global accuracy floor, percent")
    genesis.add_argument("--aggregation", default="fedavg", help="fedavg or fedavg_acc")
    add_circuit_args(genesis)
    genesis.set_defaults(func=cmd_genesis)

    simp = sub.add_parser("sim", help="run rounds in one process: real training, proofs and verification")
    simp.add_argument("--clients", type=int, default=4)
    simp.add_argument("--validators", type=int, default=4)
    simp.add_argument("--rounds", type=int, default=3)
    simp.add_argument("--epochs", type=int, default=20)
    simp.add_argument("--alpha", type=float, help="non-IID: Dirichlet alpha (default IID)")
    simp.add_argument("--json", action="store_true")
    add_circuit_args(simp)
    simp.set_defaults(func=cmd_sim)
