"""Outcomes: Goal Attainment Scaling on goals, and how care ended.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

- `goal.baseline`: the GAS level where the patient started, -1 or -2 (Turner-Stokes
  2009); every existing goal gets -1, the default.
- `goal.weight`: the goal's weight in the GAS T-score, a positive number; existing goals
  get 1, the default.
- `goal_review.gas`: the GAS level (-2..2) a `goal review` gave; NULL for the reviews of a
  status (every existing review).
- `patient.ending`: how care ended (mutual, dropout, referred, moved, other); NULL for
  patients in care and for every discharge recorded before, which read as `unknown`.

New columns of existing tables only: covered by their grants and row-level security
policies (0005), and their writes reach the audit trail as before (0007).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goal") as batch:
        batch.add_column(
            sa.Column("baseline", sa.Integer(), nullable=False, server_default=sa.text("-1"))
        )
        batch.add_column(
            sa.Column("weight", sa.Float(), nullable=False, server_default=sa.text("1"))
        )
    with op.batch_alter_table("goal_review") as batch:
        batch.add_column(sa.Column("gas", sa.Integer(), nullable=True))
    with op.batch_alter_table("patient") as batch:
        batch.add_column(sa.Column("ending", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("patient") as batch:
        batch.drop_column("ending")
    with op.batch_alter_table("goal_review") as batch:
        batch.drop_column("gas")
    with op.batch_alter_table("goal") as batch:
        batch.drop_column("weight")
        batch.drop_column("baseline")
