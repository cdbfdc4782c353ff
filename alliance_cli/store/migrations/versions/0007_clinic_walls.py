"""The clinic's walls: patients go only to a clinician's own login, and the audit trail
is append-only for clinicians, stamped by the database.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Both backends: `audit_log.undoes` names the change an `undo` reverted, so "undone" is
derived from appended rows and no audit row is ever rewritten (the append-only triggers
now cover `undone` and `undoes` too; `undone` stays for rows marked before 0007).

PostgreSQL only:
- `alliance_transfer_patient` hands a patient only to a login role that is a member of
  `alliance_clinician` and that nobody else can act as (no superuser, no role that
  bypasses row-level security, not the database, schema or table owner, no other role
  with its privileges or SET ROLE to it). Every refusal is the one answer 'refused', so it
  tells nothing about another caseload (whether a code is taken there, or a role exists).
- Clinicians may only add audit rows: no UPDATE, DELETE or TRUNCATE. A BEFORE INSERT
  trigger numbers the row and sets who (current_user), when (the transaction's start,
  UTC) and from where (the host name the client gives plus the address the server
  sees), whatever the client sent; a policy lets a row name only the clinician's own patient.
- Erasing a patient (deleting the row, by any means) replaces the patient's id in the
  audit trail by the one-way hash, in the owner's trigger function: no clinician needs
  to update audit rows for it, and none can anonymise a patient it keeps.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel  # noqa: F401
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CLINICIAN_ROLE = "alliance_clinician"
FACTS = "txn, at, actor, machine, action, entity, record_id, undone, undoes"
OLD_FACTS = "txn, at, actor, machine, action, entity, record_id"

SQLITE_NO_REWRITE = """CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OF {facts} ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"""
PG_NO_REWRITE = """CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OF {facts} ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"""

# The same one-way hash as alliance_cli.store.audit.code_hash (a test compares them).
PG_CODE_HASH = (
    "'sha256:' || left(encode(sha256(convert_to('alliance-erased:' || OLD.code, 'UTF8')),"
    " 'hex'), 16)"
)

STAMP = """
CREATE FUNCTION alliance_audit_stamp() RETURNS trigger LANGUAGE plpgsql
SET search_path = public, pg_temp AS $$
BEGIN
    -- Numbered here, not by a column default a client could override: an id of the
    -- client's choosing could sort a row back in time (or take one a later row needs).
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    NEW.actor := current_user;
    NEW.at := now() AT TIME ZONE 'UTC';
    NEW.machine := left(NEW.machine, 200) || ' ('
        || coalesce(host(inet_client_addr()), 'local') || ')';
    NEW.undone := false;
    NEW.patient_hash := NULL;
    RETURN NEW;
END $$
"""
STAMP_TRIGGER = """CREATE TRIGGER audit_log_stamp BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION alliance_audit_stamp()"""

ERASE = f"""
CREATE FUNCTION alliance_erase_audit_references() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    UPDATE audit_log SET patient_id = NULL, patient_hash = {PG_CODE_HASH}
    WHERE patient_id = OLD.id;
    RETURN OLD;
END $$
"""
ERASE_TRIGGER = """CREATE TRIGGER patient_erase_audit_references AFTER DELETE ON patient
    FOR EACH ROW EXECUTE FUNCTION alliance_erase_audit_references()"""

# Who may receive a patient: judged as row-level security will (the role's name becomes
# `patient.clinician`, and every role that can act as it reads the patient).
TRANSFER = f"""
CREATE OR REPLACE FUNCTION alliance_transfer_patient(pid integer, target text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    r record;
    can_set text := CASE WHEN current_setting('server_version_num')::int >= 160000
                         THEN 'SET' ELSE 'MEMBER' END;
BEGIN
    SELECT * INTO r FROM pg_roles WHERE rolname = target;
    IF NOT FOUND OR NOT r.rolcanlogin OR r.rolsuper OR r.rolbypassrls
       OR NOT pg_has_role(r.oid, '{CLINICIAN_ROLE}', 'MEMBER')
       OR r.oid = (SELECT datdba FROM pg_database WHERE datname = current_database())
       OR r.oid = (SELECT nspowner FROM pg_namespace WHERE nspname = 'public')
       OR r.oid = (SELECT relowner FROM pg_class WHERE oid = 'patient'::regclass)
       OR EXISTS (SELECT 1 FROM pg_roles m WHERE m.oid <> r.oid AND NOT m.rolsuper
                  AND (pg_has_role(m.oid, r.oid, 'USAGE') OR pg_has_role(m.oid, r.oid, can_set)))
       OR EXISTS (SELECT 1 FROM patient mine JOIN patient theirs ON theirs.code = mine.code
                  WHERE mine.id = pid AND theirs.clinician = target) THEN
        RETURN 'refused';
    END IF;
    UPDATE patient SET clinician = target WHERE id = pid AND clinician = session_user;
    IF FOUND THEN
        RETURN 'moved';
    END IF;
    RETURN 'refused';
END $$
"""

OWN_PATIENT = (
    "(patient_id IS NULL OR EXISTS (SELECT 1 FROM patient p "
    "WHERE p.id = audit_log.patient_id AND p.clinician = current_user))"
)
PG_UPGRADE = [
    "ALTER TABLE audit_log ALTER COLUMN id DROP DEFAULT",  # numbered by the trigger
    f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {CLINICIAN_ROLE}",
    "DROP POLICY audit_mark ON audit_log",
    "DROP POLICY audit_add ON audit_log",
    "CREATE POLICY audit_add ON audit_log FOR INSERT "
    f"WITH CHECK (actor = current_user AND {OWN_PATIENT})",
    STAMP,
    STAMP_TRIGGER,
    ERASE,
    "REVOKE ALL ON FUNCTION alliance_erase_audit_references() FROM PUBLIC",
    ERASE_TRIGGER,
    TRANSFER,
]


def _no_rewrite(dialect: str, facts: str) -> None:
    template = SQLITE_NO_REWRITE if dialect == "sqlite" else PG_NO_REWRITE
    op.execute(
        "DROP TRIGGER IF EXISTS audit_log_no_rewrite"
        + (" ON audit_log" if dialect == "postgresql" else "")
    )
    op.execute(template.format(facts=facts))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("audit_log", sa.Column("undoes", sa.String(), nullable=True))
    op.create_index("ix_audit_log_undoes", "audit_log", ["undoes"])
    if dialect in ("sqlite", "postgresql"):
        _no_rewrite(dialect, FACTS)
    if dialect == "postgresql":
        for statement in PG_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS patient_erase_audit_references ON patient")
        op.execute("DROP FUNCTION IF EXISTS alliance_erase_audit_references()")
        op.execute("DROP TRIGGER IF EXISTS audit_log_stamp ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS alliance_audit_stamp()")
        op.execute(
            "ALTER TABLE audit_log ALTER COLUMN id "
            "SET DEFAULT nextval(pg_get_serial_sequence('audit_log', 'id'))"
        )
        op.execute("DROP POLICY audit_add ON audit_log")
        op.execute(
            "CREATE POLICY audit_add ON audit_log FOR INSERT WITH CHECK (actor = current_user)"
        )
        # The stricter transfer function stays and UPDATE is not granted back: a
        # downgrade does not reopen the walls.
    if dialect in ("sqlite", "postgresql"):
        _no_rewrite(dialect, OLD_FACTS)
    op.drop_index("ix_audit_log_undoes", "audit_log")
    op.drop_column("audit_log", "undoes")
