"""Every table, as SQLAlchemy Core ``Table`` objects: one ``MetaData`` (and one PostgreSQL schema) per service.

Messages are kept whole as JSONB (the domain's ``to_dict()``) beside the columns queries filter on. Statuses
are text with CHECK constraints (cheaper to extend than enum types). There are no foreign keys between tables:
messages arrive at least once and in any order (a vote may precede its block), and each write stands alone.
The migrations under ``migrations/versions/<schema>/`` must produce exactly these tables; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from zkpot.errors import InputError

SCHEMA_OF_SERVICE = {
    "trainer": "trainer",
    "prover": "prover",
    "validator": "validator",
    "block-producer": "producer",
    "ipfs-gateway": "gateway",
}
SCHEMAS = tuple(SCHEMA_OF_SERVICE.values())
JOB_STATUSES = ("queued", "running", "done", "failed")
VALIDATOR_BLOCK_STATUSES = ("voted", "final", "refused")
ROUND_STATES = ("open", "proposed", "final")
TX_STATUSES = ("pending", "included", "rejected")
PRODUCER_BLOCK_STATUSES = ("proposed", "final", "failed")
OBSERVED_KIND_MAX = 32

NAMING = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}


def schema_for(service: str) -> str:
    """The schema a service owns; accepts the service name (``block-producer``) or the schema (``producer``)."""
    if service in SCHEMA_OF_SERVICE:
        return SCHEMA_OF_SERVICE[service]
    if service in SCHEMAS:
        return service
    raise InputError(f"no database schema for {service!r}; expected one of {', '.join(SCHEMA_OF_SERVICE)}")


def _now(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable, server_default=func.now())


def _when(name: str) -> Column[object]:
    return Column(name, DateTime(timezone=True))


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=column)


def _refusal_columns() -> list[Column[object]]:
    """A refused message that is not a verdict: its subject, its id (``ref``), round, reason code and detail."""
    names = ("subject", "ref", "round", "reason", "detail")
    return [Column(n, BigInteger if n == "round" else Text, nullable=False) for n in names] + [_now("created_at")]


def _observed(metadata: MetaData) -> Table:
    """``observed``: the protocol messages one party (``owner``) saw on the bus, one row per (owner, kind, ref),
    so that a restarted service resumes a round. ``kind`` is open-ended ("mask_keys", "reveal", ...) but short;
    ``stored_ms`` is the bus server's store time of the message (Unix ms)."""
    return Table(
        "observed", metadata,
        Column("owner", Text, nullable=False),
        Column("kind", Text, nullable=False),
        Column("round", BigInteger, nullable=False),
        Column("sender", Text, nullable=False),
        Column("ref", Text, nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("stored_ms", BigInteger, nullable=False),
        _now("observed_at"),
        PrimaryKeyConstraint("owner", "kind", "ref"),
        CheckConstraint(f"char_length(kind) BETWEEN 1 AND {OBSERVED_KIND_MAX}", name="kind"),
        Index(None, "owner", "round", "kind"),
    )


def _metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING)


gateway = _metadata("gateway")
prover = _metadata("prover")
trainer = _metadata("trainer")
validator = _metadata("validator")
producer = _metadata("producer")
METADATA = {"gateway": gateway, "prover": prover, "trainer": trainer, "validator": validator, "producer": producer}
trainer_observed = _observed(trainer)
producer_observed = _observed(producer)
validator_observed = _observed(validator)

blobs = Table(
    "blobs", gateway,
    Column("cid", Text, primary_key=True),
    Column("kind", Text, nullable=False, index=True),
    Column("size", BigInteger, nullable=False),
    Column("pinned", Boolean, nullable=False, server_default=false()),
    _now("first_seen"),
    _when("last_read"),
    Column("uploader", Text),  # the signer's public key; NULL for blobs stored before uploads were signed
    Column("round", BigInteger, nullable=False, server_default=text("0")),  # 0: not tied to a round
    CheckConstraint("size >= 0", name="size"),
    CheckConstraint("round >= 0", name="round"),
    Index(None, "uploader", "first_seen"),
    Index(None, "kind", "round"),
)

