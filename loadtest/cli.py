"""`python -m loadtest`: fill the proof pool, reach (or start) the network, drive it, report.

    python -m loadtest --clients 200 --rounds 3 --json          # its own devnet (the default for a local run)
    python -m loadtest --dir .zkpot/devnet ...                  # a devnet started with `zkpot devnet up --detach`
    python -m loadtest --nats-url URL --gateway-url URL --genesis F --keys DIR [--database-url URL] ...  # a cluster
    python -m loadtest pool --size 200                          # only generate the proof pool
    python -m loadtest verify --workers 1 2 4                   # verification throughput per worker count
    python -m loadtest scaling REPORT.json ... --chart F.png    # the scaling table and chart from saved reports
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from zkpot.cli.ui import err, print_json
from zkpot.errors import InputError, ZkpotError
from zkpot.task import check_circuit
from zkpot.zk import registry
from zkpot.zk.system import ProofSystem

from loadtest import poolgen
from loadtest.chart import write_chart
from loadtest.collect import read_db, scrape_settled
from loadtest.driver import DriveOptions, Driver
from loadtest.pool import PoolEntry
from loadtest.progress import status_sink
from loadtest.report import build
from loadtest.resources import Sampler
from loadtest.summary import print_summary
from loadtest.system import add_system_args, load_system
from loadtest.target import Target, from_devnet, from_parts, own_devnet

DEFAULT_WORKDIR = Path(".zkpot/loadtest")


def run_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=10, help="simulated federation members")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--concurrency", type=int, default=32, help="members uploading and submitting at once")
    p.add_argument("--round-timeout", type=float, default=3600, help="give up on a round after this many seconds")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--out", type=Path, default=DEFAULT_WORKDIR / "results", help="where the report and chart go")
    own = p.add_argument_group("own devnet (the default: every member is played by the load test)")
    own.add_argument("--validators", type=int, default=4)
    own.add_argument("--deadline", type=int, default=3600, help="round deadline in seconds")
    own.add_argument("--pipeline", choices=registry.PIPELINES, default=registry.DEFAULT_PIPELINE,
                     help="proof pipeline of its devnet (the pool is per pipeline and circuit)")
    own.add_argument("--samples", type=int, help="test samples in the circuit (default: the pipeline's)")
    own.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR / "devnet")
    net = p.add_argument_group("a running network instead")
    net.add_argument("--dir", type=Path, help="a devnet folder (`zkpot devnet up --detach --dir D`)")
    net.add_argument("--nats-url")
    net.add_argument("--gateway-url")
    net.add_argument("--nats-nkey-file", type=Path,
                     help="seed of the network's `loadtest` NATS identity (nats-loadtest.nk)")
    net.add_argument("--genesis", type=Path)
    net.add_argument("--keys", type=Path, help="folder with client-<i>.key files")
    net.add_argument("--first-client", type=int, default=0, help="client index of the first member played")
    net.add_argument("--database-url", default=os.environ.get("ZKPOT_DATABASE_URL"),
                     help="the network's PostgreSQL, read-only (default: $ZKPOT_DATABASE_URL)")
    net.add_argument("--metrics", action="append", default=[], metavar="NAME=URL", help="a service's /metrics")
    net.add_argument("--circuit", type=Path, help="the circuit folder (default: the devnet's, else --pipeline's)")
    _pool_args(p)
    return p


def _pool_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("proof pool")
    g.add_argument("--pool-size", type=int, help="entries to have ready (default: clients x rounds)")
    g.add_argument("--pool-workers", type=int, default=1, help="proving processes while generating")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if args[:1] == ["pool"]:
            return cmd_pool(args[1:])
        if args[:1] == ["verify"]:
            from loadtest.verifybench import main as verify_main

            return verify_main(args[1:])
        if args[:1] == ["scaling"]:
            from loadtest.scaling import main as scaling_main

            return scaling_main(args[1:])
        return cmd_run(run_parser().parse_args(args))
    except ZkpotError as e:  # bad input, an unreachable NATS or gateway: one clear line, no traceback
        err.print(f"[red]error:[/] {e}")
        return 2


def cmd_pool(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m loadtest pool", description="generate the proof pool only")
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--workers", type=int, default=1)
    add_system_args(p)
    args = p.parse_args(argv)
    system = load_system(args.circuit, args.pipeline, args.samples)
    entries = poolgen.ensure(system, args.size, workers=args.workers)
    print_json({"entries": len(entries), "pipeline": system.kind, "circuit": system.manifest["name"],
                "prove_s": [e.prove_s for e in entries]})
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    if args.clients < 1 or args.rounds < 1:
        raise InputError("--clients and --rounds must be at least 1")
    if args.nats_url:
        missing = [n for n in ("gateway_url", "genesis", "keys") if not getattr(args, n)]
        if missing:
            raise InputError("with --nats-url, also give " + ", ".join("--" + m.replace("_", "-") for m in missing))
    logging.getLogger("zkpot.bus").setLevel(logging.ERROR)  # our own connection's reconnects are not news
    system = load_system(args.circuit or _devnet_circuit(args.dir), args.pipeline, args.samples)
    pool = poolgen.ensure(system, args.pool_size or args.clients * args.rounds, workers=args.pool_workers)
    with _target(args, system) as target:
        problems = check_circuit(target.genesis, system)
        if problems:
            raise InputError("the pool's circuit is not the one genesis pins: " + "; ".join(problems))
        report, times, verify_s = asyncio.run(measure(target, pool, args))
    return _emit(report, times, verify_s, args)


def _devnet_circuit(folder: Path | None) -> Path | None:
    if folder is None:
        return None
    with contextlib.suppress(OSError, ValueError, KeyError):
        return Path(json.loads((folder / "state.json").read_text())["circuit_dir"])
    return None


@contextlib.contextmanager
def _target(args: argparse.Namespace, system: ProofSystem) -> Iterator[Target]:
    if args.dir:
        yield from_devnet(args.dir)
    elif args.nats_url:
        yield from_parts(args.nats_url, args.gateway_url, args.genesis, args.keys, first_client=args.first_client,
                         clients=args.clients, database_url=args.database_url, metrics=_metrics(args.metrics),
                         nkey_file=args.nats_nkey_file)
    else:
        with own_devnet(args.workdir, system, clients=args.clients, validators=args.validators, rounds=args.rounds,
                        deadline_s=args.deadline) as target:
            yield target


def _metrics(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or not url:
            raise InputError(f"--metrics takes NAME=URL, not {pair!r}")
        out[name] = url
    return out


async def measure(target: Target, pool: list[PoolEntry],
                  args: argparse.Namespace) -> tuple[dict[str, Any], Any, list[float]]:
    options = DriveOptions(args.clients, args.rounds, args.concurrency, args.round_timeout)
    sampler = Sampler(target.pids)
    load_before = os.getloadavg()
    sampler.start()
    with err.status("connecting") as status:
        sink = status_sink(status.update, err.print, terminal=err.is_terminal)
        run = await Driver(target, pool, options, on_status=sink).run()
    await sampler.stop()
    metrics = await scrape_settled(target.metrics, len(run.log.finals))
    db = await read_db(target.database_url, [s.tx_id for s in run.submissions], run.rounds) \
        if target.database_url else None
    config = {"clients": args.clients, "rounds": args.rounds, "validators": len(target.genesis.validators),
              "pipeline": target.genesis.circuit.get("pipeline", "plain"), "samples": target.genesis.samples,
              "quorum": target.genesis.quorum, "target": target.label, "concurrency": args.concurrency,
              "cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
              "loadavg_after": [round(x, 2) for x in os.getloadavg()], "database": db is not None}
    report, times = build(run, config=config, quorum=target.genesis.quorum, db=db, resources=sampler.report(),
                          metrics=metrics)
    verify_s = [s for v in (db.verify_s.values() if db else ()) for s in v.values()]
    return report, times, verify_s


def _emit(report: dict[str, Any], times: Any, verify_s: list[float], args: argparse.Namespace) -> int:
    stem = f"loadtest-{args.clients}x{args.rounds}-v{report['config']['validators']}"
    chart = write_chart(args.out / f"{stem}.png", report, times, verify_s)
    report["chart"] = str(chart)
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    err.print(f"chart written to {chart}; report to {args.out / f'{stem}.json'}")
    ok = report["transactions"]["ok"]
    if not ok:
        err.print("[red]transactions were lost, duplicated or misplaced[/]")
    if args.json:
        print_json(report)  # last, so it is the last line of a Job's log
    else:
        print_summary(report)
    return 0 if ok else 1
