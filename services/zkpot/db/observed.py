"""The protocol messages a party observed on the bus (``<schema>.observed``), shared by the trainer, producer and
validator repositories: mask keys, share bundles, masked inputs, reveals, attestations, round openings.

Rows are keyed (owner, kind, ref): a redelivered message is stored once, the first copy kept. A round's messages
read back in the bus server's store order (``stored_ms``, then ``ref``), the order every observer agrees on.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from sqlalchemy import Table, delete, func, select

from zkpot.db.rows import ObservedRow
from zkpot.db.sql import Repo, check_length
from zkpot.db.tables import OBSERVED_KIND_MAX

ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(ObservedRow))


class ObservedMixin(Repo):
    """``observe``, ``observed`` and ``forget_observed`` on the repository's own ``observed`` table."""

    observed_table: ClassVar[Table]

    async def observe(self, owner: str, *, kind: str, round: int, sender: str, ref: str, payload: dict[str, Any],
                      stored_ms: int) -> bool:
        """Keep a message ``owner`` saw (``kind`` at most 32 characters, else UnknownStatus); False when its
        (owner, kind, ref) is stored already (a redelivery: the first copy is kept)."""
        check_length("observed kind", kind, OBSERVED_KIND_MAX)
        values = {"owner": owner, "kind": kind, "round": round, "sender": sender, "ref": ref, "payload": payload,
                  "stored_ms": stored_ms}
        return await self._insert_new(self.observed_table, values)

    async def observed(self, owner: str, round: int, kind: str) -> list[ObservedRow]:
        """The messages of ``kind`` in ``round`` that ``owner`` kept, by store time then ref."""
        c = self.observed_table.c
        query = (select(*(c[name] for name in ROW_COLUMNS))
                 .where(c.owner == owner, c.round == round, c.kind == kind).order_by(c.stored_ms, c.ref))
        return await self._all(query, ObservedRow)

    async def forget_observed(self, owner: str, before_round: int) -> int:
        """Delete what ``owner`` kept of the rounds before ``before_round`` (retention); how many rows went."""
        c = self.observed_table.c
        return await self._rowcount(delete(self.observed_table).where(c.owner == owner, c.round < before_round))

    async def latest_observed_round(self, owner: str, kind: str) -> int | None:
        """The highest round in which ``owner`` kept a message of ``kind`` (None: none), where a restarted
        service resumes."""
        c = self.observed_table.c
        [latest] = await self._scalars(select(func.max(c.round)).where(c.owner == owner, c.kind == kind))
        return None if latest is None else int(latest)
