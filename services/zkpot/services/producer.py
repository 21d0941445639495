"""The block producer: opens rounds, collects attested transactions, opens and checks the verified models, aggregates
them, publishes the global model, proposes the block and finalizes it on a quorum of votes.

Every step is driven from its database, so a restarted producer resumes the round where it stood: it re-publishes
what it had published (the message ids make that harmless) and carries on. A block becomes final in its database
only after ``block.finalized`` is published; a restarted producer announces its final tip again, and every proposal
carries its parent's finality certificate, so a validator that missed an announcement catches up from the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import Any

from zkpot.bus import Bus, Delivery, Subscription
from zkpot.bus.subjects import (
    BLOCK_FINALIZED,
    BLOCK_PROPOSED,
    BLOCK_VOTE,
    ROUND_OPEN,
    TX_ATTESTED,
    TX_SUBMITTED,
    finalized_id,
    proposed_id,
    round_open_id,
)
from zkpot.db.stores import ProducerStore
from zkpot.domain import (
    Attestation,
    Block,
    BlockHeader,
    BoxKeyPair,
    Genesis,
    Reason,
    SigningKey,
    Transaction,
    Vote,
    open_sealed,
    sha256_hex,
)
from zkpot.domain.errors import SealError
from zkpot.domain.events import NO_CERTIFICATE, Certificate, Finalized, Proposal, RoundOpen
from zkpot.domain.validation import check_certificate
from zkpot.errors import InputError
from zkpot.gateway.wire import BlobKind
from zkpot.metrics import Metrics
from zkpot.ml import data as zdata
from zkpot.ml.model import Arch, Weights, count_correct, weights_from_bytes, weights_to_bytes
from zkpot.pool import spawn_pool
from zkpot.roles import producer as rproducer
from zkpot.services.blobs import Blobs
from zkpot.services.runtime import cancel
from zkpot.storage.errors import StorageError
from zkpot.task import initial_model_bytes
from zkpot.zk.system import ProofSystem

log = logging.getLogger("zkpot.producer")
MAX_MODEL_BYTES = 16 * 1024 * 1024
POLL_S = 1.0
FETCH_CONCURRENCY = 16  # sealed models fetched from the gateway at once while building a block


def _commit(job: tuple[ProofSystem, Weights]) -> str:
    system, weights = job
    return system.commitment(weights)


class Producer:
    def __init__(self, bus: Bus, store: ProducerStore, blobs: Blobs, genesis: Genesis, circuit: ProofSystem,
                 key: SigningKey, aggregator: BoxKeyPair, rounds: int, metrics: Metrics, *, workers: int = 1,
                 pool: Callable[[int], Executor] = spawn_pool) -> None:
        """``pool(workers)`` makes the executor commitments are re-derived in (default: spawned processes)."""
        if key.public_hex != genesis.producer or aggregator.public_hex != genesis.aggregator_box_key:
            raise InputError("the producer or aggregator key does not match genesis")
        self.bus, self.repo, self.blobs, self.genesis, self.circuit = bus, store, blobs, genesis, circuit
        self.key, self.aggregator, self.rounds = key, aggregator, rounds
        if workers < 1:
            raise InputError(f"the producer needs at least 1 aggregation worker, not {workers}")
        self.workers, self._make_pool = workers, pool
        self.arch = Arch(tuple(int(n) for n in genesis.arch["layers"]))
        self.metrics = metrics
        self.pool: Executor | None = None
        self._wake = asyncio.Event()
        self._subs: list[Subscription] = []
        self._driver: asyncio.Task[None] | None = None
        self._test = zdata.public_test_set(genesis.samples, genesis.task)

    # --- lifecycle ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self.pool = self._make_pool(self.workers)
        await self._publish_initial_model()
        await self._announce_tip()
        bus = self.bus
        self._subs = [
            await bus.subscribe(TX_SUBMITTED, "producer-txs", self.on_tx, metrics=self.metrics),
            await bus.subscribe(TX_ATTESTED, "producer-attestations", self.on_attestation, metrics=self.metrics),
            await bus.subscribe(BLOCK_VOTE, "producer-votes", self.on_vote, metrics=self.metrics),
        ]
        self._driver = asyncio.create_task(self._drive())

    async def stop(self) -> None:
        await cancel(self._driver)
        await asyncio.gather(*(s.stop() for s in self._subs))
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)

    async def done(self) -> None:
        waits = [asyncio.ensure_future(s.wait()) for s in self._subs]
        if self._driver is not None:
            waits.append(self._driver)
        finished, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_EXCEPTION)
        for task in finished:
            task.result()
        await asyncio.Event().wait()  # the producer serves until told to stop, even after its last round

    async def _publish_initial_model(self) -> None:
        data = initial_model_bytes(self.arch)
        cid = await self.blobs.put(BlobKind.GLOBAL, data)
        if cid != self.genesis.initial_model_cid:
            raise InputError(f"the initial model's CID {cid} differs from genesis {self.genesis.initial_model_cid}")

    # --- what the consumers store ------------------------------------------------------------------------------

    async def on_tx(self, msg: Delivery) -> None:
        tx = Transaction.from_dict(msg.payload)
        reason = rproducer.admit(self.genesis, tx)
        if reason is not Reason.OK:  # never stored: it neither joins a block nor decides for a member
            if await self.repo.add_rejection(subject=TX_SUBMITTED, ref=tx.tx_id, round=tx.round, reason=str(reason),
                                             detail=f"client {tx.client}"):
                self.metrics["zkpot_tx_rejected"].labels(str(reason)).inc()
            log.warning("dropped a tx", extra={"tx": tx.tx_id, "round": tx.round, "reason": str(reason)})
            return
        if await self.repo.add_tx(tx):
            self.metrics["zkpot_tx_received"].inc()
        self._wake.set()

    async def on_attestation(self, msg: Delivery) -> None:
        attestation = Attestation.from_dict(msg.payload)
        if attestation.validator in self.genesis.validators and attestation.signature_valid():
            await self.repo.add_attestation(attestation)
        self._wake.set()

    async def on_vote(self, msg: Delivery) -> None:
        vote = Vote.from_dict(msg.payload)
        if vote.validator in self.genesis.validators and vote.signature_valid():
            await self.repo.add_vote(vote)
        self._wake.set()

    # --- the round driver --------------------------------------------------------------------------------------

    async def _drive(self) -> None:
        while True:
            head = await self._head()
            if self.rounds and head is not None and head.round >= self.rounds:
                log.info("last round final; opening no more", extra={"rounds": self.rounds})
                return
            await self._run_round(head.round + 1 if head else 1, head)

    async def _head(self) -> BlockHeader | None:
        row = await self.repo.latest_final_block()
        return Block.from_dict(row.block).header if row else None

    async def _run_round(self, round_: int, head: BlockHeader | None) -> None:
        event = await self._open(round_, head)
        self.metrics["zkpot_current_round"].set(round_)
        t_open = time.monotonic()
        row = await self.repo.get_round(round_)
        block = None
        if row is not None and row.state == "proposed" and row.block_hash:
            stored = await self.repo.get_block(row.block_hash)
            block = Block.from_dict(stored.block) if stored and stored.status == "proposed" else None
        if block is None:
            await self._collect(event)
            collection_s = time.monotonic() - t_open
            t = time.monotonic()
            block = await self._build_block(event, head)
            await self.repo.add_block(block)
            await self.repo.close_round(round_, block_hash=block.hash, collection_s=round(collection_s, 3),
                                        aggregation_s=round(time.monotonic() - t, 3))
            self._observe_phase("collection", collection_s)
            self._observe_phase("aggregation", time.monotonic() - t)
        await self._propose_and_finalize(block, t_open)

    async def _open(self, round_: int, head: BlockHeader | None) -> RoundOpen:
        row = await self.repo.get_round(round_)
        if row is None:
            deadline = datetime.now(UTC) + timedelta(seconds=self.genesis.round_deadline_s)
            parent = head.block_hash if head else self.genesis.genesis_hash
            model = head.model_cid if head else self.genesis.initial_model_cid
            await self.repo.open_round(round_, parent=parent, global_model_cid=model, deadline=deadline)
            row = await self.repo.get_round(round_)
        assert row is not None
        event = RoundOpen(round_, row.parent, row.global_model_cid, int(row.deadline.timestamp() * 1000),
                          self.key.public_hex).sign(self.key)
        await self.bus.publish(ROUND_OPEN, event.to_dict(), round_open_id(round_))
        log.info("round open", extra={"round": round_, "deadline_ms": event.deadline_ms})
        return event

    async def _collect(self, event: RoundOpen) -> None:
        """Wait until every registered client has a decided tx (valid or not), or the deadline."""
        while time.time() * 1000 < event.deadline_ms:
            txs, atts = await self._round_txs(event)
            if _all_decided(self.genesis, txs, atts):
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
        log.warning("round deadline reached", extra={"round": event.round})

    async def _round_txs(self, event: RoundOpen) -> tuple[list[Transaction], dict[str, list[Attestation]]]:
        txs = [Transaction.from_dict(row.tx) for row in await self.repo.txs_for_round(event.round)]
        txs = [tx for tx in txs if tx.parent == event.parent]
        atts: dict[str, list[Attestation]] = {}
        for row in await self.repo.attestations_for_round(event.round):
            atts.setdefault(row.tx_id, []).append(Attestation.from_dict(row.attestation))
        return txs, atts

    async def _build_block(self, event: RoundOpen, head: BlockHeader | None) -> Block:
        txs, atts = await self._round_txs(event)
        included, rejected = rproducer.split_attested(self.genesis, txs, atts)
        # Fetch and open the models FETCH_CONCURRENCY at a time (I/O), then re-derive all their commitments at once
        # in the ``workers`` processes (CPU).
        fetch = asyncio.Semaphore(FETCH_CONCURRENCY)

        async def open_one(tx: Transaction) -> Weights | None:
            async with fetch:
                return await self._open_model(tx)

        opened_weights = await asyncio.gather(*(open_one(tx) for tx in included))
        loaded = {tx.tx_id: w for tx, w in zip(included, opened_weights, strict=True)}
        todo = [(tx.tx_id, w) for tx in included if (w := loaded[tx.tx_id]) is not None]
        derived = await asyncio.gather(*(self._commitment(w) for _, w in todo))
        commitments = {tx_id: c for (tx_id, _), c in zip(todo, derived, strict=True)}
        opened, dropped = rproducer.open_models(included, lambda tx: loaded[tx.tx_id],
                                                _lookup(commitments, loaded))
        if opened:
            weights = rproducer.aggregate(self.genesis, opened)
        else:  # nothing verified: the global model carries over
            weights = weights_from_bytes(self.arch, await self._get(event.global_model_cid))
        data = weights_to_bytes(weights)
        cid = await self.blobs.put(BlobKind.GLOBAL, data, round=event.round)
        model = rproducer.GlobalModel(cid, sha256_hex(data), await self._commitment(weights),
                                      count_correct(self.arch, weights, self._test))
        block = rproducer.make_block(self.genesis, head, event.round, [tx for tx, _ in opened], [*rejected, *dropped],
                                     model, self.key, int(time.time() * 1000))
        for tx in block.txs:
            await self.repo.set_tx_status(tx.tx_id, "included")
        for entry in block.rejected:
            await self.repo.set_tx_status(entry.tx_id, "rejected", entry.reason)
            self.metrics["zkpot_tx_rejected"].labels(entry.reason).inc()
        self.metrics["zkpot_tx_accepted"].inc(len(block.txs))
        log.info("block built", extra={"round": event.round, "accepted": len(block.txs),
                                       "rejected": len(block.rejected), "global_correct": model.correct})
        return block

    async def _open_model(self, tx: Transaction) -> Weights | None:
        try:
            sealed = await self._get(tx.model_cid)
        except StorageError:
            return None
        if sha256_hex(sealed) != tx.model_sha256:
            return None
        try:
            return weights_from_bytes(self.arch, open_sealed(sealed, self.aggregator))
        except (SealError, InputError):
            return None

    async def _get(self, cid: str) -> bytes:
        return await self.blobs.get(cid, MAX_MODEL_BYTES)

    async def _commitment(self, weights: Weights) -> str:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, _commit, (self.circuit, weights))

    async def _propose_and_finalize(self, block: Block, t_open: float) -> None:
        proposal = await self._proposal(block)
        await self.bus.publish(BLOCK_PROPOSED, proposal.to_dict(), proposed_id(block.hash))
        t = time.monotonic()
        votes = await self._await_votes(block)
        if votes is None:
            await self.repo.fail_block(block.hash)
            log.error("the validators refused the block", extra={"block": block.hash})
            await asyncio.sleep(5)
            return
        await self._announce(Finalized(proposal, tuple(votes)))  # published first, then final here
        await self.repo.finalize_block(block.hash)
        await self.repo.finalize_round(block.header.round, finalization_s=round(time.monotonic() - t, 3))
        self._observe_phase("finalization", time.monotonic() - t)
        self._record_final(block, time.monotonic() - t_open)

    async def _proposal(self, block: Block) -> Proposal:
        """The block with its txs' attestations and its parent's finality certificate."""
        _, atts = await self._round_txs(RoundOpen(block.header.round, block.header.prev_hash, "", 0))
        parent = NO_CERTIFICATE
        if block.header.height > 1:
            parent = Certificate(block.header.prev_hash, block.header.height - 1,
                                 tuple(await self._accepting(block.header.prev_hash, block.header.height - 1)))
        return Proposal.of(block, atts, parent)

    async def _votes(self, block_hash: str, height: int) -> list[Vote]:
        """The stored votes on the block that name its height (a vote for another height certifies nothing)."""
        votes = (Vote.from_dict(row.vote) for row in await self.repo.votes_for(block_hash))
        return [v for v in votes if v.height == height]

    async def _accepting(self, block_hash: str, height: int) -> list[Vote]:
        return [v for v in await self._votes(block_hash, height) if v.accept]

    async def _announce(self, final: Finalized) -> None:
        """Publish ``block.finalized``; a duplicate answer is not trusted to mean the message is stored, and
        needs nothing more: the next proposal carries the certificate, and a restart announces the tip again."""
        if not await self.bus.publish(BLOCK_FINALIZED, final.to_dict(), finalized_id(final.block.hash)):
            log.info("block.finalized was a duplicate", extra={"block": final.block.hash})

    async def _announce_tip(self) -> None:
        """Announce the last final block again (same msg id), for validators that never heard of it."""
        row = await self.repo.latest_final_block()
        if row is None:
            return
        block = Block.from_dict(row.block)
        votes = await self._accepting(block.hash, block.header.height)
        await self._announce(Finalized(await self._proposal(block), tuple(votes)))
        log.info("announced the final tip again", extra={"height": block.header.height, "block": block.hash})

    async def _await_votes(self, block: Block) -> list[Vote] | None:
        """The accepting quorum's votes, or None once enough validators refused that no quorum can form."""
        n = len(self.genesis.validators)
        while True:
            votes = await self._votes(block.hash, block.header.height)
            if check_certificate(block.hash, block.header.height, votes, self.genesis) is Reason.OK:
                return [v for v in votes if v.accept]
            if sum(not v.accept for v in votes) > n - self.genesis.quorum:
                return None
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    def _observe_phase(self, phase: str, seconds: float) -> None:
        self.metrics["zkpot_round_phase_seconds"].labels(phase).observe(seconds)

    def _record_final(self, block: Block, round_s: float) -> None:
        h = block.header
        m = self.metrics
        m["zkpot_blocks_finalized"].inc()
        m["zkpot_chain_height"].set(h.height)
        m["zkpot_round_duration_seconds"].observe(round_s)
        m["zkpot_global_accuracy"].set(h.global_correct / max(1, h.global_samples))
        m["zkpot_leader_accuracy"].set(h.leader_correct / max(1, h.samples))
        m["zkpot_round_txs"].labels("accepted").set(h.accepted)
        m["zkpot_round_txs"].labels("rejected").set(h.rejected)
        log.info("block final", extra={"height": h.height, "round": h.round, "block": block.hash,
                                       "leader_correct": h.leader_correct, "global_correct": h.global_correct,
                                       "round_s": round(round_s, 1)})


def _lookup(commitments: dict[str, str], loaded: dict[str, Weights | None]) -> Any:
    """``open_models``' commit callback over commitments computed beforehand (off the event loop)."""
    by_id = {id(w): commitments[tx_id] for tx_id, w in loaded.items() if w is not None}
    return lambda weights: by_id[id(weights)]


def _all_decided(genesis: Genesis, txs: list[Transaction], atts: dict[str, list[Attestation]]) -> bool:
    """Every registered client has a tx of its own that reached a quorum of valid attestations, or enough refusals
    that no quorum can form. ``txs`` are the stored ones, which ``on_tx`` admitted (signed by a genesis member),
    and ``atts`` come from genesis validators (``on_attestation``)."""
    n, q = len(genesis.validators), genesis.quorum
    decided: set[str] = set()
    for tx in txs:
        found = {a.validator: a.valid for a in atts.get(tx.tx_id, ())}
        valid = sum(found.values())
        if valid >= q or len(found) - valid > n - q:
            decided.add(tx.client)
    return decided >= set(genesis.clients)
