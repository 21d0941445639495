"""`zkpot nats config | provision`: the NATS server's authorization and the operator's streams and consumers.

Both read the parties from public.json (`zkpot keys gen`): its ``clients`` and ``validators`` counts and its
``nats`` map of public nkeys. See docs/messaging.md "Authentication and authorization".
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from zkpot.bus.parties import Parties
from zkpot.cli.ui import out
from zkpot.errors import InputError
from zkpot.task import read_public_keys


def parties_of(public: dict[str, Any], member_provers: bool = False) -> Parties:
    """The NATS parties public.json describes (per-member producers when it lists ``producers``)."""
    try:
        return Parties(len(public["clients"]), len(public["validators"]), member_provers=member_provers,
                       member_producers=bool(public.get("producers")))
    except (KeyError, TypeError) as e:
        raise InputError(f"public keys lack {e}") from e


def public_nkeys(public: dict[str, Any]) -> dict[str, str]:
    nkeys = public.get("nats")
    if not isinstance(nkeys, dict) or not nkeys:
        raise InputError("public.json has no NATS nkeys (written before NATS authentication? run `zkpot keys gen` "
                         "again)")
    return {str(k): str(v) for k, v in nkeys.items()}


def cmd_nats_config(args: argparse.Namespace) -> int:
    from zkpot.bus.permissions import authorization_block

    public = read_public_keys(args.keys)
    try:
        block = authorization_block(parties_of(public, args.member_provers), public_nkeys(public),
                                    indent=" " * args.indent)
    except KeyError as e:
        raise InputError(str(e.args[0])) from e
    if args.out:
        args.out.write_text(block)
    else:
        print(block, end="")
    return 0


def cmd_nats_provision(args: argparse.Namespace) -> int:
    from zkpot.bus.jetstream import JetStreamBus
    from zkpot.bus.parties import consumer_plan
    from zkpot.bus.provision import provision

    parties = parties_of(read_public_keys(args.keys), args.member_provers)

    async def run() -> list[str]:
        bus = await JetStreamBus.connect(args.url, name="zkpot-provision", nkey_file=args.nkey_file,
                                         ca_file=args.ca_file, manage=True, timeout_s=args.timeout)
        try:
            return await provision(bus, consumer_plan(parties), reset=args.reset)
        finally:
            await bus.close()

    done = asyncio.run(run())
    out.print(f"provisioned {len(consumer_plan(parties))} consumers: " + ("; ".join(done) or "all already as planned"))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    nats = sub.add_parser("nats", help="NATS authorization and provisioning")
    nsub = nats.add_subparsers(dest="nats_cmd", required=True)
    config = nsub.add_parser("config", help="print nats.conf's authorization block (nkey users, allow-lists)")
    config.add_argument("--keys", type=Path, required=True, help="public.json from `zkpot keys gen`")
    config.add_argument("--member-provers", action="store_true", help="each member runs its own prover-<m>")
    config.add_argument("--indent", type=int, default=0, help="indent every line by this many spaces")
    config.add_argument("--out", type=Path, help="write to this file instead of stdout")
    config.set_defaults(func=cmd_nats_config)
    prov = nsub.add_parser("provision", help="create or update the streams and every durable consumer (operator)")
    prov.add_argument("--url", required=True, help="NATS URL (tls://... for TLS)")
    prov.add_argument("--nkey-file", type=Path, help="the operator's nkey seed (nats-operator.nk)")
    prov.add_argument("--ca-file", type=Path, help="CA certificate of the server's TLS certificate")
    prov.add_argument("--keys", type=Path, required=True, help="public.json from `zkpot keys gen`")
    prov.add_argument("--member-provers", action="store_true", help="per-member prover consumers instead of the pool")
    prov.add_argument("--reset", action="append", default=[], metavar="DURABLE",
                      help="delete and recreate this durable so it delivers from the start (repeatable)")
    prov.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")
    prov.set_defaults(func=cmd_nats_provision)
