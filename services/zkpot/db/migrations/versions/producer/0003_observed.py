"""Protocol messages the block producer observed on the bus, kept so that a restarted producer resumes a round.

Revision ID: producer_0003
Revises: producer_0002
Create Date: 2026-11-29 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "producer_0003"
down_revision: str | Sequence[str] | None = "producer_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "observed",
        sa.Column("owner", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("sender", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("stored_ms", sa.BigInteger(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("char_length(kind) BETWEEN 1 AND 32", name=op.f("ck_observed_kind")),
        sa.PrimaryKeyConstraint("owner", "kind", "ref", name=op.f("pk_observed")),
        schema="producer",
    )
    op.create_index(
        op.f("ix_observed_owner_round_kind"), "observed", ["owner", "round", "kind"], unique=False, schema="producer"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_observed_owner_round_kind"), table_name="observed", schema="producer")
    op.drop_table("observed", schema="producer")
