"""Clinic set-up on PostgreSQL: which database roles are clinicians and supervisors.

The roles and row-level security policies come from migration 0005; here a login role
is made a member of `alliance_clinician` (its own caseload) or `alliance_supervisor`
(reads every caseload). Run by the database owner / an administrator.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from alliance_cli.errors import InvalidInput, NotFound
from alliance_cli.paths import DatabaseLocation
from alliance_cli.store.engine import Database
from alliance_cli.store.roles import CLINICIAN_ROLE, GROUPS, SUPERVISOR_ROLE


@dataclass(frozen=True)
class Member:
    role: str
    kinds: tuple[str, ...]  # "clinician", "supervisor"


def not_postgres(location: DatabaseLocation, what: str) -> InvalidInput:
    """`alliance admin` on something else than PostgreSQL: said before a SQLite file is
    even looked for (a missing one would otherwise hide what is wrong)."""
    return InvalidInput(
        f"`alliance {what}` sets up PostgreSQL roles; this is {location.display()}",
        "on a SQLite file, choose the clinician with --clinician or ALLIANCE_CLINICIAN",
    )


def require_postgres(db: Database, what: str) -> None:
    if db.engine.dialect.name != "postgresql":
        raise not_postgres(db.location, what)


# What makes a role unfit to hold a caseload, judged as `patient transfer` judges its
# target (migration 0007): whether it logs in; whether row-level security passes it by
# (superuser, BYPASSRLS, or owner of the database, the schema or the patient table: RLS
# is enabled, not forced); whether another non-superuser role can act as it (USAGE, or
# SET from PostgreSQL 16: a CREATEROLE admin's automatic ADMIN-only membership is not).
FITNESS_SQL = """
SELECT r.rolcanlogin,
       r.rolsuper OR r.rolbypassrls
       OR r.oid = (SELECT datdba FROM pg_database WHERE datname = current_database())
       OR r.oid = (SELECT nspowner FROM pg_namespace WHERE nspname = 'public')
       OR r.oid = (SELECT relowner FROM pg_class WHERE oid = 'patient'::regclass),
       EXISTS (SELECT 1 FROM pg_roles m WHERE m.oid <> r.oid AND NOT m.rolsuper
               AND (pg_has_role(m.oid, r.oid, 'USAGE') OR pg_has_role(m.oid, r.oid,
                    CASE WHEN current_setting('server_version_num')::int >= 160000
                         THEN 'SET' ELSE 'MEMBER' END)))
FROM pg_roles r WHERE r.rolname = :role
"""


def grant(db: Database, role: str, kind: str) -> None:
    """Make the existing login `role` a clinician or a supervisor (idempotent)."""
    require_postgres(db, f"admin grant-{kind}")
    with db.engine.begin() as connection:
        found = connection.execute(
            text(FITNESS_SQL),
            {"role": role},
        ).first()
        if found is None:
            raise NotFound(
                f"role {role!r} does not exist",
                "create it first, e.g. `createuser --pwprompt NAME` or CREATE ROLE ... LOGIN",
            )
        _refuse_unfit(role, kind, *found)
        quoted = connection.dialect.identifier_preparer.quote(role)
        connection.execute(text(f"GRANT {GROUPS[kind]} TO {quoted}"))


def _refuse_unfit(role: str, kind: str, logs_in: bool, unwalled: bool, shared: bool) -> None:
    """A clinician or supervisor is one person's own login, which row-level security
    applies to: a group role would hand the caseload to all its members, a role that
    cannot log in names nobody, and a role RLS passes by sees every caseload whatever it
    is granted (FITNESS_SQL: the rules `patient transfer` applies to its target)."""
    if role in GROUPS.values():
        problem = "is one of alliance's own group roles"
    elif not logs_in:
        problem = "cannot log in (a group role)"
    elif unwalled:
        problem = (
            "is not held by row-level security (a superuser, BYPASSRLS, or an owner of "
            "the database, its schema or the patient table)"
        )
    elif shared:
        problem = "can be used by other roles (they are members of it)"
    else:
        return
    raise InvalidInput(
        f"role {role!r} {problem}: it cannot be made a {kind}",
        "grant a person's own login role, e.g. `createuser --pwprompt NAME`",
    )


def members(db: Database) -> list[Member]:
    """Every role that is a clinician or a supervisor."""
    require_postgres(db, "admin roles")
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT r.rolname, g.rolname FROM pg_auth_members m "
                "JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid "
                "WHERE g.rolname IN (:clinician, :supervisor) ORDER BY 1, 2"
            ),
            {"clinician": CLINICIAN_ROLE, "supervisor": SUPERVISOR_ROLE},
        ).all()
    kinds: dict[str, list[str]] = {}
    names = {group: kind for kind, group in GROUPS.items()}
    for role, group in rows:
        kinds.setdefault(role, []).append(names[group])
    return [Member(role, tuple(found)) for role, found in kinds.items()]
