"""The retention rule: sealed models and proofs of rounds long past are unpinned and forgotten.

The horizon is the highest round of a *global* model: only the producer may upload those (``access``), so no
member can push the horizon forward by signing a far-future round. Models and proofs of rounds up to
``horizon - retain_rounds`` are removed from the store and the index; blobs of round 0 (not tied to a round) and
global models are kept forever (whoever audits the chain needs every global model).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from zkpot.gateway.index import BlobIndex
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.storage.base import BlobStore

log = logging.getLogger(__name__)
RETAINED_KINDS = frozenset({BlobKind.MODEL, BlobKind.PROOF})
BATCH = 500


class Retention:
    """Keeps models and proofs of the last ``retain_rounds`` rounds behind the horizon (0: keeps everything)."""

    def __init__(self, store: BlobStore, index: BlobIndex, metrics: Metrics, retain_rounds: int) -> None:
        self.store, self.index, self.retain_rounds = store, index, retain_rounds
        self.removed = metrics["zkpot_gateway_retention_removed"]

    async def run_once(self) -> Counter[BlobKind]:
        """One pass; how many blobs of each kind it removed."""
        removed: Counter[BlobKind] = Counter()
        if self.retain_rounds <= 0:
            return removed
        through = await self.index.highest_round(BlobKind.GLOBAL) - self.retain_rounds
        if through < 1:
            return removed
        while records := await self.index.expired(RETAINED_KINDS, through, BATCH):
            for record in records:
                await self.store.remove(record.cid)
                await self.index.forget(record.cid)
                self.removed.labels(record.kind).inc()
                removed[record.kind] += 1
        if removed:
            log.info("retention removed old blobs", extra={"through_round": through,
                                                           **{str(k): n for k, n in removed.items()}})
        return removed

    async def run_forever(self, interval_s: float) -> None:
        """A pass every ``interval_s``; a failed pass (the store or the database away) is logged and retried."""
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("retention pass failed; trying again later")
            await asyncio.sleep(interval_s)
