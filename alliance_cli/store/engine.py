"""The one place that opens databases.

Every engine comes from `make_engine`, which on SQLite turns on WAL, `synchronous=FULL`,
a long busy timeout and foreign keys, and takes the write lock up front (`BEGIN
IMMEDIATE`) for write transactions, following SQLAlchemy's pysqlite recipe. SQL
parameters are hidden from error messages so they never echo patient data.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.pool import QueuePool
from sqlmodel import Session

from alliance_cli.clinician import os_user
from alliance_cli.errors import Conflict, InvalidInput, StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    UnsupportedUrl,
    create_private_file,
    ensure_private_dir,
    parse_sqlite_url,
    redact_url,
    sqlite_uri,
)

BUSY_TIMEOUT_SECONDS = 15
WRITE_OPTION = "alliance_write"
CLINICIAN_KEY = "alliance_clinician"  # Session.info: whose caseload this transaction sees
SQLITE_MAGIC = b"SQLite format 3\x00"


def make_engine(url: str, *, foreign_keys: bool = True) -> Engine:
    """An engine with the project's safety settings (see module docstring).

    A SQLite file is opened through its `file:` URI (never created by the driver), and
    read-only when the URL says `mode=ro` or the file is not writable for this user.
    """
    try:
        target = parse_sqlite_url(url)
    except UnsupportedUrl:
        raise url_not_understood(url) from None
    if target is None:
        return create_engine(url, hide_parameters=True)
    if target.path is None:
        engine = create_engine(
            url, hide_parameters=True, connect_args={"timeout": BUSY_TIMEOUT_SECONDS}
        )
        _install_sqlite_listeners(engine, foreign_keys=foreign_keys, read_only=False)
        return engine
    path = target.path
    # A file we may not write is opened read-only; if nothing is pending in its WAL, as
    # immutable, so no -wal/-shm files are created (with the file's read-only mode, they
    # would keep the database read-only after its permissions are fixed). `mode=ro` on a
    # writable file keeps a normal connection that refuses writes (PRAGMA query_only):
    # it still sees concurrent writers correctly and leaves no files behind.
    unwritable = path.exists() and not os.access(path, os.W_OK)
    uri = sqlite_uri(path, read_only=unwritable, immutable=unwritable and not has_wal_content(path))

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)

    from alliance_cli.store import cipher  # an encrypted file: SQLCipher, keyed

    options = cipher.engine_options(path, uri, BUSY_TIMEOUT_SECONDS) or {"creator": connect}
    engine = create_engine(
        "sqlite+pysqlite://", poolclass=QueuePool, hide_parameters=True, **options
    )
    read_only = unwritable or target.read_only
    _install_sqlite_listeners(engine, foreign_keys=foreign_keys, read_only=read_only)
    return engine


def has_wal_content(path: Path) -> bool:
    """True when `path`'s write-ahead log holds pages not yet copied into the file."""
    try:
        return Path(f"{path}-wal").stat().st_size > 0
    except OSError:
        return False


def url_not_understood(url: str) -> StorageError:
    return StorageError(
        f"cannot understand the database URL {redact_url(url)}",
        "give a file path or a SQLAlchemy URL such as sqlite:///path/to/alliance.db",
    )


def _install_sqlite_listeners(engine: Engine, *, foreign_keys: bool, read_only: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        if read_only:
            cursor.execute("PRAGMA query_only = ON")
        else:  # switching to WAL writes the file header
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
    if "permission denied" in text or "insufficient privilege" in text:
        return StorageError(
            "the database server refused: this role has no access",
            "ask the clinic's administrator to run `alliance admin grant-clinician ROLE`",
        )
    unreachable = ("could not translate host name", "name or service not known")
    if any(w in text for w in unreachable) or (
        "connection" in text and any(w in text for w in ("refused", "failed", "timeout"))
    ):
        return StorageError(
            "cannot connect to the database server",
            "check the URL, that the server is running, and your credentials",
        )
    if "unable to open" in text:
        return StorageError(
            "the database file cannot be opened", "check the path and its permissions"
        )
    return StorageError("the database reported an error", "rerun with --debug for details")


class Database:
    """An opened, migrated database. Each `read()`/`write()` block is one transaction."""

    def __init__(
        self, engine: Engine, location: DatabaseLocation, clinician: str | None = None
    ) -> None:
        self.engine = engine
        self.location = location
        self.clinician = clinician if clinician is not None else os_user()
        self.read_only = location.read_only()
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
        if self.read_only:
            raise StorageError(
                "the database is read-only: nothing was changed",
                "check the file's permissions, or drop mode=ro from the URL",
            )
        with self._transaction(self._writer) as session:
            session.connection()
            if action is not None:
                from alliance_cli.store.audit import Recorder, record_changes

                recorder = Recorder(action, self.clinician, undoable=undoable)
                session.info["recorder"] = recorder
                record_changes(session, recorder)
            yield session

    @contextmanager
    def _transaction(self, bind: Engine) -> Iterator[Session]:
        try:
            with Session(bind, expire_on_commit=False) as session, session.begin():
                session.info[CLINICIAN_KEY] = self.clinician
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
    if location.read_only_url and not path.exists():
        raise StorageError(f"{path} does not exist", "a read-only URL (mode=ro) cannot create it")
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
        from alliance_cli.store import cipher

        if not cipher.looks_encrypted(path):
            raise StorageError(
                f"{path} is not an alliance database (not a SQLite file)",
                "point --db at another file; this one was left untouched",
            )
        # The key opens it (or a clear error: no key, wrong key), read-only.
        _refuse_foreign_tables(path, cipher.unlock(path))
    elif head:
        _refuse_foreign_sqlite(path)


def _refuse_foreign_sqlite(path: Path) -> None:
    """Look, read-only, before our connections switch the file to WAL (a write)."""
    try:
        immutable = not os.access(path, os.W_OK) and not has_wal_content(path)
        uri = sqlite_uri(path, read_only=True, immutable=immutable)
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as conn:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return  # locked, damaged...: the engine reports it with the usual messages
    _refuse_foreign_tables(path, tables)


def _refuse_foreign_tables(path: Path, tables: set[str]) -> None:
    if tables and "alembic_version" not in tables:
        raise StorageError(
            f"{path} holds tables that alliance did not create",
            "point --db at an alliance database or a new file; this one was left untouched",
        )


def open_database(
    location: DatabaseLocation,
    *,
    migrate: bool = True,
    clinician: str | None = None,
    explicit_clinician: bool = False,
) -> Database:
    """Open the database the user pointed at, upgrading its schema if needed.

    `clinician` is who works on a SQLite file; on PostgreSQL it is the connecting role,
    and an explicitly requested other name (`--clinician`) is refused.
    """
    from alliance_cli.store.migrate import ensure_schema

    prepare_sqlite_file(location)
    try:
        engine = make_engine(location.url)
    except exc.ArgumentError:
        raise url_not_understood(location.url) from None
    except ImportError as error:
        raise StorageError(
            f"the driver for {location.display()} is not installed ({error.name})"
        ) from None
    local = clinician or os_user()
    try:
        if migrate:
            ensure_schema(engine, location, clinician=local)
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                role = str(connection.exec_driver_sql("SELECT current_user").scalar_one())
            if explicit_clinician and local != role:
                raise InvalidInput(
                    f"on PostgreSQL you work as the role you connect as ({role})",
                    f"connect as {local} to work on that caseload",
                )
            local = role
    except exc.DBAPIError as error:
        engine.dispose()
        raise translate_db_error(error) from error
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, location, local)
