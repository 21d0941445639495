"""The producer schema's first tables.

Revision ID: producer_0001
Revises: -
Create Date: 2026-11-27 07:56:56.207145
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "producer_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("tx_id", sa.Text(), nullable=False),
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attestation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("tx_id", "validator", name=op.f("pk_attestations")),
        schema="producer",
    )
    op.create_index(op.f("ix_attestations_round"), "attestations", ["round"], unique=False, schema="producer")
    op.create_table(
        "blocks",
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("block", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Text(), server_default="proposed", nullable=False),
        sa.CheckConstraint("status IN ('proposed', 'final', 'failed')", name=op.f("ck_blocks_status")),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_blocks")),
        schema="producer",
    )
    op.create_index(
        "uq_blocks_live_height",
        "blocks",
        ["height"],
        unique=True,
        schema="producer",
        postgresql_where=sa.text("status <> 'failed'"),
    )
    op.create_table(
        "rounds",
        sa.Column("round", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("parent", sa.Text(), nullable=False),
        sa.Column("global_model_cid", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.Text(), server_default="open", nullable=False),
        sa.Column("block_hash", sa.Text(), nullable=True),
        sa.Column("collection_s", sa.Float(), nullable=True),
        sa.Column("aggregation_s", sa.Float(), nullable=True),
        sa.Column("finalization_s", sa.Float(), nullable=True),
        sa.CheckConstraint("state IN ('open', 'proposed', 'final')", name=op.f("ck_rounds_state")),
        sa.PrimaryKeyConstraint("round", name=op.f("pk_rounds")),
        schema="producer",
    )
    op.create_table(
        "txs",
        sa.Column("tx_id", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("tx", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'included', 'rejected')", name=op.f("ck_txs_status")),
        sa.PrimaryKeyConstraint("tx_id", name=op.f("pk_txs")),
        schema="producer",
    )
    op.create_index(op.f("ix_txs_round"), "txs", ["round"], unique=False, schema="producer")
    op.create_table(
        "votes",
        sa.Column("block_hash", sa.Text(), nullable=False),
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("accept", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("vote", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("block_hash", "validator", name=op.f("pk_votes")),
        schema="producer",
    )


def downgrade() -> None:
    op.drop_table("votes", schema="producer")
    op.drop_index(op.f("ix_txs_round"), table_name="txs", schema="producer")
    op.drop_table("txs", schema="producer")
    op.drop_table("rounds", schema="producer")
    op.drop_index(
        "uq_blocks_live_height", table_name="blocks", schema="producer", postgresql_where=sa.text("status <> 'failed'")
    )
    op.drop_table("blocks", schema="producer")
    op.drop_index(op.f("ix_attestations_round"), table_name="attestations", schema="producer")
    op.drop_table("attestations", schema="producer")
