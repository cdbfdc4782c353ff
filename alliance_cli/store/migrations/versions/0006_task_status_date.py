"""Tasks: the day of their last status change (completed, dropped, active again).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

`task status --date` backfills a task closed after the fact; no column carried that day
(a task review is about adherence, and the audit trail records when a change was typed,
which must stay true). Existing tasks keep NULL: the day was never recorded. A new column
of an existing table is covered by its grants and row-level security policies (0005).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("status_changed", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("status_changed")
