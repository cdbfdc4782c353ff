"""Driver errors are explained by their code (store/db_errors.py), never by their text.

Unit tests build each driver error with its code set and a message that says something
else, so only the code can lead to the right explanation; real errors from SQLite,
SQLCipher and a PostgreSQL server check that the drivers set the codes the table reads.
The CLI's own words for a locked, full, damaged or read-only database are tested through
the real command line in tests/test_trust_hostile.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_cli.errors import Conflict, DatabaseMissing, ExitCode, StorageError
from alliance_cli.paths import DatabaseLocation
from alliance_cli.store import db_errors
from alliance_cli.store.db_errors import SQLITE_CODES, SQLSTATES, WORDING, Problem, problem_of
from tests import backends

# What each problem says: the messages users saw before errors were read by code.
SAYS = {
    Problem.BUSY: "the database is busy: another alliance command is writing to it",
    Problem.READ_ONLY: "the database is read-only",
    Problem.DAMAGED: "the database file is damaged or not a SQLite database",
    Problem.DISK_FULL: "the disk is full: nothing was written",
    Problem.CANNOT_OPEN: "the database file cannot be opened",
    Problem.NO_ACCESS: "the database server refused: this role has no access",
    Problem.UNREACHABLE: "cannot connect to the database server",
    Problem.CONFLICT: "the change conflicts with data already stored",
    Problem.MISSING_DATABASE: "the database does not exist on the server",
    Problem.OTHER: "the database reported an error",
}

# Messages that point at another problem than the code does.
MISLEADING = "database is locked; disk is full; readonly; not a database; permission denied"

SQLITE_EXPECTED = [
    ("SQLITE_BUSY", Problem.BUSY),
    ("SQLITE_BUSY_SNAPSHOT", Problem.BUSY),  # extended codes: their primary code counts
    ("SQLITE_BUSY_TIMEOUT", Problem.BUSY),
    ("SQLITE_LOCKED", Problem.BUSY),
    ("SQLITE_LOCKED_SHAREDCACHE", Problem.BUSY),
    ("SQLITE_READONLY", Problem.READ_ONLY),
    ("SQLITE_READONLY_DBMOVED", Problem.READ_ONLY),
    ("SQLITE_READONLY_RECOVERY", Problem.READ_ONLY),
    ("SQLITE_CORRUPT", Problem.DAMAGED),
    ("SQLITE_CORRUPT_INDEX", Problem.DAMAGED),
    ("SQLITE_NOTADB", Problem.DAMAGED),
    ("SQLITE_FULL", Problem.DISK_FULL),
    ("SQLITE_CANTOPEN", Problem.CANNOT_OPEN),
    ("SQLITE_CANTOPEN_ISDIR", Problem.CANNOT_OPEN),
    ("SQLITE_PERM", Problem.CANNOT_OPEN),
    ("SQLITE_CONSTRAINT", Problem.CONFLICT),
    ("SQLITE_CONSTRAINT_UNIQUE", Problem.CONFLICT),
    ("SQLITE_CONSTRAINT_FOREIGNKEY", Problem.CONFLICT),
    ("SQLITE_ERROR", Problem.OTHER),  # e.g. a statement that does not compile
    ("SQLITE_IOERR", Problem.OTHER),
    ("SQLITE_IOERR_WRITE", Problem.OTHER),
    ("SQLITE_INTERRUPT", Problem.OTHER),
    ("SQLITE_MISMATCH", Problem.OTHER),
]

SQLSTATE_EXPECTED = [
    ("55P03", Problem.BUSY),  # lock_not_available
    ("40P01", Problem.BUSY),  # deadlock_detected
    ("40001", Problem.BUSY),  # serialization_failure
    ("25006", Problem.READ_ONLY),  # read_only_sql_transaction
    ("53100", Problem.DISK_FULL),  # disk_full
    ("42501", Problem.NO_ACCESS),  # insufficient_privilege
    ("57P03", Problem.UNREACHABLE),  # cannot_connect_now
    ("08006", Problem.UNREACHABLE),  # connection_failure (class 08)
    ("08001", Problem.UNREACHABLE),  # sqlclient_unable_to_establish_sqlconnection
    ("3D000", Problem.MISSING_DATABASE),  # invalid_catalog_name
    ("23505", Problem.CONFLICT),  # unique_violation (class 23)
    ("23503", Problem.CONFLICT),  # foreign_key_violation
    ("42P01", Problem.OTHER),  # undefined_table
    ("22012", Problem.OTHER),  # division_by_zero
    ("53200", Problem.OTHER),  # out_of_memory: not a full disk
    ("XX001", Problem.OTHER),  # data_corrupted: not "a SQLite database"
]


def sqlite_error(name: str, text: str = MISLEADING) -> sqlite3.Error:
    """A driver error as the sqlite3 module raises it, with SQLite's code `name`."""
    error = sqlite3.OperationalError(text)
    error.sqlite_errorcode = getattr(sqlite3, name)
    error.sqlite_errorname = name
    return error


