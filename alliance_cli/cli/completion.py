"""Shell completion of patient codes: read straight from the SQLite file with the
standard library, so a Tab press never pays for SQLAlchemy or SQLModel."""

from __future__ import annotations

import sqlite3
from typing import Any

from alliance_cli.paths import resolve_database

LIMIT = 200


def complete_code(ctx: Any, incomplete: str) -> list[str]:
    """Codes starting with what was typed; nothing (never an error) if unreadable."""
    root = ctx.find_root() if ctx is not None else None
    option = root.params.get("db") if root is not None else None
    return matching_codes(option, incomplete)


def matching_codes(option: str | None, incomplete: str) -> list[str]:
    """Codes starting with `incomplete` in the database `--db` (`option`), `ALLIANCE_DB`
    or the default points at; also used by `fast_paths`, which answers without Typer."""
    try:
        path = resolve_database(option).path
        if path is None or not path.is_file():
            return []
        pattern = incomplete.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5) as conn:
            rows = conn.execute(
                "SELECT code FROM patient WHERE code LIKE ? ESCAPE '\\' ORDER BY code LIMIT ?",
                (pattern + "%", LIMIT),
            ).fetchall()
    except (sqlite3.Error, OSError, ValueError):
        return []
    return [code for (code,) in rows if isinstance(code, str) and code.startswith(incomplete)]
