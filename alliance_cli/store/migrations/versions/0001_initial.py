"""Initial schema: patients, goals with reviews, tasks with reviews, session ratings.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("instrument", sa.String(), nullable=False),
        sa.Column("expectations", sa.String(), nullable=True),
        sa.Column("beliefs", sa.String(), nullable=True),
        sa.Column("emotional_state", sa.String(), nullable=True),
        sa.Column("social_context", sa.String(), nullable=True),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("discharged_on", sa.Date(), nullable=True),
        sa.Column("discharge_reason", sa.String(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_patient_code", "patient", ["code"], unique=True)

    op.create_table(
        "goal",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patient.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("proposed_by", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("target", sa.Date(), nullable=True),
        sa.Column("created", sa.Date(), nullable=False),
    )
    op.create_index("ix_goal_patient_id", "goal", ["patient_id"])

    op.create_table(
        "goal_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
    )
    op.create_index("ix_goal_review_goal_id", "goal_review", ["goal_id"])

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patient.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "goal_id", sa.Integer(), sa.ForeignKey("goal.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("created", sa.Date(), nullable=False),
    )
    op.create_index("ix_task_patient_id", "task", ["patient_id"])
    op.create_index("ix_task_goal_id", "task", ["goal_id"])

    op.create_table(
        "task_review",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "task_id", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("adherence", sa.String(), nullable=False),
    )
    op.create_index("ix_task_review_task_id", "task_review", ["task_id"])

    op.create_table(
        "session_rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patient.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("rater", sa.String(), nullable=False),
        sa.Column("instrument", sa.String(), nullable=False),
        sa.Column("bond", sa.Float(), nullable=False),
        sa.Column("goal", sa.Float(), nullable=False),
        sa.Column("task", sa.Float(), nullable=False),
        sa.Column("items", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.UniqueConstraint(
            "patient_id", "date", "rater", name="uq_session_rating_patient_date_rater"
        ),
    )
    op.create_index("ix_session_rating_patient_date", "session_rating", ["patient_id", "date"])


def downgrade() -> None:
    for table in ("session_rating", "task_review", "task", "goal_review", "goal", "patient"):
        op.drop_table(table)