def psycopg_error(state: str, text: str = MISLEADING) -> Exception:
    """psycopg's error class for `state` (its `sqlstate` is a class attribute)."""
    errors = pytest.importorskip("psycopg.errors", reason="psycopg (the postgres extra)")
    error: Exception = errors.lookup(state)(text)
    return error


# ------------------------------------------------------------------ the table


def test_every_problem_has_its_wording_and_the_wording_is_kept() -> None:
    assert set(WORDING) == set(Problem)
    for problem, says in SAYS.items():
        error = db_errors.error_for(problem)
        assert error.message == says
        assert type(error) is (Conflict if problem is Problem.CONFLICT else StorageError)
        assert "\n" not in str(error)


def test_the_table_holds_primary_sqlite_codes_and_real_sqlstates() -> None:
    assert all(0 < code < 256 for code in SQLITE_CODES)
    assert all(len(state) in (2, 5) and state.isalnum() for state in SQLSTATES)


@pytest.mark.parametrize(("name", "problem"), SQLITE_EXPECTED)
def test_a_sqlite_error_is_read_by_its_code(name: str, problem: Problem) -> None:
    error = sqlite_error(name)
    assert problem_of(error) is problem
    assert db_errors.explain(error).message == SAYS[problem]


@given(st.sampled_from(SQLITE_EXPECTED), st.text())
def test_the_message_of_a_sqlite_error_never_matters(
    expected: tuple[str, Problem], text: str
) -> None:
    (name, problem) = expected
    assert problem_of(sqlite_error(name, text)) is problem


@pytest.mark.parametrize(
    "text", ["database is locked", "database or disk is full", "file is not a database"]
)
def test_an_error_without_a_code_is_not_guessed_from_its_text(text: str) -> None:
    assert problem_of(sqlite3.OperationalError(text)) is Problem.OTHER
    assert problem_of(RuntimeError(text)) is Problem.OTHER


@pytest.mark.parametrize(("state", "problem"), SQLSTATE_EXPECTED)
def test_a_postgresql_error_is_read_by_its_sqlstate(state: str, problem: Problem) -> None:
    error = psycopg_error(state)
    assert getattr(error, "sqlstate", None) == state
    assert problem_of(error) is problem


