"""Messages the producer drops before storing them (a forged or unregistered tx), with their reason.

Revision ID: producer_0002
Revises: producer_0001
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "producer_0002"
down_revision: str | Sequence[str] | None = "producer_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rejections",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("subject", "ref", "round", "reason", name=op.f("pk_rejections")),
        schema="producer",
    )


def downgrade() -> None:
    op.drop_table("rejections", schema="producer")
