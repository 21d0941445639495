"""Keep the proof job a trainer queued, so a redelivered round.open re-sends the same job after a crash.

Revision ID: trainer_0002
Revises: trainer_0001
Create Date: 2026-11-27 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "trainer_0002"
down_revision: str | Sequence[str] | None = "trainer_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rounds", sa.Column("job", postgresql.JSONB(), nullable=True), schema="trainer")


def downgrade() -> None:
    op.drop_column("rounds", "job", schema="trainer")
