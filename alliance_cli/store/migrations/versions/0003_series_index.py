"""A covering index in flag-engine order (patient, rater, date), so a caseload's flags
stream from the index without sorting a million rows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlmodel  # noqa: F401
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = ["patient_id", "rater", "date", "instrument", "bond", "goal", "task", "total"]


def upgrade() -> None:
    op.create_index("ix_session_rating_series", "session_rating", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_session_rating_series", "session_rating")