jobs = Table(
    "jobs", prover,
    Column("job_id", Text, primary_key=True),
    Column("client", Text, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("model_cid", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="queued", index=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("job", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    _now("queued_at"),
    _when("started_at"),
    _when("finished_at"),
    Column("witness_s", Float),
    Column("prove_s", Float),
    Column("peak_rss_mb", Float),
    Column("proof_cid", Text),
    Column("tx_id", Text),
    Column("error", Text),
    _one_of("status", JOB_STATUSES),
)

trainer_rounds = Table(
    "rounds", trainer,
    Column("client", Text, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("parent", Text, nullable=False),
    Column("global_model_cid", Text, nullable=False),
    Column("model_cid", Text),
    Column("model_sha256", Text),
    Column("n_train", BigInteger),
    Column("float_correct", BigInteger),
    Column("train_s", Float),
    Column("job_id", Text),
    Column("status", Text, nullable=False),
    _now("created_at"),
    Column("job", JSONB),
    PrimaryKeyConstraint("client", "round"),
)

verdicts = Table(
    "verdicts", validator,
    Column("validator", Text, nullable=False),
    Column("tx_id", Text, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("client", Text, nullable=False),
    Column("commitment", Text, nullable=False),
    Column("valid", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("verify_s", Float),
    Column("attestation", JSONB, nullable=False),
    _now("created_at"),
    PrimaryKeyConstraint("validator", "tx_id"),
    Index(None, "validator", "round"),
)

validator_blocks = Table(
    "blocks", validator,
    Column("validator", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("height", BigInteger, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("block", JSONB, nullable=False),
    Column("status", Text, nullable=False),
    Column("vote_reason", Text),
    _now("created_at"),
    PrimaryKeyConstraint("validator", "hash"),
    Index("uq_blocks_validator_final_height", "validator", "height", unique=True,
          postgresql_where=text("status = 'final'")),
    _one_of("status", VALIDATOR_BLOCK_STATUSES),
)

validator_votes = Table(
    "votes", validator,
    Column("validator", Text, nullable=False),
    Column("block_hash", Text, nullable=False),
    Column("voter", Text, nullable=False),
    Column("accept", Boolean, nullable=False),
    Column("vote", JSONB, nullable=False),
    PrimaryKeyConstraint("validator", "block_hash", "voter"),
)

validator_rejections = Table(
    "rejections", validator,
    Column("validator", Text, nullable=False),
    *_refusal_columns(),
    PrimaryKeyConstraint("validator", "subject", "ref", "round", "reason"),
)

validator_accepted = Table(
    "accepted", validator,
    Column("validator", Text, nullable=False),
    Column("height", BigInteger, nullable=False),
    Column("block_hash", Text, nullable=False),
    _now("created_at"),
    PrimaryKeyConstraint("validator", "height"),
)

validator_evidence = Table(
    "evidence", validator,
    Column("validator", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("height", BigInteger, nullable=False),
    Column("conflicts_with", Text, nullable=False),
    Column("block", JSONB, nullable=False),
    _now("created_at"),
    PrimaryKeyConstraint("validator", "hash"),
)

producer_rounds = Table(
    "rounds", producer,
    Column("round", BigInteger, primary_key=True, autoincrement=False),
    Column("parent", Text, nullable=False),
    Column("global_model_cid", Text, nullable=False),
    _now("opened_at"),
    Column("deadline", DateTime(timezone=True), nullable=False),
    _when("closed_at"),
    Column("state", Text, nullable=False, server_default="open"),
    Column("block_hash", Text),
    Column("collection_s", Float),
    Column("aggregation_s", Float),
    Column("finalization_s", Float),
    _one_of("state", ROUND_STATES),
)

txs = Table(
    "txs", producer,
    Column("tx_id", Text, primary_key=True),
    Column("round", BigInteger, nullable=False, index=True),
    Column("client", Text, nullable=False),
    Column("tx", JSONB, nullable=False),
    _now("received_at"),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("reason", Text),
    _one_of("status", TX_STATUSES),
)

attestations = Table(
    "attestations", producer,
    Column("tx_id", Text, nullable=False),
    Column("validator", Text, nullable=False),
    Column("round", BigInteger, nullable=False, index=True),
    Column("valid", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attestation", JSONB, nullable=False),
    PrimaryKeyConstraint("tx_id", "validator"),
)

producer_blocks = Table(
    "blocks", producer,
    Column("hash", Text, primary_key=True),
    Column("height", BigInteger, nullable=False),
    Column("round", BigInteger, nullable=False),
    Column("block", JSONB, nullable=False),
    _now("proposed_at"),
    _when("finalized_at"),
    Column("status", Text, nullable=False, server_default="proposed"),
    Index("uq_blocks_live_height", "height", unique=True, postgresql_where=text("status <> 'failed'")),
    _one_of("status", PRODUCER_BLOCK_STATUSES),
)

producer_votes = Table(
    "votes", producer,
    Column("block_hash", Text, nullable=False),
    Column("validator", Text, nullable=False),
    Column("accept", Boolean, nullable=False),
    Column("reason", Text, nullable=False),
    Column("vote", JSONB, nullable=False),
    PrimaryKeyConstraint("block_hash", "validator"),
)

producer_rejections = Table(
    "rejections", producer,
    *_refusal_columns(),
    PrimaryKeyConstraint("subject", "ref", "round", "reason"),
)
