"""`zkpot db provision`: the admin step giving each service its own database role (``zkpot.db.roles``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from zkpot.cli.ui import err, out
from zkpot.errors import InputError


def cmd_db_provision(args: argparse.Namespace) -> int:
    from zkpot.db.errors import DatabaseUnavailable
    from zkpot.db.roles import provision, read_passwords, role_name, write_urls

    admin_url = _admin_url(args)
    passwords = read_passwords(args.passwords, create=True)
    deadline = time.monotonic() + args.wait
    while True:
        try:
            urls = provision(admin_url, passwords, prefix=args.prefix, connection_limit=args.connection_limit)
            break
        except DatabaseUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            err.print(f"waiting for the database: {exc}")
            time.sleep(2)
    for account in urls:
        out.print(f"{account}: role {role_name(account, args.prefix)}")
    if args.out:
        write_urls(urls, args.out)
        out.print(f"wrote each account's URL to {args.out}/<account>.url (mode 0600; keep them secret)")
    return 0


def _admin_url(args: argparse.Namespace) -> str:
    if bool(args.admin_url) == bool(args.admin_url_file):
        raise InputError("give the admin (superuser) URL with exactly one of --admin-url and --admin-url-file")
    if args.admin_url:
        return str(args.admin_url)
    try:
        return Path(args.admin_url_file).read_text().strip()
    except OSError as e:
        raise InputError(f"cannot read {args.admin_url_file}: {e.strerror}") from e


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from zkpot.db.roles import DEFAULT_CONNECTION_LIMIT, DEFAULT_PREFIX

    db = sub.add_parser("db", help="the network's PostgreSQL")
    dsub = db.add_subparsers(dest="db_cmd", required=True)
    p = dsub.add_parser("provision", help="create or repair one role per service (own schema only) and a read-only "
                                          "reader; idempotent")
    p.add_argument("--admin-url", help="a superuser's URL of the network's database (visible to `ps`: prefer the file)")
    p.add_argument("--admin-url-file", type=Path, help="a file holding that URL")
    p.add_argument("--passwords", type=Path, required=True, metavar="DIR",
                   help="one file per account (trainer, prover, validator, block-producer, ipfs-gateway, reader) "
                        "holding its password; missing ones are generated there")
    p.add_argument("--out", type=Path, metavar="DIR", help="write each account's URL to DIR/<account>.url")
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help="role names are <prefix>_<schema> (default %(default)s)")
    p.add_argument("--connection-limit", type=int, default=DEFAULT_CONNECTION_LIMIT,
                   help="connections each role may hold (default %(default)s)")
    p.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                   help="keep trying this long while the server does not answer")
    p.set_defaults(func=cmd_db_provision)
