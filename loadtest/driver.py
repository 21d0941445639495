"""The asyncio driver: simulated federation members submitting real ZKPoT transactions round after round.

One process, one event loop, the project's own clients: a ``JetStreamBus`` (publish ``tx.submitted`` and follow the
event stream through its own durable consumer) and a ``GatewayClient`` (upload proofs and sealed models). Each
member, per round: seal its pool model to the aggregator key, upload it and its proof, sign the transaction with
its own key and publish it (msg id = tx id), exactly what a trainer does once its proof is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from zkpot.bus import JetStreamBus
from zkpot.bus.api import Bus
from zkpot.bus.errors import BusError
from zkpot.bus.parties import LOADTEST
from zkpot.bus.subjects import EVENTS, TX_SUBMITTED
from zkpot.domain import SigningKey
from zkpot.domain.events import RoundOpen
from zkpot.errors import InputError
from zkpot.gateway.client import GatewayClient
from zkpot.gateway.wire import BlobKind
from zkpot.ml.model import Arch, weights_from_bytes
from zkpot.roles.client import make_tx, seal_model
from zkpot.storage.errors import StorageError

from loadtest.events import SUBJECTS, EventLog, Final
from loadtest.pool import PoolEntry
from loadtest.target import Target

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Submission:
    tx_id: str
    round: int
    client: int
    started: float  # when the member began uploading
    submitted: float  # when the server stored tx.submitted
    stored_new: bool  # False: the server dropped it as a duplicate msg id


@dataclasses.dataclass(frozen=True)
class SubmitError:
    """A member that could not upload or publish (after the clients' own retries): reported, not fatal."""

    round: int
    client: int
    error: str


@dataclasses.dataclass
class RunRecord:
    submissions: list[Submission]
    log: EventLog
    rounds: list[int]
    started: float
    finished: float
    errors: list[SubmitError] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class DriveOptions:
    clients: int
    rounds: int
    concurrency: int = 32  # members uploading at once
    round_timeout_s: float = 3600.0


class Driver:
    def __init__(self, target: Target, pool: Sequence[PoolEntry], options: DriveOptions,
                 on_status: Callable[[str], None] = lambda _: None) -> None:
        self.target, self.pool, self.options, self.on_status = target, pool, options, on_status
        self.players = target.players(options.clients)
        self.log = EventLog()
        self.arch = Arch(tuple(int(n) for n in target.genesis.arch["layers"]))
        self.submissions: list[Submission] = []
        self.errors: list[SubmitError] = []

    async def run(self) -> RunRecord:
        nkey = self.target.nkey_file
        bus = await JetStreamBus.connect(self.target.nats_url, name="loadtest", nkey_file=nkey)
        gateway = GatewayClient(self.target.gateway_url)
        try:
            await bus.ensure_streams()
            # authenticated: the `loadtest` identity's provisioned durable; open: a fresh one, deleted after
            durable = LOADTEST.name if nkey is not None else f"loadtest-{int(time.time() * 1000)}"
            sub = await bus.subscribe(SUBJECTS, durable, self.log.on_event)
            try:
                return await self._drive(bus, gateway, durable)
            finally:
                await sub.stop()
                if nkey is None:
                    with contextlib.suppress(Exception):  # a consumer left behind only costs the server a little
                        await bus.js.delete_consumer(EVENTS, durable)
        finally:
            await gateway.close()
            await bus.close()

    async def _drive(self, bus: JetStreamBus, gateway: GatewayClient, durable: str) -> RunRecord:
        await self._caught_up(bus, durable)
        entries = self._fresh_entries()
        started, rounds = time.time(), list[int]()
        for k in range(self.options.rounds):
            event = await self._next_open(rounds[-1] if rounds else 0)
            batch = entries[k * self.options.clients:(k + 1) * self.options.clients]
            await self._submit_round(bus, gateway, event, batch)
            await self._wait(f"the block of round {event.round}", self._final_finder(event.round), event.round)
            rounds.append(event.round)
        return RunRecord(self.submissions, self.log, rounds, started, time.time(), self.errors)

    async def _caught_up(self, bus: JetStreamBus, durable: str) -> None:
        """Wait until the stream's history has been delivered, so the open round is known."""
        async def pending() -> bool:
            state = await bus.consumer_state(EVENTS, durable)
            return state.pending == 0 and state.ack_pending == 0

        deadline = time.monotonic() + 120
        while not await pending():
            if time.monotonic() > deadline:
                raise InputError("the event stream's history did not arrive within 120 s")
            await asyncio.sleep(0.2)

    def _fresh_entries(self) -> list[PoolEntry]:
        """Pool entries whose commitments this chain has not included yet, as many as the run needs."""
        used = self.log.used_commitments()
        fresh = [e for e in self.pool if e.commitment not in used]
        need = self.options.clients * self.options.rounds
        if len(fresh) < need:
            used_here = len(self.pool) - len(fresh)
            raise InputError(f"the run needs {need} proofs this chain has not seen; {used_here} of the pool's "
                             f"{len(self.pool)} are on it already: rerun with --pool-size {need + used_here}")
        return fresh[:need]

    async def _next_open(self, after: int) -> RoundOpen:
        def find() -> RoundOpen | None:
            r = self.log.open_round()
            return RoundOpen.from_dict(self.log.opens[r][1]) if r is not None and r > after else None

        event = await self._wait(f"a round after {after} to open", find)
        if event.deadline_ms < time.time() * 1000:
            raise InputError(f"round {event.round} is past its deadline; nothing to join")
        return event

    async def _submit_round(self, bus: Bus, gateway: GatewayClient, event: RoundOpen,
                            batch: Sequence[PoolEntry]) -> None:
        gate = asyncio.Semaphore(self.options.concurrency)

        async def one(member: tuple[int, SigningKey], entry: PoolEntry) -> None:
            async with gate:
                try:
                    self.submissions.append(await self._submit(bus, gateway, event, member, entry))
                except (StorageError, BusError) as e:
                    self.errors.append(SubmitError(event.round, member[0], f"{type(e).__name__}: {e}"))

        self.on_status(f"round {event.round}: submitting {len(batch)} transactions")
        await asyncio.gather(*(one(m, e) for m, e in zip(self.players, batch, strict=True)))
        failed = sum(1 for e in self.errors if e.round == event.round)
        self.on_status(f"round {event.round}: {len(batch) - failed} submitted, {failed} failed; waiting for its block")

    async def _submit(self, bus: Bus, gateway: GatewayClient, event: RoundOpen,
                      member: tuple[int, SigningKey], entry: PoolEntry) -> Submission:
        index, key = member
        started = time.time()
        model = seal_model(self.target.genesis, weights_from_bytes(self.arch, entry.weights), entry.n_train)
        proof_cid, model_cid = await asyncio.gather(  # each upload signed by the member it plays
            gateway.put(BlobKind.PROOF, entry.proof, round=event.round, signer=key),
            gateway.put(BlobKind.MODEL, model.sealed, round=event.round, signer=key))
        tx = make_tx(key, event.round, event.parent, commitment=entry.commitment, correct=entry.correct,
                     samples=entry.samples, proof=entry.proof, proof_cid=proof_cid, model=model,
                     model_cid=model_cid, now_ms=int(time.time() * 1000))
        stored = await bus.publish(TX_SUBMITTED, tx.to_dict(), tx.tx_id)
        return Submission(tx.tx_id, event.round, index, started, time.time(), stored)

    async def _wait(self, what: str, found: Callable[[], T | None], round_: int | None = None) -> T:
        deadline = time.monotonic() + self.options.round_timeout_s
        while (value := found()) is None:
            self.target.check_alive()
            if round_ is not None:
                self.on_status(self._progress(round_))
            if time.monotonic() > deadline:
                raise InputError(f"timed out waiting for {what}")
            self.log.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.log.changed.wait(), 1.0)
        return value

    def _final_finder(self, round_: int) -> Callable[[], Final | None]:
        return lambda: self.log.final_of_round(round_)

    def _progress(self, round_: int) -> str:
        mine = [s.tx_id for s in self.submissions if s.round == round_]
        quorum = self.target.genesis.quorum
        verified = sum(1 for t in mine if self.log.verified_at(t, quorum) is not None)
        attested = sum(len(self.log.attestations.get(t, {})) for t in mine)
        proposed = " · block proposed" if round_ in self.log.proposed else ""
        return (f"round {round_}: {len(mine)} submitted · {attested} attestations · {verified} verified by a "
                f"quorum{proposed}")
