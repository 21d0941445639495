"""Rejections that are not verdicts on a fresh transaction: replays, malformed messages, forged finality claims.

Revision ID: validator_0002
Revises: validator_0001
Create Date: 2026-11-27 09:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "validator_0002"
down_revision: str | Sequence[str] | None = "validator_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejections",
        sa.Column("validator", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("validator", "subject", "ref", "round", "reason", name=op.f("pk_rejections")),
        schema="validator",
    )


def downgrade() -> None:
    op.drop_table("rejections", schema="validator")
