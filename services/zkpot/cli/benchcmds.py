"""`zkpot bench compare` and `zkpot bench sweep`, added to the `zkpot bench` group."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from zkpot.errors import InputError
from zkpot.zk.fast.spec import MAX_CHUNK_SAMPLES

DEFAULT_PLOT = Path("docs/img/prove_vs_n.png")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the subcommands under `zkpot bench` (creating the group if no one else has)."""
    bench = sub.choices.get("bench") or sub.add_parser("bench", help="benchmarks that print figures")
    bsub = _subparsers(bench)
    p = bsub.add_parser("compare", help="plain ezkl vs the fast pipeline on the same model and samples")
    _common(p)
    p.add_argument("--samples", type=int, default=540, help="first N public test samples (default: all 540)")
    p.add_argument("--json", action="store_true", help="one JSON object on stdout")
    p.set_defaults(func=cmd_compare)
    s = bsub.add_parser("sweep", help="compare at several N; write the prove-time/memory plot")
    _common(s)
    s.add_argument("--samples", default="16,32,64,128,270,540", help="comma-separated N values")
    s.add_argument("--out", type=Path, default=DEFAULT_PLOT, help=f"PNG to write (default {DEFAULT_PLOT})")
    s.add_argument("--json", action="store_true", help="the rows as one JSON array on stdout")
    s.add_argument("--from-json", type=Path, help="redraw the plot from rows an earlier `--json` run printed")
    s.set_defaults(func=cmd_sweep)
    lv = bsub.add_parser("levers", help="the lever ladder: one change at a time from plain ezkl to the fast circuit")
    lv.add_argument("--samples", type=int, default=64)
    lv.add_argument("--only", default="", help="semicolon-separated lever names (default: the whole ladder); "
                                                "'variants' runs the variations that did not win")
    lv.add_argument("--json", action="store_true", help="the rows as one JSON array on stdout")
    lv.add_argument("--markdown", action="store_true", help="the rows as a markdown table")
    lv.set_defaults(func=cmd_levers)
    sa = bsub.add_parser("secagg", help="bytes and seconds per phase of secure, verifiable aggregation for n "
                                        "members (in-process protocol round), against the first design")
    sa.add_argument("--members", default="4,50,200", help="comma-separated member counts")
    sa.add_argument("--degree", type=int, default=0, help="neighbours each member masks with (0: all, SecAgg)")
    sa.add_argument("--dropped", type=int, default=0, help="members that never send their masked vector")
    sa.add_argument("--json", action="store_true", help="the rows as one JSON object on stdout")
    sa.set_defaults(func=cmd_secagg)
    bz = bsub.add_parser("byzantine", help="accuracy over rounds with honest and with lying leaders (two devnets), "
                                           "and plain FedAvg taking the lies (in-process)")
    bz.add_argument("--rounds", type=int, default=4)
    bz.add_argument("--clients", type=int, default=3)
    bz.add_argument("--epochs", type=int, default=10)
    bz.add_argument("--view-timeout", type=int, default=20)
    bz.add_argument("--dir", type=Path, default=Path(".zkpot/byzantine"), help="the two devnets' folders")
    bz.add_argument("--out", type=Path, default=Path("docs/img/byzantine.png"), help="PNG to write")
    bz.add_argument("--json", action="store_true", help="the figures as one JSON object on stdout")
    bz.set_defaults(func=cmd_byzantine)

    tk = bsub.add_parser("task", help="what a task's accuracy proof costs at N public test samples (wall s, CPU s, "
                         "peak RSS, sizes) and that its count equals the quantized model's")
    tk.add_argument("--task", default="mnist", help="digits or mnist (default mnist)")
    tk.add_argument("--samples", default="100,500", help="comma-separated N values (default 100,500)")
    tk.add_argument("--workers", type=int, default=1, help="processes proving chunks in parallel (default 1, what a "
                    "prover service does)")
    tk.add_argument("--json", action="store_true", help="the rows as one JSON array on stdout")
    tk.set_defaults(func=cmd_task)


def _subparsers(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:  # type: ignore[type-arg]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="bench_cmd", required=True)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--baseline-max-samples", type=int, default=64,
                   help="run plain ezkl on at most this many samples; beyond, its time is extrapolated (labelled)")
    p.add_argument("--per-chunk", type=int, default=MAX_CHUNK_SAMPLES,
                   help=f"most samples per chunk proof of the fast pipeline ({MAX_CHUNK_SAMPLES} fill 2^15 rows)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes proving chunks in parallel, one ezkl thread each per core (default 2)")


def _check(args: argparse.Namespace, ns: list[int]) -> None:
    if not ns or min(ns) < 1 or max(ns) > 540:
        raise InputError("--samples must lie in 1..540")
    if args.baseline_max_samples < 1 or args.per_chunk < 1 or args.workers < 1:
        raise InputError("--baseline-max-samples, --per-chunk and --workers must be at least 1")


def cmd_compare(args: argparse.Namespace) -> int:
    from zkpot.bench.compare import compare
    from zkpot.cli.ui import err

    _check(args, [args.samples])
    doc = compare(args.samples, baseline_max=args.baseline_max_samples, per_chunk=args.per_chunk,
                  workers=args.workers, progress=lambda text: err.print(f"· {text}"))
    _emit(args.json, doc)
    return 0 if doc["counts_equal"] else 1


