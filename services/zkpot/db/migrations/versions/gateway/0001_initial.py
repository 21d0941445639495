"""The gateway schema's first tables.

Revision ID: gateway_0001
Revises: -
Create Date: 2026-11-27 07:56:56.333305
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("cid", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_read", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("size >= 0", name=op.f("ck_blobs_size")),
        sa.PrimaryKeyConstraint("cid", name=op.f("pk_blobs")),
        schema="gateway",
    )
    op.create_index(op.f("ix_blobs_kind"), "blobs", ["kind"], unique=False, schema="gateway")


def downgrade() -> None:
    op.drop_index(op.f("ix_blobs_kind"), table_name="blobs", schema="gateway")
    op.drop_table("blobs", schema="gateway")
