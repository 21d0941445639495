"""Lost and duplicated transactions, from the finalized blocks alone.

The rule under test: every submitted transaction ends up exactly once in the block of the round it was submitted
for, either included or rejected with a reason. A transaction in no block is *lost*; one listed twice (twice in a
block, or in two blocks) is *duplicated*; one in another round's block is *misplaced*. Transactions in the blocks
that the load test did not submit (a network's own trainers) are counted as *foreign*, for information.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from zkpot.domain.events import Finalized


@dataclasses.dataclass(frozen=True)
class BlockView:
    """What accounting needs of a final block: its hash, round, included tx ids and rejected (tx id, reason)."""

    hash: str
    round: int
    included: tuple[str, ...]
    rejected: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, finalized: Mapping[str, Any]) -> BlockView:
        """From a ``block.finalized`` payload (the quorum certificate is the validators' business, not ours)."""
        block = Finalized.from_dict(dict(finalized)).block
        return cls(block.hash, block.header.round, tuple(tx.tx_id for tx in block.txs),
                   tuple((r.tx_id, r.reason) for r in block.rejected))


@dataclasses.dataclass(frozen=True)
class Accounting:
    submitted: int
    included: int
    rejected: int
    rejected_by_reason: dict[str, int]
    lost: tuple[str, ...]
    duplicated: tuple[str, ...]
    misplaced: tuple[str, ...]
    foreign: int

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.misplaced)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(lost=len(self.lost), duplicated=len(self.duplicated), misplaced=len(self.misplaced),
                 lost_ids=list(self.lost), duplicated_ids=list(self.duplicated), misplaced_ids=list(self.misplaced),
                 ok=self.ok)
        return d


def account(submitted: Mapping[str, int], blocks: Iterable[BlockView]) -> Accounting:
    """``submitted`` maps tx id -> the round it was submitted for; ``blocks`` may repeat (deduplicated by hash)."""
    unique = {b.hash: b for b in blocks}.values()
    places: dict[str, list[tuple[int, str | None]]] = {}
    foreign = 0
    for block in unique:
        entries = [(t, None) for t in block.included] + [(t, r) for t, r in block.rejected]
        for tx_id, reason in entries:
            if tx_id in submitted:
                places.setdefault(tx_id, []).append((block.round, reason))
            else:
                foreign += 1
    once = {t: p[0] for t, p in places.items() if len(p) == 1}
    reasons = Counter(reason for _, reason in once.values() if reason is not None)
    return Accounting(
        submitted=len(submitted),
        included=sum(1 for _, reason in once.values() if reason is None),
        rejected=sum(reasons.values()),
        rejected_by_reason=dict(sorted(reasons.items())),
        lost=tuple(sorted(t for t in submitted if t not in places)),
        duplicated=tuple(sorted(t for t, p in places.items() if len(p) > 1)),
        misplaced=tuple(sorted(t for t, (rnd, _) in once.items() if rnd != submitted[t])),
        foreign=foreign,
    )