def cmd_sweep(args: argparse.Namespace) -> int:
    from zkpot.bench.compare import sweep
    from zkpot.bench.plot import plot_sweep
    from zkpot.cli.ui import err

    try:
        ns = sorted({int(n) for n in args.samples.split(",")})
    except ValueError as e:
        raise InputError(f"--samples must be comma-separated integers: {e}") from e
    _check(args, ns)
    if args.from_json:
        rows = _load_rows(args.from_json)
    else:
        rows = sweep(ns, baseline_max=args.baseline_max_samples, per_chunk=args.per_chunk, workers=args.workers,
                     progress=lambda text: err.print(f"· {text}"))
    plot_sweep(rows, args.out)
    err.print(f"wrote {args.out}")
    _emit(args.json, rows)
    return 0


def _load_rows(path: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read sweep rows from {path}: {e}") from e
    if not (isinstance(rows, list) and all(isinstance(r, dict) and "samples" in r for r in rows)):
        raise InputError(f"{path} is not a JSON array of sweep rows")
    return rows


def _emit(as_json: bool, doc: Any) -> None:
    """One JSON document on stdout (``--json``), else the same indented for reading."""
    from zkpot.cli.ui import out, print_json

    if as_json:
        print_json(doc)
    else:
        out.print(json.dumps(doc, indent=2))


def cmd_levers(args: argparse.Namespace) -> int:
    from zkpot.bench import levers
    from zkpot.bench.compare import ladder
    from zkpot.cli.ui import err

    names: list[str] | None = [n.strip() for n in args.only.split(";") if n.strip()] or None
    if args.only == "variants":
        names = [c.name for c in levers.VARIANTS]
    unknown = [n for n in names or [] if n not in levers.ALL]
    if unknown:
        raise InputError(f"unknown lever {unknown[0]!r}; known: {'; '.join(levers.ALL)}")
    _check(argparse.Namespace(baseline_max_samples=1, per_chunk=1, workers=1), [args.samples])
    rows = ladder(args.samples, names, progress=lambda text: err.print(f"· {text}"))
    if args.markdown:
        from zkpot.bench.report import markdown_table
        from zkpot.cli.ui import out

        out.print(markdown_table(rows))
    else:
        _emit(args.json, rows)
    return 0


def cmd_byzantine(args: argparse.Namespace) -> int:
    from zkpot.bench import byzantine
    from zkpot.cli.ui import err, out, print_json, step
    from zkpot.zk import registry

    if args.rounds < 1 or args.clients < 2:
        raise InputError("--rounds must be at least 1 and --clients at least 2 (a fallback needs a second member)")
    options = byzantine.Options(rounds=args.rounds, clients=args.clients, epochs=args.epochs,
                                view_timeout_s=args.view_timeout)
    with step("fast circuit (keys derived once, then cached)") as update:
        circuit = registry.build(registry.DEFAULT_PIPELINE, progress=update)
    with err.status("running") as status:
        result = byzantine.run(circuit, args.dir, options, lambda line: status.update(line))
    result["plot"] = str(byzantine.plot(result, args.out))
    if args.json:
        print_json(result)
    else:
        for name in ("honest", "byzantine", "undefended"):
            out.print(f"{name:>10}: " + " ".join(f"{a:.1%}" for a in result[name]["accuracy"]))
        out.print(f"views of the lying run's blocks: {result['byzantine']['views']}; plot {result['plot']}")
    return 0


def cmd_task(args: argparse.Namespace) -> int:
    from zkpot.bench import task as btask
    from zkpot.cli.ui import err, out, print_json
    from zkpot.ml import tasks

    t = tasks.get(args.task)
    try:
        ns = [int(n) for n in args.samples.split(",")]
    except ValueError as e:
        raise InputError(f"--samples takes comma-separated integers, not {args.samples!r}") from e
    if not ns or min(ns) < 1 or max(ns) > t.test_size or args.workers < 1:
        raise InputError(f"--samples must lie in 1..{t.test_size} (the {t.name} test set), --workers >= 1")
    rows = []
    with err.status("measuring") as status:
        for n in ns:  # each row on stderr as it is measured: a 500-image row takes many minutes
            rows.append(btask.measure(t.name, n, workers=args.workers, progress=status.update))
            err.print(json.dumps(rows[-1]))
    if args.json:
        print_json(rows)
    else:
        out.print(btask.table(rows))
    return 0


def cmd_secagg(args: argparse.Namespace) -> int:
    from zkpot.bench import secagg
    from zkpot.cli.ui import err, out, print_json, step
    from zkpot.zk import registry

    try:
        counts = [int(n) for n in args.members.split(",")]
    except ValueError as e:
        raise InputError(f"--members takes comma-separated integers, not {args.members!r}") from e
    if min(counts) < 2 or args.degree < 0 or not 0 <= args.dropped < min(counts) - 1:
        raise InputError("--members at least 2 each, --degree >= 0, --dropped below members - 1")
    with step("fast circuit (keys derived once, then cached)") as update:
        circuit = registry.build(registry.DEFAULT_PIPELINE, progress=update)
    rows, before = [], []
    with err.status("measuring") as status:
        for n in counts:
            rows.append(secagg.measure(circuit, n, args.degree or n - 1, args.dropped, status.update))
            before.append(secagg.first_design(circuit, n))
    if args.json:
        print_json({"rows": rows, "first_design": before})
    else:
        out.print(secagg.table(rows, before))
    return 0 if all(r["sum_exact"] and r["aggregate_holds"] for r in rows) else 1
