"""The network's event stream as the load test sees it: each protocol event with the wall-clock time it arrived.

Wall-clock (``time.time()``) so the times compare with the database's timestamps on the same host. The log keeps
only what the report needs: round openings, attestations per tx, proposals and final blocks (deduplicated by hash).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from zkpot.bus import Delivery
from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, ROUND_OPEN, TX_ATTESTED

from loadtest.accounting import BlockView

SUBJECTS = (ROUND_OPEN, TX_ATTESTED, BLOCK_PROPOSED, BLOCK_FINALIZED)


@dataclasses.dataclass(frozen=True)
class Final:
    """A final block as it arrived: when, its view for accounting, the commitments it included, its size."""

    t: float
    view: BlockView
    commitments: tuple[str, ...]
    payload_bytes: int


@dataclasses.dataclass
class EventLog:
    opens: dict[int, tuple[float, dict[str, Any]]] = dataclasses.field(default_factory=dict)
    attestations: dict[str, dict[str, tuple[float, bool, str]]] = dataclasses.field(default_factory=dict)
    proposed: dict[int, float] = dataclasses.field(default_factory=dict)
    finals: dict[str, Final] = dataclasses.field(default_factory=dict)
    clock: Callable[[], float] = time.time
    changed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    async def on_event(self, msg: Delivery) -> None:
        self.record(msg.subject, msg.payload, len(msg.raw.data))

    def record(self, subject: str, p: dict[str, Any], size: int = 0) -> None:
        """Note one event; ``size`` is its encoded size on the wire (bytes)."""
        now = self.clock()
        if subject == ROUND_OPEN:
            self.opens.setdefault(int(p["round"]), (now, p))
        elif subject == TX_ATTESTED:
            seen = self.attestations.setdefault(str(p["tx_id"]), {})
            seen.setdefault(str(p["validator"]), (now, bool(p["valid"]), str(p["reason"])))
        elif subject == BLOCK_PROPOSED:
            self.proposed.setdefault(int(p["block"]["header"]["round"]), now)
        elif subject == BLOCK_FINALIZED:
            view = BlockView.of(p)
            commitments = tuple(tx["commitment"] for tx in p["proposal"]["block"]["txs"])
            self.finals.setdefault(view.hash, Final(now, view, commitments, size))
        self.changed.set()

    def final_of_round(self, round_: int) -> Final | None:
        return next((f for f in self.finals.values() if f.view.round == round_), None)

    def used_commitments(self) -> set[str]:
        """Commitments included in final blocks: the chain refuses them again."""
        return {c for f in self.finals.values() for c in f.commitments}

    def open_round(self) -> int | None:
        """The latest round opened and not yet final, if any."""
        final_rounds = {f.view.round for f in self.finals.values()}
        open_ = [r for r in self.opens if r not in final_rounds]
        return max(open_) if open_ else None

    def verified_at(self, tx_id: str, quorum: int) -> float | None:
        """When the quorum-th valid attestation (distinct validators) arrived; None if it has not."""
        return quorum_time(self.attestations.get(tx_id, {}), quorum)


def quorum_time(seen: dict[str, tuple[float, bool, str]], quorum: int) -> float | None:
    times = sorted(t for t, valid, _ in seen.values() if valid)
    return times[quorum - 1] if quorum >= 1 and len(times) >= quorum else None