def test_a_psycopg_error_without_sqlstate_is_an_unreachable_server() -> None:
    """libpq reports failures to connect (refused, unknown host, wrong password) and a
    lost connection without an SQLSTATE."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the postgres extra)")
    for text in ("connection failed: Connection refused", "server closed the connection"):
        assert problem_of(psycopg.OperationalError(text)) is Problem.UNREACHABLE
    assert problem_of(psycopg.InterfaceError("the connection is closed")) is Problem.OTHER
    assert problem_of(psycopg.ProgrammingError("connection refused")) is Problem.OTHER


def test_only_the_servers_missing_database_is_told_from_libpqs_words() -> None:
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the postgres extra)")
    fatal = 'connection failed: FATAL:  database "nosuch" does not exist'
    assert db_errors.missing_database(psycopg.OperationalError(fatal))
    assert db_errors.missing_database(psycopg_error("3D000", "anything"))
    assert not db_errors.missing_database(psycopg.OperationalError("Connection refused"))
    assert not db_errors.missing_database(psycopg_error("42P01", fatal))  # a table
    assert not db_errors.missing_database(sqlite_error("SQLITE_CANTOPEN", fatal))


# ------------------------------------------------------------------ through SQLAlchemy


def test_the_engine_reads_the_driver_error_inside_sqlalchemys() -> None:
    from sqlalchemy import exc

    from alliance_cli.store.engine import translate_db_error

    wrapped = exc.OperationalError("INSERT ...", None, sqlite_error("SQLITE_FULL", "locked"))
    assert translate_db_error(wrapped).message == SAYS[Problem.DISK_FULL]
    unique = exc.IntegrityError("INSERT ...", None, sqlite3.IntegrityError("x"))
    assert isinstance(translate_db_error(unique), Conflict)


def test_a_database_missing_on_the_server_is_database_missing() -> None:
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the postgres extra)")
    from sqlalchemy import exc

    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import connect_error

    location: DatabaseLocation = resolve_database("postgresql+psycopg://u@127.0.0.1:1/nosuch")
    fatal = psycopg.OperationalError('connection failed: FATAL:  database "nosuch" does not exist')
    missing = connect_error(location, exc.OperationalError(None, None, fatal))
    assert isinstance(missing, DatabaseMissing) and missing.exit_code == ExitCode.DATABASE
    refused = psycopg.OperationalError("connection failed: Connection refused")
    unreachable = connect_error(location, exc.OperationalError(None, None, refused))
    assert unreachable.message == SAYS[Problem.UNREACHABLE]


# ------------------------------------------------------------------ real driver errors


def raised(action: Any) -> BaseException:
    with pytest.raises(Exception) as caught:
        action()
    return caught.value


def test_real_sqlite_errors_carry_the_codes_the_table_reads(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT)")
        conn.execute("INSERT INTO t VALUES (1, 'a')")
        assert problem_of(raised(lambda: conn.execute("INSERT INTO t VALUES (1, 'b')"))) is (
            Problem.CONFLICT
        )
        conn.execute("BEGIN IMMEDIATE")
        with closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as other:
            busy = raised(lambda: other.execute("BEGIN IMMEDIATE"))
        conn.execute("ROLLBACK")
        assert problem_of(busy) is Problem.BUSY
        conn.execute("PRAGMA max_page_count = 1")  # as on a full disk
        big = "n" * 100_000
        assert problem_of(raised(lambda: conn.execute("INSERT INTO t VALUES (2, ?)", (big,)))) is (
            Problem.DISK_FULL
        )
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as read_only:
        refused = raised(lambda: read_only.execute("INSERT INTO t VALUES (3, 'c')"))
        assert problem_of(refused) is Problem.READ_ONLY
    missing = f"file:{tmp_path / 'no' / 'such.db'}?mode=rw"
    assert problem_of(raised(lambda: sqlite3.connect(missing, uri=True))) is Problem.CANNOT_OPEN
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"my private notes\n" * 300)
    with closing(sqlite3.connect(garbage)) as conn:
        not_a_db = raised(lambda: conn.execute("SELECT * FROM sqlite_master"))
    assert problem_of(not_a_db) is Problem.DAMAGED


def test_sqlciphers_wrong_key_is_sqlite_notadb(tmp_path: Path) -> None:
    sqlcipher3 = pytest.importorskip("sqlcipher3", reason="SQLCipher (the encryption extra)")
    db = tmp_path / "secret.db"
    with closing(sqlcipher3.connect(str(db))) as conn:
        conn.execute("PRAGMA key = 'right passphrase'")
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
    with closing(sqlcipher3.connect(str(db))) as conn:
        conn.execute("PRAGMA key = 'wrong passphrase'")
        wrong = raised(lambda: conn.execute("SELECT count(*) FROM sqlite_master").fetchone())
    assert db_errors.sqlite_code(wrong) == sqlite3.SQLITE_NOTADB
    assert problem_of(wrong) is Problem.DAMAGED


@contextmanager
def pg_connection() -> Iterator[Any]:
    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the postgres extra)")
    with psycopg.connect(admin.replace("postgresql+psycopg://", "postgresql://")) as conn:
        yield conn


def test_real_postgresql_errors_carry_the_sqlstates_the_table_reads() -> None:
    with pg_connection() as conn, pg_connection() as other:
        conn.autocommit = True
        conn.execute("CREATE TEMP TABLE t (x int PRIMARY KEY)")
        conn.execute("INSERT INTO t VALUES (1)")
        duplicate = raised(lambda: conn.execute("INSERT INTO t VALUES (1)"))
        assert problem_of(duplicate) is Problem.CONFLICT
        conn.autocommit = False
        conn.execute("SET TRANSACTION READ ONLY")
        assert problem_of(raised(lambda: conn.execute("CREATE TEMP TABLE u (x int)"))) is (
            Problem.READ_ONLY
        )
        conn.rollback()
        conn.execute("SELECT pg_advisory_xact_lock(4242)")
        other.execute("SET lock_timeout = '1ms'")
        # A row lock would do as well; an advisory lock needs no shared table.
        waits = raised(lambda: other.execute("SELECT pg_advisory_xact_lock(4242)"))
        assert problem_of(waits) is Problem.BUSY
        conn.rollback()
