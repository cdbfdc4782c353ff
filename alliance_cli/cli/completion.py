"""Shell completion of patient codes: read straight from the SQLite file with the
standard library, so a Tab press never pays for SQLAlchemy or SQLModel."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from alliance_cli.clinician import (
    CLINICIAN_COLUMN,
    CLINICIAN_ENV,
    PATIENT_TABLE,
    caseload_condition,
)
from alliance_cli.paths import resolve_database, sqlite_uri

LIMIT = 200


def complete_code(ctx: Any, incomplete: str) -> list[str]:
    """Codes starting with what was typed; nothing (never an error) if unreadable."""
    root = ctx.find_root() if ctx is not None else None
    option = root.params.get("db") if root is not None else None
    clinician = root.params.get("clinician") if root is not None else None
    return matching_codes(option, incomplete, clinician)


def matching_codes(option: str | None, incomplete: str, clinician: str | None = None) -> list[str]:
    """Codes of your caseload starting with `incomplete` in the database `--db` (`option`),
    `ALLIANCE_DB` or the default points at; also used by `fast_paths` (without Typer).

    Whose caseload: `clinician` (--clinician), else as every command decides it
    (alliance_cli/clinician.py). A file from before clinicians (schema < 0005) has one.
    """
    from alliance_cli.clinician import configured_clinician, local_clinician

    try:
        path = resolve_database(option).path
        if path is None or not path.is_file():
            return []
        if clinician is None:
            configured = None if os.environ.get(CLINICIAN_ENV) else configured_clinician()
            clinician = local_clinician(None, configured)[0]
        pattern = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with sqlite3.connect(sqlite_uri(path, read_only=True), uri=True, timeout=0.5) as conn:
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({PATIENT_TABLE})")}
            mine = f"AND {caseload_condition()} " if CLINICIAN_COLUMN in columns else ""
            rows = conn.execute(
                f"SELECT code FROM {PATIENT_TABLE} WHERE code LIKE ? ESCAPE '\\' {mine}"
                "ORDER BY code LIMIT ?",
                (pattern + "%", *((clinician,) if mine else ()), LIMIT),
            ).fetchall()
    except (sqlite3.Error, OSError, ValueError):
        return []
    return [code for (code,) in rows if isinstance(code, str) and code.startswith(incomplete)]
