"""One accepting vote per height, and the evidence of a producer that signed two blocks at one height.

Revision ID: validator_0003
Revises: validator_0002
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "validator_0003"
down_revision: str | Sequence[str] | None = "validator_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accepted",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("validator", "height", name=op.f("pk_accepted")),
        schema="validator",
    )
    op.create_table(
        "evidence",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("hash", sa.Text(), nullable=False),
        sa.Column("height", sa.BigInteger(), nullable=False),
        sa.Column("conflicts_with", sa.Text(), nullable=False),
        sa.Column("block", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("validator", "hash", name=op.f("pk_evidence")),
        schema="validator",
    )


def downgrade() -> None:
    op.drop_table("evidence", schema="validator")
    op.drop_table("accepted", schema="validator")
