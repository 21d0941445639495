"""Who uploaded each blob and for which round: per-uploader quotas and the retention of old rounds' blobs.

Revision ID: gateway_0002
Revises: gateway_0001
Create Date: 2026-11-28 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "gateway_0002"
down_revision: str | Sequence[str] | None = "gateway_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("blobs", sa.Column("uploader", sa.Text(), nullable=True), schema="gateway")
    op.add_column("blobs", sa.Column("round", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
                  schema="gateway")
    op.create_check_constraint(op.f("ck_blobs_round"), "blobs", "round >= 0", schema="gateway")
    op.create_index(op.f("ix_blobs_uploader_first_seen"), "blobs", ["uploader", "first_seen"], unique=False,
                    schema="gateway")
    op.create_index(op.f("ix_blobs_kind_round"), "blobs", ["kind", "round"], unique=False, schema="gateway")


def downgrade() -> None:
    op.drop_index(op.f("ix_blobs_kind_round"), table_name="blobs", schema="gateway")
    op.drop_index(op.f("ix_blobs_uploader_first_seen"), table_name="blobs", schema="gateway")
    op.drop_constraint(op.f("ck_blobs_round"), "blobs", schema="gateway", type_="check")
    op.drop_column("blobs", "round", schema="gateway")
    op.drop_column("blobs", "uploader", schema="gateway")
