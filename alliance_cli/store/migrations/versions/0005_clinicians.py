"""Clinicians: each patient belongs to one, codes are unique per clinician; on PostgreSQL
the separation is enforced by row-level security keyed on the connecting role.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

On PostgreSQL this creates two group roles (cluster-wide, NOLOGIN): `alliance_clinician`
(reads and writes its own caseload) and `alliance_supervisor` (reads every caseload).
`alliance admin grant-clinician ROLE` / `grant-supervisor ROLE` make a login role a
member. The table owner (who runs the migrations) is not bound by the policies.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CLINICIAN_ROLE = "alliance_clinician"
SUPERVISOR_ROLE = "alliance_supervisor"
IS_SUPERVISOR = f"pg_has_role(current_user, '{SUPERVISOR_ROLE}', 'MEMBER')"
OWN_PATIENT = "p.clinician = current_user"

ROLES = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{CLINICIAN_ROLE}') THEN
        CREATE ROLE {CLINICIAN_ROLE} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{SUPERVISOR_ROLE}') THEN
        CREATE ROLE {SUPERVISOR_ROLE} NOLOGIN;
    END IF;
END $$
"""

CASELOAD_TABLES = ["patient", "goal", "goal_review", "task", "task_review", "session_rating"]
ALL_TABLES = [*CASELOAD_TABLES, "audit_log", "undo_step", "alembic_version"]


def _patient_of(table: str) -> tuple[str, str]:
    """(visible, own) conditions for a row of `table`, through its patient."""
    if table in ("goal_review", "task_review"):
        parent = table.removesuffix("_review")
        join = (
            f"SELECT 1 FROM {parent} x JOIN patient p ON p.id = x.patient_id "
            f"WHERE x.id = {table}.{parent}_id"
        )
    else:
        join = f"SELECT 1 FROM patient p WHERE p.id = {table}.patient_id"
    return f"EXISTS ({join})", f"EXISTS ({join} AND {OWN_PATIENT})"


# `patient transfer`: the one way a patient leaves a caseload. A clinician may not write a
# row it could not read back, so the owner's function does it, for the caller's own
# patient and to a clinician role only.
TRANSFER = f"""
CREATE FUNCTION alliance_transfer_patient(pid integer, target text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = target
                   AND pg_has_role(r.oid, '{CLINICIAN_ROLE}', 'MEMBER')) THEN
        RETURN 'not a clinician';
    END IF;
    IF EXISTS (SELECT 1 FROM patient mine JOIN patient theirs ON theirs.code = mine.code
               WHERE mine.id = pid AND theirs.clinician = target) THEN
        RETURN 'code taken';
    END IF;
    UPDATE patient SET clinician = target WHERE id = pid AND clinician = session_user;
    IF FOUND THEN
        RETURN 'moved';
    END IF;
    RETURN 'not yours';
END $$
"""
TRANSFER_GRANTS = [
    "REVOKE ALL ON FUNCTION alliance_transfer_patient(integer, text) FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION alliance_transfer_patient(integer, text) TO {CLINICIAN_ROLE}",
]


def _policies() -> list[str]:
    own = "clinician = current_user"
    statements = [
        f"CREATE POLICY patient_read ON patient FOR SELECT USING ({own} OR {IS_SUPERVISOR})",
        f"CREATE POLICY patient_add ON patient FOR INSERT WITH CHECK ({own})",
        f"CREATE POLICY patient_change ON patient FOR UPDATE USING ({own}) WITH CHECK ({own})",
        f"CREATE POLICY patient_delete ON patient FOR DELETE USING ({own})",
    ]
    for table in CASELOAD_TABLES[1:]:
        visible, mine = _patient_of(table)
        statements += [
            f"CREATE POLICY {table}_read ON {table} FOR SELECT USING ({visible})",
            f"CREATE POLICY {table}_write ON {table} FOR ALL USING ({mine}) WITH CHECK ({mine})",
        ]
    audit_patient = (
        "(patient_id IS NOT NULL AND "
        "EXISTS (SELECT 1 FROM patient p WHERE p.id = audit_log.patient_id))"
    )
    own_audit_patient = (
        "(patient_id IS NOT NULL AND EXISTS (SELECT 1 FROM patient p "
        f"WHERE p.id = audit_log.patient_id AND {OWN_PATIENT}))"
    )
    undo_mine = (
        "EXISTS (SELECT 1 FROM audit_log a WHERE a.id = undo_step.audit_id "
        "AND a.actor = current_user)"
    )
    statements += [
        "CREATE POLICY audit_read ON audit_log FOR SELECT "
        f"USING ({IS_SUPERVISOR} OR actor = current_user OR {audit_patient})",
        "CREATE POLICY audit_add ON audit_log FOR INSERT WITH CHECK (actor = current_user)",
        # Only `undone` and an erased patient's reference change (triggers guard the rest).
        "CREATE POLICY audit_mark ON audit_log FOR UPDATE "
        f"USING (actor = current_user OR {own_audit_patient}) WITH CHECK (true)",
        f"CREATE POLICY undo_own ON undo_step FOR ALL USING ({undo_mine}) WITH CHECK ({undo_mine})",
    ]
    return statements


def _grants() -> list[str]:
    writable = ", ".join([*CASELOAD_TABLES, "undo_step"])
    return [
        f"GRANT USAGE ON SCHEMA public TO {CLINICIAN_ROLE}, {SUPERVISOR_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {writable} TO {CLINICIAN_ROLE}",
        f"GRANT SELECT, INSERT, UPDATE ON audit_log TO {CLINICIAN_ROLE}",
        f"GRANT SELECT ON alembic_version TO {CLINICIAN_ROLE}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {CLINICIAN_ROLE}",
        f"GRANT SELECT ON {', '.join(ALL_TABLES)} TO {SUPERVISOR_ROLE}",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    default = sa.text("current_user") if postgres else sa.text("''")
    op.add_column(
        "patient", sa.Column("clinician", sa.String(), nullable=False, server_default=default)
    )
    if not postgres:
        # A solo therapist's file: their patients belong to whoever upgrades it.
        from alliance_cli.clinician import os_user

        config = op.get_context().config
        owner = (config.attributes.get("clinician") if config else None) or os_user()
        bind.execute(sa.text("UPDATE patient SET clinician = :owner"), {"owner": owner})
    op.drop_index("ix_patient_code", "patient")
    op.create_index("ix_patient_code", "patient", ["code"])
    op.create_index("uq_patient_clinician_code", "patient", ["clinician", "code"], unique=True)
    if postgres:
        op.execute(ROLES)
        for statement in _grants():
            op.execute(statement)
        for table in [*CASELOAD_TABLES, "audit_log", "undo_step"]:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        for statement in [*_policies(), TRANSFER, *TRANSFER_GRANTS]:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS alliance_transfer_patient(integer, text)")
        for table in [*CASELOAD_TABLES, "audit_log", "undo_step"]:
            for (name,) in bind.execute(
                sa.text("SELECT policyname FROM pg_policies WHERE tablename = :t"), {"t": table}
            ).all():
                op.execute(f'DROP POLICY "{name}" ON {table}')
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_index("uq_patient_clinician_code", "patient")
    op.drop_index("ix_patient_code", "patient")
    op.create_index("ix_patient_code", "patient", ["code"], unique=True)
    op.drop_column("patient", "clinician")
