"""The validator schema's first tables.

Revision ID: validator_0001
Revises: -
Create Date: 2026-11-27 07:56:55.973669
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "validator_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blocks",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("block", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("vote_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('voted', 'final', 'refused')", name=op.f("ck_blocks_status")),
        sa.PrimaryKeyConstraint("validator", "hash", name=op.f("pk_blocks")),
        schema="validator",
    )
    op.create_index(
        "uq_blocks_validator_final_height",
        "blocks",
        ["validator", "height"],
        unique=True,
        schema="validator",
        postgresql_where=sa.text("status = 'final'"),
    )
    op.create_table(
        "verdicts",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("tx_id", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("verify_s", sa.Float(), nullable=True),
        sa.Column("attestation", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("validator", "tx_id", name=op.f("pk_verdicts")),
        schema="validator",
    )
    op.create_index(
        op.f("ix_verdicts_validator_round"), "verdicts", ["validator", "round"], unique=False, schema="validator"
    )
    op.create_table(
        "votes",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("block_hash", sa.Text(), nullable=False),
        sa.Column("voter", sa.Text(), nullable=False),
        sa.Column("accept", sa.Boolean(), nullable=False),
        sa.Column("vote", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("validator", "block_hash", "voter", name=op.f("pk_votes")),
        schema="validator",
    )


def downgrade() -> None:
    op.drop_table("votes", schema="validator")
    op.drop_index(op.f("ix_verdicts_validator_round"), table_name="verdicts", schema="validator")
    op.drop_table("verdicts", schema="validator")
    op.drop_index(
        "uq_blocks_validator_final_height",
        table_name="blocks",
        schema="validator",
        postgresql_where=sa.text("status = 'final'"),
    )
    op.drop_table("blocks", schema="validator")
