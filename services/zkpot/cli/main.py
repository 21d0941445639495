"""The `zkpot` command. One error boundary: known errors print one line and exit non-zero."""

from __future__ import annotations

import argparse
import os
import sys

from zkpot import __version__


def parser() -> argparse.ArgumentParser:
    from zkpot.cli import bench, dbcmds, natscmds, netcmds, taskcmds, zkcmds

    p = argparse.ArgumentParser(prog="zkpot", description="Federated learning with Zero-Knowledge Proof of "
                                                          "Training consensus")
    p.add_argument("--version", action="version", version=f"zkpot {__version__}")
    sub = p.add_subparsers(dest="cmd", required=True)
    zkcmds.register(sub)
    bench.register(sub)
    from zkpot.cli import benchcmds as perf_cli
    perf_cli.register(sub)  # `zkpot bench compare | sweep | levers`
    taskcmds.register(sub)
    netcmds.register(sub)
    natscmds.register(sub)
    dbcmds.register(sub)
    from zkpot.cli import experimentcmds
    experimentcmds.register(sub)  # `zkpot experiment`
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("RUST_LOG", "error")
    from zkpot.errors import ZkpotError

    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ZkpotError as e:
        print(f"zkpot: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zkpot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
