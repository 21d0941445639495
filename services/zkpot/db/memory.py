"""In-memory twins of the four service repositories, for the services' unit tests; lost when the process exits.

Each keeps what the SQL version guarantees and the contract tests check on both: inserts keyed like the table's
primary key that report whether the row was new, the status checks (``UnknownStatus``), the unique indexes
(``DatabaseError``), the orderings, and JSON columns that come back as fresh copies of what JSON can hold.
They do not reproduce what only PostgreSQL refuses (a NUL byte in text, an integer beyond bigint).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from zkpot.db.errors import DatabaseError
from zkpot.db.rows import (
    AttestationRow,
    EvidenceRow,
    JobRow,
    ObservedRow,
    ProducerBlockRow,
    ProducerRoundRow,
    ProducerVoteRow,
    TrainerRoundRow,
    TxRow,
    ValidatorBlockRow,
    ValidatorVoteRow,
    VerdictRow,
)
from zkpot.db.sql import check_length, check_one_of
from zkpot.db.tables import OBSERVED_KIND_MAX, TX_STATUSES, VALIDATOR_BLOCK_STATUSES
from zkpot.db.trainer import TrainedRound
from zkpot.domain.messages import Attestation, Block, Transaction, Vote

Row = TypeVar("Row")
K = TypeVar("K")


def _now() -> datetime:
    return datetime.now(UTC)


def _json(value: Any) -> Any:
    """What a JSONB column gives back: a deep copy with JSON's types (tuples become lists)."""
    return json.loads(json.dumps(value))


class _Table(dict[K, Row]):
    """Rows by primary key, in insertion order (the order ``created_at`` would give)."""

    def insert(self, key: K, row: Row) -> bool:
        if key in self:
            return False
        self[key] = row
        return True

    def change(self, key: K, where: Callable[[Row], bool] = lambda _: True, **values: Any) -> bool:
        """UPDATE one row by key when ``where`` holds; False when no row matched."""
        row = self.get(key)
        if row is None or not where(row):
            return False
        self[key] = dataclasses.replace(row, **values)  # type: ignore[type-var]
        return True

    def read(self, key: K) -> Row | None:
        return copy.deepcopy(self.get(key))

    def select(self, where: Callable[[Row], bool], order: Callable[[Row], Any] | None = None) -> list[Row]:
        found = [row for row in self.values() if where(row)]
        return copy.deepcopy(found if order is None else sorted(found, key=order))

    def delete(self, where: Callable[[Row], bool]) -> int:
        """DELETE the rows ``where`` holds for; how many went."""
        gone = [key for key, row in self.items() if where(row)]
        for key in gone:
            del self[key]
        return len(gone)


