"""The clinic's group roles on PostgreSQL, and who belongs to them.

Migration 0005 creates the roles and its row-level security policies use them; it keeps
its own copy of the names, as a released migration never changes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

CLINICIAN_ROLE = "alliance_clinician"  # keeps (reads and writes) its own caseload
SUPERVISOR_ROLE = "alliance_supervisor"  # reads every caseload
GROUPS = {"clinician": CLINICIAN_ROLE, "supervisor": SUPERVISOR_ROLE}


def kinds_of(connection: Any, role: str) -> set[str]:
    """ "clinician" / "supervisor" for an existing `role`, as the policies judge it
    (pg_has_role: direct or inherited membership); empty for an unknown role."""
    rows = connection.execute(
        text(
            "SELECT g.rolname FROM pg_roles r, pg_roles g WHERE r.rolname = :role "
            "AND g.rolname IN (:clinician, :supervisor) AND pg_has_role(r.oid, g.oid, 'MEMBER')"
        ),
        {"role": role, "clinician": CLINICIAN_ROLE, "supervisor": SUPERVISOR_ROLE},
    ).all()
    names = {group: kind for kind, group in GROUPS.items()}
    return {names[group] for (group,) in rows}
