"""Store each rating set's total and extra scores (SRS overall), for the instruments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("session_rating") as batch:
        batch.add_column(sa.Column("total", sa.Float(), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))
    # Every rating stored before this revision used the `quick` instrument: total = sum.
    op.execute("UPDATE session_rating SET total = bond + goal + task")
    with op.batch_alter_table("session_rating") as batch:
        batch.alter_column("total", existing_type=sa.Float(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("session_rating") as batch:
        batch.drop_column("extra")
        batch.drop_column("total")
