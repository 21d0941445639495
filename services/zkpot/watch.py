"""Watching a network from its event stream: live progress for people, per-block figures for tools.

The watcher reads the protocol events through its own durable consumer (from the start of the stream), so what it
reports is what the network published — the same bundles `zkpot chain verify` audits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zkpot.bus import Delivery, JetStreamBus
from zkpot.bus.parties import WATCH
from zkpot.bus.subjects import BLOCK_FINALIZED, BLOCK_PROPOSED, ROUND_OPEN, TX_ATTESTED, TX_SUBMITTED
from zkpot.domain import Genesis
from zkpot.domain.events import Finalized


@dataclasses.dataclass
class RoundProgress:
    round: int = 0
    opened: float = 0.0
    txs: set[str] = dataclasses.field(default_factory=set)
    attested: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    proof_s: list[float] = dataclasses.field(default_factory=list)
    proposed: bool = False


@dataclasses.dataclass
class BlockSummary:
    height: int
    round: int
    hash: str
    leader: int | None
    leader_correct: int
    samples: int
    accepted: int
    rejected: int
    global_accuracy: float
    round_s: float
    proof_s_mean: float | None
    view: int = 0  # with per-member producers: the view its proposer held (0: the proven-best member's)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Watcher:
    """Follows the stream until ``rounds`` blocks are final; ``on_change`` gets a one-line status."""

    def __init__(self, genesis: Genesis, rounds: int, on_change: Callable[[str], None]) -> None:
        self.genesis, self.rounds, self.on_change = genesis, rounds, on_change
        self.current = RoundProgress()
        self.blocks: list[BlockSummary] = []
        self.finals: list[dict[str, Any]] = []
        self.finished = asyncio.Event()

    async def run(self, nats_url: str, timeout_s: float, *, nkey_file: Path | None = None) -> None:
        """Follow the stream; with ``nkey_file`` (the ``watch`` identity) through its provisioned durable
        ``watch``, else through a fresh durable of its own."""
        bus = await JetStreamBus.connect(nats_url, name="devnet-watch", nkey_file=nkey_file)
        try:
            await bus.ensure_streams()
            durable = WATCH.name if nkey_file is not None else f"watch-{int(time.time() * 1000)}"
            await bus.subscribe(WATCH.filters, durable, self.on_event)
            await asyncio.wait_for(self.finished.wait(), timeout_s)
        finally:
            await bus.close()

    async def on_event(self, msg: Delivery) -> None:
        p, cur = msg.payload, self.current
        if msg.subject == ROUND_OPEN and p["round"] > cur.round:
            self.current = RoundProgress(round=p["round"], opened=time.monotonic())
        elif msg.subject == TX_SUBMITTED and p.get("round") == cur.round:
            cur.txs.add(str(p.get("client")))
        elif msg.subject == TX_ATTESTED and p.get("round") == cur.round:
            cur.attested.setdefault(str(p.get("tx_id")), set()).add(str(p.get("validator")))
        elif msg.subject.startswith("zkpot.proof.done") and p.get("round") == cur.round:
            cur.proof_s.append(p.get("prove_ms", 0) / 1000)
        elif msg.subject == BLOCK_PROPOSED:
            cur.proposed = True
        elif msg.subject == BLOCK_FINALIZED:
            self._final(p)
        self.on_change(self.status())

    def _final(self, payload: dict[str, Any]) -> None:
        final = Finalized.from_dict(payload)
        h = final.block.header
        if any(b.hash == h.block_hash for b in self.blocks):
            return
        cur = self.current
        clients = list(self.genesis.clients)
        self.finals.append(payload)
        self.blocks.append(BlockSummary(
            height=h.height, round=h.round, hash=h.block_hash,
            leader=clients.index(h.leader_client) if h.leader_client in clients else None,
            leader_correct=h.leader_correct, samples=h.samples, accepted=h.accepted, rejected=h.rejected,
            global_accuracy=round(h.global_correct / max(1, h.global_samples), 4),
            round_s=round(time.monotonic() - cur.opened, 1) if cur.opened else 0.0,
            proof_s_mean=round(statistics.mean(cur.proof_s), 1) if cur.proof_s and cur.round == h.round else None,
            view=final.block.view))
        if len(self.blocks) >= self.rounds:
            self.finished.set()

    def status(self) -> str:
        cur = self.current
        quorum = self.genesis.quorum
        attested = sum(1 for v in cur.attested.values() if len(v) >= quorum)
        parts = [f"round {cur.round}/{self.rounds}", f"txs {len(cur.txs)}/{len(self.genesis.clients)}",
                 f"attested {attested}"]
        if cur.proof_s:
            parts.append(f"proofs {len(cur.proof_s)} (mean {statistics.mean(cur.proof_s):.1f} s)")
        if cur.proposed:
            parts.append("block proposed")
        if self.blocks:
            b = self.blocks[-1]
            leader = "-" if b.leader is None else f"client {b.leader}"
            parts.append(f"last block: leader {leader} {b.leader_correct}/{b.samples}, "
                         f"global {b.global_accuracy:.1%}")
        return " · ".join(parts)
