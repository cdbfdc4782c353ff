"""The one place that opens databases.

Every engine comes from `make_engine`, which on SQLite turns on WAL, `synchronous=FULL`,
a long busy timeout and foreign keys, and takes the write lock up front (`BEGIN
IMMEDIATE`) for write transactions, following SQLAlchemy's pysqlite recipe. SQL
parameters are hidden from error messages so they never echo patient data.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlmodel import Session

from alliance_cli.errors import Conflict, StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    create_private_file,
    ensure_private_dir,
)

BUSY_TIMEOUT_SECONDS = 15
WRITE_OPTION = "alliance_write"
SQLITE_MAGIC = b"SQLite format 3\x00"


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine with the project's safety settings (see module docstring)."""
    is_sqlite = url.startswith("sqlite")
    connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_SECONDS} if is_sqlite else {}
    engine = create_engine(url, hide_parameters=True, connect_args=connect_args)
    if is_sqlite:
        _install_sqlite_listeners(engine, foreign_keys=foreign_keys)
    return engine


def _install_sqlite_listeners(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def translate_db_error(error: exc.DBAPIError) -> StorageError | Conflict:
    """A one-line, data-free explanation of a driver error."""
    text = str(getattr(error, "orig", error)).lower()
    if isinstance(error, exc.IntegrityError):
        return Conflict("the change conflicts with data already stored")
    if "locked" in text or "busy" in text:
        return StorageError(
            "the database is busy: another alliance command is writing to it",
            "try again in a moment",
        )
    if "readonly" in text or "read-only" in text:
        return StorageError("the database is read-only", "check the file's permissions")
    if "not a database" in text or "malformed" in text:
        return StorageError(
            "the database file is damaged or not a SQLite database",
            "restore it from a backup, or point --db at another file",
        )
    if "full" in text:
        return StorageError("the disk is full: nothing was written", "free some space")
    if "unable to open" in text:
        return StorageError(
            "the database file cannot be opened", "check the path and its permissions"
        )
    return StorageError("the database reported an error", "rerun with --debug for details")


class Database:
    """An opened, migrated database. Each `read()`/`write()` block is one transaction."""

    def __init__(self, engine: Engine, location: DatabaseLocation) -> None:
        self.engine = engine
        self.location = location
        self._writer = engine.execution_options(**{WRITE_OPTION: True})

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._transaction(self.engine) as session:
            yield session

    @contextmanager
    def write(self, action: str | None = None, *, undoable: bool = True) -> Iterator[Session]:
        """A write transaction: all of it commits, or none of it does.

        The write lock is taken at once (BEGIN IMMEDIATE), before anything is read, so a
        read-check-write sequence cannot interleave with another writer. With an `action`
        every change is written to the audit trail (and the undo stack) in the same
        transaction.
        """
        with self._transaction(self._writer) as session:
            session.connection()
            if action is not None:
                from alliance_cli.store.audit import Recorder, record_changes

                recorder = Recorder(action, undoable=undoable)
                session.info["recorder"] = recorder
                record_changes(session, recorder)
            yield session

    @contextmanager
    def _transaction(self, bind: Engine) -> Iterator[Session]:
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                yield session
        except exc.DBAPIError as error:
            raise translate_db_error(error) from error

    def close(self) -> None:
        self.engine.dispose()


def prepare_sqlite_file(location: DatabaseLocation) -> None:
    """Create the data directory (0700) and database file (0600) or check the file.

    Only the default data directory is created; a missing directory in an explicit
    `--db` path is an error, so a typo never scatters patient data around the disk.
    """
    path = location.path
    if path is None:
        return
    parent = path.parent
    if location.is_default:
        ensure_private_dir(parent)
    elif not parent.is_dir():
        raise StorageError(f"directory {parent} does not exist", "create it first, or fix --db")
    if path.is_dir():
        raise StorageError(f"{path} is a directory, not a database file")
    try:
        create_private_file(path)
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except PermissionError:
        raise StorageError(
            f"cannot read or create {path}", "check the file's and directory's permissions"
        ) from None
    except OSError as error:
        raise StorageError(f"cannot open {path}: {error.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise StorageError(
            f"{path} is not an alliance database (not a SQLite file)",
            "point --db at another file; this one was left untouched",
        )
    if head:
        _refuse_foreign_sqlite(path)


def _refuse_foreign_sqlite(path: Path) -> None:
    """Look, read-only, before our connections switch the file to WAL (a write)."""
    import sqlite3

    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as conn:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return  # locked, damaged...: the engine reports it with the usual messages
    if tables and "alembic_version" not in tables:
        raise StorageError(
            f"{path} holds tables that alliance did not create",
            "point --db at an alliance database or a new file; this one was left untouched",
        )


def open_database(location: DatabaseLocation, *, migrate: bool = True) -> Database:
    """Open the database the user pointed at, upgrading its schema if needed."""
    from alliance_cli.store.migrate import ensure_schema

    prepare_sqlite_file(location)
    try:
        engine = make_engine(location.url)
    except exc.ArgumentError:
        raise StorageError(
            f"cannot understand the database URL {location.display()}",
            "give a file path or a SQLAlchemy URL such as sqlite:///path/to/alliance.db",
        ) from None
    except ImportError as error:
        raise StorageError(
            f"the driver for {location.display()} is not installed ({error.name})"
        ) from None
    try:
        if migrate:
            ensure_schema(engine, location)
    except exc.DBAPIError as error:
        engine.dispose()
        raise translate_db_error(error) from error
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, location)
