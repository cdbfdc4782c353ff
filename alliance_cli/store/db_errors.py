"""Driver errors turned into the project's typed errors, by error code, never by text.

SQLite (the standard library's driver and SQLCipher's, which share its DB-API) gives each
error its result code (`sqlite_errorcode`, extended: the primary code is its low byte);
PostgreSQL gives an SQLSTATE (psycopg's `sqlstate`). Driver messages change between
versions and, on a server, with its language, so they are never matched. One table
(`SQLITE_CODES`, `SQLSTATES`) says what each code means for a user (`Problem`), and one
(`WORDING`) how that is said: a one-line, data-free message and its hint.

libpq reports a failed connection (no server, a wrong name or password, a database that
does not exist) without an SQLSTATE: a psycopg `OperationalError` without one is the
server being out of reach. Only `missing_database` still reads libpq's message, for the
one failure at connection time that has its own wording.

Standard library only (psycopg is looked up in `sys.modules`, where it is when one of its
errors exists), so the SQLite-file code of services/ can use it as well as the engine.
"""

from __future__ import annotations

import sqlite3
import sys
from enum import Enum

from alliance_cli.errors import Conflict, StorageError


class Problem(Enum):
    """What a driver error means for the user."""

    BUSY = "busy"
    READ_ONLY = "read-only"
    DAMAGED = "damaged"
    DISK_FULL = "disk full"
    CANNOT_OPEN = "cannot open"
    NO_ACCESS = "no access"
    UNREACHABLE = "unreachable"
    CONFLICT = "conflict"
    MISSING_DATABASE = "missing database"
    OTHER = "other"


# SQLite's primary result codes (https://sqlite.org/rescode.html).
SQLITE_CODES: dict[int, Problem] = {
    sqlite3.SQLITE_BUSY: Problem.BUSY,  # another connection holds the lock
    sqlite3.SQLITE_LOCKED: Problem.BUSY,  # a conflict inside one shared cache
    sqlite3.SQLITE_READONLY: Problem.READ_ONLY,
    sqlite3.SQLITE_CORRUPT: Problem.DAMAGED,
    sqlite3.SQLITE_NOTADB: Problem.DAMAGED,  # also SQLCipher's answer to a wrong key
    sqlite3.SQLITE_FULL: Problem.DISK_FULL,
    sqlite3.SQLITE_CANTOPEN: Problem.CANNOT_OPEN,
    sqlite3.SQLITE_PERM: Problem.CANNOT_OPEN,  # the file's access mode refused
    sqlite3.SQLITE_CONSTRAINT: Problem.CONFLICT,
}

# PostgreSQL's SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html):
# a full code first, else its class (the first two characters).
SQLSTATES: dict[str, Problem] = {
    "55P03": Problem.BUSY,  # lock_not_available (lock_timeout, NOWAIT)
    "40P01": Problem.BUSY,  # deadlock_detected: the transaction was rolled back
    "40001": Problem.BUSY,  # serialization_failure: the same
    "25006": Problem.READ_ONLY,  # read_only_sql_transaction
    "53100": Problem.DISK_FULL,  # disk_full
    "42501": Problem.NO_ACCESS,  # insufficient_privilege (grants, row-level security)
    "57P03": Problem.UNREACHABLE,  # cannot_connect_now (starting up, shutting down)
    "3D000": Problem.MISSING_DATABASE,  # invalid_catalog_name
    "23": Problem.CONFLICT,  # integrity_constraint_violation
    "08": Problem.UNREACHABLE,  # connection_exception
}

WORDING: dict[Problem, tuple[str, str | None]] = {
    Problem.BUSY: (
        "the database is busy: another alliance command is writing to it",
        "try again in a moment",
    ),
    Problem.READ_ONLY: ("the database is read-only", "check the file's permissions"),
    Problem.DAMAGED: (
        "the database file is damaged or not a SQLite database",
        "restore it from a backup, or point --db at another file",
    ),
    Problem.DISK_FULL: ("the disk is full: nothing was written", "free some space"),
    Problem.CANNOT_OPEN: (
        "the database file cannot be opened",
        "check the path and its permissions",
    ),
    Problem.NO_ACCESS: (
        "the database server refused: this role has no access",
        "ask the clinic's administrator to run `alliance admin grant-clinician ROLE`",
    ),
    Problem.UNREACHABLE: (
        "cannot connect to the database server",
        "check the URL, that the server is running, and your credentials",
    ),
    Problem.CONFLICT: ("the change conflicts with data already stored", None),
    Problem.MISSING_DATABASE: (
        "the database does not exist on the server",
        "create it on the server first (e.g. with createdb), or check --db / ALLIANCE_DB",
    ),
    Problem.OTHER: ("the database reported an error", "rerun with --debug for details"),
}


def sqlite_code(error: BaseException) -> int | None:
    """SQLite's primary result code of a driver error (SQLite or SQLCipher); None for
    an error that did not come from SQLite."""
    code = sqlite_extended_code(error)
    return code & 0xFF if code is not None else None


def sqlite_extended_code(error: BaseException) -> int | None:
    """SQLite's result code as the driver gives it: extended (IOERR_WRITE...) from the
    standard driver, primary only from SQLCipher's; None for an error not from SQLite."""
    code = getattr(error, "sqlite_errorcode", None)
    return code if isinstance(code, int) else None


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a psycopg error; None when it has none."""
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


def _lost_connection(error: BaseException) -> bool:
    """A psycopg OperationalError without an SQLSTATE: libpq's own failure to reach
    the server or to keep the connection (see the module docstring)."""
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(error, psycopg.OperationalError)


def problem_of(error: BaseException) -> Problem:
    """What the driver error `error` (not SQLAlchemy's wrapper: its `orig`) means."""
    code = sqlite_code(error)
    if code is not None:
        return SQLITE_CODES.get(code, Problem.OTHER)
    state = sqlstate(error)
    if state is not None:
        return SQLSTATES.get(state) or SQLSTATES.get(state[:2], Problem.OTHER)
    if _lost_connection(error):
        return Problem.UNREACHABLE
    return Problem.OTHER


def explain(error: BaseException) -> StorageError | Conflict:
    """The one-line, data-free typed error for the driver error `error`."""
    return error_for(problem_of(error))


def error_for(problem: Problem) -> StorageError | Conflict:
    message, hint = WORDING[problem]
    if problem is Problem.CONFLICT:
        return Conflict(message, hint)
    return StorageError(message, hint)


def missing_database(error: BaseException) -> bool:
    """The server says the database named in the URL does not exist. At connection time
    libpq gives no SQLSTATE, so its message is the only sign (`FATAL: database "x" does
    not exist`); the one place a driver message is read."""
    if problem_of(error) is Problem.MISSING_DATABASE:
        return True
    text = str(error).lower()
    return _lost_connection(error) and 'database "' in text and "does not exist" in text
