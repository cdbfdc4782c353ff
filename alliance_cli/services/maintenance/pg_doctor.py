"""`alliance doctor` on PostgreSQL: the schema, the row-level security that keeps
caseloads apart, the clinic's group roles, and what the connecting role is."""

from __future__ import annotations

from typing import Any

from alliance_cli.paths import DatabaseLocation
from alliance_cli.services.maintenance.doctor import Check
from alliance_cli.store.roles import CLINICIAN_ROLE, GROUPS, kinds_of
from alliance_cli.store.schema import SCHEMA_HEAD

# Clinicians only append to the audit trail, and the database stamps it (migration 0007).
AUDIT_WALLED = f"""SELECT NOT has_table_privilege('{CLINICIAN_ROLE}', 'audit_log', 'UPDATE')
    AND NOT has_table_privilege('{CLINICIAN_ROLE}', 'audit_log', 'DELETE')
    AND EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_log_stamp'
                AND tgrelid = 'audit_log'::regclass AND tgenabled <> 'D')"""

SEPARATED = (
    "patient",
    "goal",
    "goal_review",
    "task",
    "task_review",
    "session_rating",
    "repair",  # migration 0008
    "audit_log",
    "undo_step",
)


def pg_doctor(location: DatabaseLocation) -> list[Check]:
    """Read-only checks; nothing is created, upgraded or changed."""
    from sqlalchemy import exc, text

    from alliance_cli.store.engine import connect_error, make_engine

    engine = make_engine(location.url)
    try:
        with engine.connect() as connection:

            def rows(sql: str) -> list[Any]:
                return list(connection.execute(text(sql)).all())

            version = rows("SHOW server_version")[0][0]
            role = rows("SELECT current_user")[0][0]
            owners = rows(
                "SELECT pg_get_userbyid(relowner) FROM pg_class "
                "WHERE relname = 'patient' AND relkind = 'r'"
            )
            owner = owners[0][0] if owners else None
            found = {name for (name,) in rows("SELECT tablename FROM pg_tables")}
            revision = (
                rows("SELECT version_num FROM alembic_version")[0][0]
                if "alembic_version" in found
                else None
            )
            secured = dict(
                rows(
                    "SELECT relname, relrowsecurity FROM pg_class WHERE relkind = 'r' "
                    "AND relname IN ('" + "', '".join(SEPARATED) + "')"
                )
            )
            groups = {name for (name,) in rows("SELECT rolname FROM pg_roles")} & set(
                GROUPS.values()
            )
            member = kinds_of(connection, role)
            walled = (
                bool(rows(AUDIT_WALLED)[0][0])
                if "audit_log" in found and CLINICIAN_ROLE in groups
                else None
            )
    except exc.DBAPIError as error:
        raise connect_error(location, error) from error
    finally:
        engine.dispose()
    complete = groups == set(GROUPS.values())
    return [
        Check("server", True, f"PostgreSQL {version}, connected as {role}"),
        _schema(revision),
        _security(secured),
        *([] if walled is None else [_audit(walled)]),
        Check(
            "clinic roles",
            complete,
            ", ".join(sorted(groups)) or "none",
            None if complete else "run any alliance command as the owner once",
        ),
        _role(role, owner, member),
    ]


def _schema(revision: str | None) -> Check:
    if revision == SCHEMA_HEAD:
        return Check("schema", True, f"{revision} (current)")
    if revision is None:
        return Check("schema", False, "no alliance schema", "run any alliance command as the owner")
    return Check(
        "schema",
        False,
        f"{revision}, this alliance expects {SCHEMA_HEAD}",
        "run any alliance command as the database owner to upgrade it",
    )


def _security(secured: dict[str, bool]) -> Check:
    missing = [name for name in SEPARATED if not secured.get(name)]
    if not missing:
        return Check("row-level security", True, f"on for all {len(SEPARATED)} caseload tables")
    return Check(
        "row-level security",
        False,
        "off for " + ", ".join(missing),
        "upgrade the schema as the owner (migrations 0005 and 0008 turn it on)",
    )


def _audit(walled: bool) -> Check:
    if walled:
        return Check("audit trail", True, "append-only for clinicians, stamped by the database")
    return Check(
        "audit trail",
        False,
        "clinicians may change it, or the database does not stamp it",
        "upgrade the schema as the owner (migration 0007); grant clinicians no UPDATE or "
        "DELETE on audit_log",
    )


def _role(role: str, owner: str | None, member: set[str]) -> Check:
    if owner is not None and role == owner:
        return Check(
            "your role",
            True,
            f"{role} owns the tables: not bound by row-level security",
            "administer with it; clinicians connect with their own roles",
        )
    kinds = sorted(member)
    if not kinds:
        return Check(
            "your role",
            False,
            f"{role} is neither a clinician nor a supervisor",
            f"an administrator runs `alliance admin grant-clinician {role}`",
        )
    return Check("your role", True, f"{role}: {', '.join(kinds)}")