def _latest(rows: Iterable[Row], height: Callable[[Row], int]) -> Row | None:
    return max(rows, key=height, default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Rejection:
    subject: str
    ref: str
    round: int
    reason: str
    detail: str


class _MemoryObserved:
    """The ``observed`` table of the producer, validator and trainer twins, keyed (owner, kind, ref)."""

    def __init__(self) -> None:
        self.observations: _Table[tuple[str, str, str], ObservedRow] = _Table()

    async def observe(self, owner: str, *, kind: str, round: int, sender: str, ref: str, payload: dict[str, Any],
                      stored_ms: int) -> bool:
        check_length("observed kind", kind, OBSERVED_KIND_MAX)
        return self.observations.insert((owner, kind, ref), ObservedRow(
            owner=owner, kind=kind, round=round, sender=sender, ref=ref, payload=_json(payload), stored_ms=stored_ms))

    async def observed(self, owner: str, round: int, kind: str) -> list[ObservedRow]:
        return self.observations.select(lambda r: (r.owner, r.round, r.kind) == (owner, round, kind),
                                        order=lambda r: (r.stored_ms, r.ref))

    async def forget_observed(self, owner: str, before_round: int) -> int:
        return self.observations.delete(lambda r: r.owner == owner and r.round < before_round)

    async def latest_observed_round(self, owner: str, kind: str) -> int | None:
        rounds = [r.round for r in self.observations.select(lambda r: (r.owner, r.kind) == (owner, kind),
                                                            order=lambda r: r.round)]
        return rounds[-1] if rounds else None


class MemoryProducerRepo(_MemoryObserved):
    """``ProducerStore`` in dicts: one live (proposed or final) block per height, as the partial index says."""

    def __init__(self) -> None:
        super().__init__()
        self.rounds: _Table[int, ProducerRoundRow] = _Table()
        self.txs: _Table[str, TxRow] = _Table()
        self.attestations: _Table[tuple[str, str], AttestationRow] = _Table()
        self.blocks: _Table[str, ProducerBlockRow] = _Table()
        self.votes: _Table[tuple[str, str], ProducerVoteRow] = _Table()
        self.refusals: _Table[tuple[str, str, int, str], _Rejection] = _Table()

    async def open_round(self, round: int, *, parent: str, global_model_cid: str, deadline: datetime) -> bool:
        return self.rounds.insert(round, ProducerRoundRow(
            round=round, parent=parent, global_model_cid=global_model_cid, opened_at=_now(), deadline=deadline,
            closed_at=None, state="open", block_hash=None, collection_s=None, aggregation_s=None,
            finalization_s=None))

    async def close_round(self, round: int, *, block_hash: str, collection_s: float, aggregation_s: float) -> bool:
        return self.rounds.change(round, _not_final, state="proposed", block_hash=block_hash, closed_at=_now(),
                                  collection_s=collection_s, aggregation_s=aggregation_s)

    async def finalize_round(self, round: int, *, finalization_s: float) -> bool:
        return self.rounds.change(round, _not_final, state="final", finalization_s=finalization_s)

    async def get_round(self, round: int) -> ProducerRoundRow | None:
        return self.rounds.read(round)

    async def latest_round(self) -> ProducerRoundRow | None:
        return self.rounds.read(max(self.rounds)) if self.rounds else None

    async def add_tx(self, tx: Transaction) -> bool:
        return self.txs.insert(tx.tx_id, TxRow(tx_id=tx.tx_id, round=tx.round, client=tx.client,
                                               tx=_json(tx.to_dict()), received_at=_now(), status="pending",
                                               reason=None))

    async def set_tx_status(self, tx_id: str, status: str, reason: str | None = None) -> bool:
        check_one_of("tx status", status, TX_STATUSES)
        return self.txs.change(tx_id, status=status, reason=reason)

    async def txs_for_round(self, round: int) -> list[TxRow]:
        return self.txs.select(lambda r: r.round == round, order=lambda r: r.tx_id)

    async def add_attestation(self, attestation: Attestation) -> bool:
        a = attestation
        return self.attestations.insert((a.tx_id, a.validator), AttestationRow(
            tx_id=a.tx_id, validator=a.validator, round=a.round, valid=a.valid, reason=a.reason,
            attestation=_json(a.to_dict())))

    async def attestations_for_round(self, round: int) -> list[AttestationRow]:
        return self.attestations.select(lambda r: r.round == round, order=lambda r: (r.tx_id, r.validator))

    async def add_block(self, block: Block) -> bool:
        header = block.header
        if block.hash in self.blocks:
            return False
        if any(r.height == header.height and r.status != "failed" for r in self.blocks.values()):
            raise DatabaseError(f"database error: a live block at height {header.height} is stored")
        return self.blocks.insert(block.hash, ProducerBlockRow(
            hash=block.hash, height=header.height, round=header.round, block=_json(block.to_dict()),
            proposed_at=_now(), finalized_at=None, status="proposed"))

    async def finalize_block(self, block_hash: str) -> bool:
        return self.blocks.change(block_hash, _proposed, status="final", finalized_at=_now())

    async def fail_block(self, block_hash: str) -> bool:
        return self.blocks.change(block_hash, _proposed, status="failed")

    async def get_block(self, block_hash: str) -> ProducerBlockRow | None:
        return self.blocks.read(block_hash)

    async def latest_final_block(self) -> ProducerBlockRow | None:
        final = _latest((r for r in self.blocks.values() if r.status == "final"), lambda r: r.height)
        return copy.deepcopy(final)

    async def add_vote(self, vote: Vote) -> bool:
        return self.votes.insert((vote.block_hash, vote.validator), ProducerVoteRow(
            block_hash=vote.block_hash, validator=vote.validator, accept=vote.accept, reason=vote.reason,
            vote=_json(vote.to_dict())))

    async def votes_for(self, block_hash: str) -> list[ProducerVoteRow]:
        return self.votes.select(lambda r: r.block_hash == block_hash, order=lambda r: r.validator)

    async def add_rejection(self, *, subject: str, ref: str, round: int, reason: str, detail: str) -> bool:
        return self.refusals.insert((subject, ref, round, reason), _Rejection(
            subject=subject, ref=ref, round=round, reason=reason, detail=detail[:500]))

    async def rejections(self) -> list[tuple[str, str, int, str]]:
        return [(r.subject, r.ref, r.round, r.reason) for r in self.refusals.values()]


def _not_final(row: ProducerRoundRow) -> bool:
    return row.state != "final"


def _proposed(row: ProducerBlockRow) -> bool:
    return row.status == "proposed"


class MemoryValidatorRepo(_MemoryObserved):
    """``ValidatorStore`` in dicts, keyed by replica like the SQL tables; at most one final block per height."""

    def __init__(self) -> None:
        super().__init__()
        self.verdicts: _Table[tuple[str, str], VerdictRow] = _Table()
        self.blocks: _Table[tuple[str, str], ValidatorBlockRow] = _Table()
        self.votes: _Table[tuple[str, str, str], ValidatorVoteRow] = _Table()
        self.refusals: _Table[tuple[str, str, str, int, str], _Rejection] = _Table()
        self.accepted: _Table[tuple[str, int], str] = _Table()
        self.kept: _Table[tuple[str, str], EvidenceRow] = _Table()

    async def add_verdict(self, attestation: Attestation, tx: Transaction, verify_s: float | None = None) -> bool:
        a = attestation
        return self.verdicts.insert((a.validator, a.tx_id), VerdictRow(
            validator=a.validator, tx_id=a.tx_id, round=a.round, client=tx.client, commitment=tx.commitment,
            valid=a.valid, reason=a.reason, verify_s=verify_s, attestation=_json(a.to_dict()), created_at=_now()))

    async def verdict(self, validator: str, tx_id: str) -> VerdictRow | None:
        return self.verdicts.read((validator, tx_id))

    async def txs_seen_in_round(self, validator: str, round: int) -> list[VerdictRow]:
        return self.verdicts.select(lambda r: r.validator == validator and r.round == round)

    async def add_block(self, validator: str, block: Block, status: str, vote_reason: str | None = None) -> bool:
        check_one_of("block status", status, VALIDATOR_BLOCK_STATUSES)
        if (validator, block.hash) in self.blocks:
            return False
        header = block.header
        self._check_one_final(validator, block.hash, header.height, status)
        return self.blocks.insert((validator, block.hash), ValidatorBlockRow(
            validator=validator, hash=block.hash, height=header.height, round=header.round,
            block=_json(block.to_dict()), status=status, vote_reason=vote_reason, created_at=_now()))

    async def set_block_status(self, validator: str, block_hash: str, status: str) -> bool:
        check_one_of("block status", status, VALIDATOR_BLOCK_STATUSES)
        row = self.blocks.get((validator, block_hash))
        if row is None or row.status == status:
            return False
        self._check_one_final(validator, block_hash, row.height, status)
        return self.blocks.change((validator, block_hash), status=status)

    def _check_one_final(self, validator: str, block_hash: str, height: int, status: str) -> None:
        if status == "final" and any(r.validator == validator and r.height == height and r.status == "final"
                                     and r.hash != block_hash for r in self.blocks.values()):
            raise DatabaseError(f"database error: replica {validator[:8]} has a final block at height {height}")

    async def block(self, validator: str, block_hash: str) -> ValidatorBlockRow | None:
        return self.blocks.read((validator, block_hash))

    async def blocks_at_height(self, validator: str, height: int) -> list[ValidatorBlockRow]:
        return self.blocks.select(lambda r: r.validator == validator and r.height == height)

    async def accept_once(self, validator: str, height: int, block_hash: str) -> str:
        self.accepted.insert((validator, height), block_hash)
        return self.accepted[(validator, height)]

    async def add_evidence(self, validator: str, block: Block, conflicts_with: str) -> bool:
        return self.kept.insert((validator, block.hash), EvidenceRow(
            validator=validator, hash=block.hash, height=block.header.height, conflicts_with=conflicts_with,
            block=_json(block.to_dict()), created_at=_now()))

    async def evidence(self, validator: str) -> list[EvidenceRow]:
        return self.kept.select(lambda r: r.validator == validator, order=lambda r: r.height)

    async def latest_final(self, validator: str) -> ValidatorBlockRow | None:
        final = _latest(self._final(validator), lambda r: r.height)
        return copy.deepcopy(final)

    async def commitments_used(self, validator: str) -> set[str]:
        return {str(tx["commitment"]) for row in self._final(validator) for tx in row.block["txs"]}

    def _final(self, validator: str) -> list[ValidatorBlockRow]:
        return [r for r in self.blocks.values() if r.validator == validator and r.status == "final"]

    async def add_vote(self, validator: str, vote: Vote) -> bool:
        return self.votes.insert((validator, vote.block_hash, vote.validator), ValidatorVoteRow(
            validator=validator, block_hash=vote.block_hash, voter=vote.validator, accept=vote.accept,
            vote=_json(vote.to_dict())))

    async def votes_for(self, validator: str, block_hash: str) -> list[ValidatorVoteRow]:
        return self.votes.select(lambda r: r.validator == validator and r.block_hash == block_hash,
                                 order=lambda r: r.voter)

    async def add_rejection(self, validator: str, *, subject: str, ref: str, round: int, reason: str,
                            detail: str) -> bool:
        return self.refusals.insert((validator, subject, ref, round, reason),
                                    _Rejection(subject=subject, ref=ref, round=round, reason=reason,
                                               detail=detail[:500]))

    async def rejections(self, validator: str) -> list[tuple[str, str, int, str]]:
        return [(r.subject, r.ref, r.round, r.reason) for key, r in self.refusals.items() if key[0] == validator]


class MemoryTrainerRepo(_MemoryObserved):
    """``TrainerStore`` in a dict keyed by (client, round); the first record of a round is kept."""

    def __init__(self) -> None:
        super().__init__()
        self.rounds: _Table[tuple[str, int], TrainerRoundRow] = _Table()

    async def record_round(self, record: TrainedRound) -> bool:
        values = dataclasses.asdict(record) | {"job": None if record.job is None else _json(record.job)}
        return self.rounds.insert((record.client, record.round), TrainerRoundRow(**values, created_at=_now()))

    async def set_status(self, client: str, round: int, status: str, *, job_id: str | None = None) -> bool:
        values: dict[str, Any] = {"status": status} if job_id is None else {"status": status, "job_id": job_id}
        return self.rounds.change((client, round), **values)

    async def get_round(self, client: str, round: int) -> TrainerRoundRow | None:
        return self.rounds.read((client, round))

    async def latest_round(self, client: str) -> TrainerRoundRow | None:
        rounds = [key[1] for key in self.rounds if key[0] == client]
        return self.rounds.read((client, max(rounds))) if rounds else None


class MemoryProverRepo:
    """``ProverStore`` in a dict keyed by job id."""

    def __init__(self) -> None:
        self.jobs: _Table[str, JobRow] = _Table()

    async def enqueue(self, job_id: str, *, client: str, round: int, model_cid: str,
                      job: Mapping[str, Any] | None = None) -> bool:
        return self.jobs.insert(job_id, JobRow(
            job_id=job_id, client=client, round=round, model_cid=model_cid, status="queued", attempts=0,
            job=_json(dict(job or {})), queued_at=_now(), started_at=None, finished_at=None, witness_s=None,
            prove_s=None, peak_rss_mb=None, proof_cid=None, tx_id=None, error=None))

    async def start(self, job_id: str) -> int | None:
        row = self.jobs.get(job_id)
        if row is None or row.status == "done":
            return None
        self.jobs.change(job_id, status="running", attempts=row.attempts + 1, started_at=_now(), error=None)
        return row.attempts + 1

    async def finish(self, job_id: str, *, proof_cid: str, tx_id: str, witness_s: float, prove_s: float,
                     peak_rss_mb: float) -> bool:
        return self.jobs.change(job_id, _not_done, status="done", error=None, finished_at=_now(),
                                proof_cid=proof_cid, tx_id=tx_id, witness_s=witness_s, prove_s=prove_s,
                                peak_rss_mb=peak_rss_mb)

    async def fail(self, job_id: str, error: str) -> bool:
        return self.jobs.change(job_id, _not_done, status="failed", error=error, finished_at=_now())

    async def set_result(self, job_id: str, result: Mapping[str, Any]) -> bool:
        row = self.jobs.get(job_id)
        return row is not None and self.jobs.change(job_id, job={**row.job, "result": _json(dict(result))})

    async def get(self, job_id: str) -> JobRow | None:
        return self.jobs.read(job_id)

    async def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.jobs.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts


def _not_done(row: JobRow) -> bool:
    return row.status != "done"

