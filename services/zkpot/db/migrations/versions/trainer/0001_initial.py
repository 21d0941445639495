"""The trainer schema's first tables.

Revision ID: trainer_0001
Revises: -
Create Date: 2026-11-27 07:56:55.793177
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "trainer_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rounds",
        sa.Column("client", sa.Text(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("parent", sa.Text(), nullable=False),
        sa.Column("global_model_cid", sa.Text(), nullable=False),
        sa.Column("model_cid", sa.Text(), nullable=True),
        sa.Column("model_sha256", sa.Text(), nullable=True),
        sa.Column("n_train", sa.BigInteger(), nullable=True),
        sa.Column("float_correct", sa.BigInteger(), nullable=True),
        sa.Column("train_s", sa.Float(), nullable=True),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("client", "round", name=op.f("pk_rounds")),
        schema="trainer",
    )


def downgrade() -> None:
    op.drop_table("rounds", schema="trainer")
