"""Plain DB-API access for the reports that read a whole caseload: for a million rows,
ORM objects or SQLAlchemy Row objects would cost seconds. Still inside the reader's
transaction (and its clinic walls on a server).

A reader is an ORM session (`Database.read`) or, for reports that need nothing else, a
plain connection (`Database.read_rows`), which spares them importing the ORM at all.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import Connection

if TYPE_CHECKING:
    from sqlmodel import Session

    Reader: TypeAlias = Session | Connection

PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # DB-API paramstyles


def connection(reader: Reader) -> Connection:
    """The reader's connection, in its transaction."""
    return reader if isinstance(reader, Connection) else reader.connection()


def cursor(reader: Reader, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
    """A plain DB-API cursor over `sql` run in the reader's transaction."""
    raw = connection(reader).connection.dbapi_connection
    assert raw is not None
    found = raw.cursor()
    found.execute(sql, parameters)
    return found


def placeholder(reader: Reader) -> str | None:
    """The driver's placeholder (None for a paramstyle we do not know)."""
    return PLACEHOLDERS.get(connection(reader).dialect.paramstyle)


def dialect(reader: Reader) -> str:
    """ "sqlite" or "postgresql"."""
    return str(connection(reader).dialect.name)


def sql_day(reader: Reader, day: date) -> Any:
    """A date as a bound parameter: SQLite stores dates as ISO text, a server as dates."""
    return day.isoformat() if dialect(reader) == "sqlite" else day
