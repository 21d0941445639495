"""Rows the repositories return: frozen dataclasses whose fields are exactly their table's columns.

JSONB columns come back as plain dicts (the domain's ``to_dict()`` form); decode them with the message's
``from_dict`` when the typed message is needed.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any


@dataclasses.dataclass(frozen=True, kw_only=True)
class JobRow:
    job_id: str
    client: str
    round: int
    model_cid: str
    status: str
    attempts: int
    job: dict[str, Any]
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    witness_s: float | None
    prove_s: float | None
    peak_rss_mb: float | None
    proof_cid: str | None
    tx_id: str | None
    error: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrainerRoundRow:
    client: str
    round: int
    parent: str
    global_model_cid: str
    model_cid: str | None
    model_sha256: str | None
    n_train: int | None
    float_correct: int | None
    train_s: float | None
    job_id: str | None
    status: str
    created_at: datetime
    job: dict[str, Any] | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class VerdictRow:
    validator: str
    tx_id: str
    round: int
    client: str
    commitment: str
    valid: bool
    reason: str
    verify_s: float | None
    attestation: dict[str, Any]
    created_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidatorBlockRow:
    validator: str
    hash: str
    height: int
    round: int
    block: dict[str, Any]
    status: str
    vote_reason: str | None
    created_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class ValidatorVoteRow:
    validator: str
    block_hash: str
    voter: str
    accept: bool
    vote: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class EvidenceRow:
    """A producer-signed block at a height where this replica holds another (``conflicts_with``)."""

    validator: str
    hash: str
    height: int
    conflicts_with: str
    block: dict[str, Any]
    created_at: datetime


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProducerRoundRow:
    round: int
    parent: str
    global_model_cid: str
    opened_at: datetime
    deadline: datetime
    closed_at: datetime | None
    state: str
    block_hash: str | None
    collection_s: float | None
    aggregation_s: float | None
    finalization_s: float | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class TxRow:
    tx_id: str
    round: int
    client: str
    tx: dict[str, Any]
    received_at: datetime
    status: str
    reason: str | None


@dataclasses.dataclass(frozen=True, kw_only=True)
class AttestationRow:
    tx_id: str
    validator: str
    round: int
    valid: bool
    reason: str
    attestation: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProducerBlockRow:
    hash: str
    height: int
    round: int
    block: dict[str, Any]
    proposed_at: datetime
    finalized_at: datetime | None
    status: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProducerVoteRow:
    block_hash: str
    validator: str
    accept: bool
    reason: str
    vote: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObservedRow:
    """A protocol message a party (``owner``) saw on the bus; the columns of ``observed`` but ``observed_at``."""

    owner: str
    kind: str
    round: int
    sender: str
    ref: str
    payload: dict[str, Any]
    stored_ms: int
