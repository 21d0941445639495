"""nats-server authorization from the parties, as data: each identity's publish and subscribe allow-lists.

A party may publish only its own subjects, pull only from its own durables (``$JS.API.CONSUMER.MSG.NEXT``, info
and acks of those), read stream metadata, fetch a stored message of a limits stream it publishes to (the
duplicate check of ``JetStreamBus``), and subscribe only under its own inbox prefix ``_INBOX.<public nkey>``
(every reply it waits for, PubAcks included, comes there, and no one else may subscribe to it). Only the operator
may use the rest of the JetStream API (create, update, delete streams and consumers). With an ``authorization``
block of nkey users and no ``no_auth_user``, an unauthenticated client is refused.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from zkpot.bus.parties import Identity, Parties, identities
from zkpot.bus.subjects import LAYOUT, Layout, Retention

JS_API = "$JS.API"


def inbox_prefix(public_nkey: str) -> str:
    """The inbox prefix of one identity: nats-py's ``inbox_prefix``; replies to it land under ``<prefix>.>``."""
    return f"_INBOX.{public_nkey}"


def allow_lists(identity: Identity, public_nkey: str, layout: Layout = LAYOUT) -> dict[str, list[str]]:
    """``{"publish": [...], "subscribe": [...]}`` for one identity."""
    subscribe = [f"{inbox_prefix(public_nkey)}.>"]
    if identity.operator:
        return {"publish": [f"{JS_API}.>"], "subscribe": subscribe}
    publish = [f"{JS_API}.INFO"] + [f"{JS_API}.STREAM.INFO.{s.name}" for s in layout.streams]
    for subject in identity.publishes:
        stream = layout.stream_for_filters((subject,))
        publish.append(subject)
        if stream.retention is Retention.LIMITS:
            publish.append(f"{JS_API}.STREAM.MSG.GET.{stream.name}")
    for c in identity.consumers:
        where = f"{c.stream}.{c.durable}"
        publish += [f"{JS_API}.CONSUMER.INFO.{where}", f"{JS_API}.CONSUMER.MSG.NEXT.{where}", f"$JS.ACK.{where}.>"]
    return {"publish": list(dict.fromkeys(publish)), "subscribe": subscribe}


def users(parties: Parties, public_nkeys: Mapping[str, str], layout: Layout = LAYOUT) -> list[dict[str, Any]]:
    """nats-server ``users`` entries; KeyError naming the identity whose public nkey is missing."""
    out = []
    for identity in identities(parties):
        key = public_nkeys.get(identity.name)
        if not key:
            raise KeyError(f"no public nkey for NATS identity {identity.name!r} (regenerate keys: zkpot keys gen)")
        lists = allow_lists(identity, key, layout)
        out.append({"nkey": key, "permissions": {"publish": {"allow": lists["publish"]},
                                                 "subscribe": {"allow": lists["subscribe"]}}})
    return out


def authorization_block(parties: Parties, public_nkeys: Mapping[str, str], layout: Layout = LAYOUT,
                        indent: str = "") -> str:
    """The ``authorization { users = [...] }`` block of nats.conf, one user per line with its name as a comment."""
    names = [i.name for i in identities(parties)]
    lines = [f"{indent}authorization {{", f"{indent}  users = ["]
    for name, user in zip(names, users(parties, public_nkeys, layout), strict=True):
        lines += [f"{indent}    # {name}", f"{indent}    {json.dumps(user, separators=(', ', ': '))}"]
    lines += [f"{indent}  ]", f"{indent}}}"]
    return "\n".join(lines) + "\n"
