"""Plain DB-API access for the reports that read a whole caseload: for a million rows,
ORM objects or SQLAlchemy Row objects would cost seconds. Still inside the session's
transaction (and its clinic walls on a server)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session

PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # DB-API paramstyles


def cursor(session: Session, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
    """A plain DB-API cursor over `sql` run in the session's transaction."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    found = raw.cursor()
    found.execute(sql, parameters)
    return found


def placeholder(session: Session) -> str | None:
    """The driver's placeholder (None for a paramstyle we do not know)."""
    return PLACEHOLDERS.get(session.get_bind().dialect.paramstyle)


def dialect(session: Session) -> str:
    """ "sqlite" or "postgresql"."""
    return str(session.get_bind().dialect.name)


def sql_day(session: Session, day: date) -> Any:
    """A date as a bound parameter: SQLite stores dates as ISO text, a server as dates."""
    return day.isoformat() if dialect(session) == "sqlite" else day
