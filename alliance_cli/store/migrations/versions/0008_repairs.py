"""Repairs: what a clinician tried after a flag, and ruptures the patient reports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

- `session_rating.rupture`: whether the rater saw a rupture in the session (`none`,
  `withdrawal`, `confrontation`); NULL when it was not asked (every existing rating). A
  new column of an existing table is covered by its grants and policies (0005). A
  partial index finds the few rating sets that answered, for caseload-wide flags.
- `repair`: one repair attempt (date, strategy, note) of a patient, with the flag it
  answered (kind, dimension, date, rater, instrument: flags are computed, not stored, so
  the link is the flag's identity) or none. On PostgreSQL the table follows the clinic
  rules of 0005: granted to the clinician and supervisor roles, row-level security by the
  patient's clinician. Its writes reach the audit trail like every other table's (ORM
  flushes, stamped by 0007's trigger).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CLINICIAN_ROLE = "alliance_clinician"
SUPERVISOR_ROLE = "alliance_supervisor"
VISIBLE = "EXISTS (SELECT 1 FROM patient p WHERE p.id = repair.patient_id)"
OWN = (
    "EXISTS (SELECT 1 FROM patient p WHERE p.id = repair.patient_id AND p.clinician = current_user)"
)
PG_UPGRADE = [
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON repair TO {CLINICIAN_ROLE}",
    f"GRANT USAGE, SELECT ON SEQUENCE repair_id_seq TO {CLINICIAN_ROLE}",
    f"GRANT SELECT ON repair TO {SUPERVISOR_ROLE}",
    "ALTER TABLE repair ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY repair_read ON repair FOR SELECT USING ({VISIBLE})",
    f"CREATE POLICY repair_write ON repair FOR ALL USING ({OWN}) WITH CHECK ({OWN})",
]
ANSWERED = "rupture IS NOT NULL"


def upgrade() -> None:
    op.add_column("session_rating", sa.Column("rupture", sa.String(), nullable=True))
    op.create_index(
        "ix_session_rating_rupture",
        "session_rating",
        ["patient_id"],
        sqlite_where=sa.text(ANSWERED),
        postgresql_where=sa.text(ANSWERED),
    )
    op.create_table(
        "repair",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "patient_id",
            sa.Integer(),
            sa.ForeignKey("patient.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("strategy", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("flag_kind", sa.String(), nullable=True),
        sa.Column("flag_dimension", sa.String(), nullable=True),
        sa.Column("flag_date", sa.Date(), nullable=True),
        sa.Column("flag_rater", sa.String(), nullable=True),
        sa.Column("flag_instrument", sa.String(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_repair_patient_id", "repair", ["patient_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    op.drop_index("ix_repair_patient_id", "repair")
    op.drop_table("repair")  # its policies and grants go with it
    op.drop_index("ix_session_rating_rupture", "session_rating")
    with op.batch_alter_table("session_rating") as batch:
        batch.drop_column("rupture")
