"""The one place that opens databases.

Every engine comes from `make_engine`, which on SQLite turns on WAL, `synchronous=FULL`,
a long busy timeout and foreign keys, and takes the write lock up front (`BEGIN
IMMEDIATE`) for write transactions, following SQLAlchemy's pysqlite recipe. SQL
parameters are hidden from error messages so they never echo patient data.

A connection to a file is bound to that file (its device and inode): `restore`,
`encrypt` and `decrypt` replace the database with a rename, and a connection that opened
the old file and waited for its lock would otherwise commit into an unlinked inode and
be acknowledged. It checks, after its first read and after every BEGIN (for a write,
once it holds the write lock), that the path still names the file it opened, and
otherwise fails with "the database file was replaced" without writing anything. Why that
is enough: services/maintenance/replacement.py.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.pool import QueuePool

from alliance_cli.clinician import os_user
from alliance_cli.errors import Conflict, DatabaseMissing, InvalidInput, StorageError
from alliance_cli.paths import (
    DB_ENV,
    DatabaseLocation,
    UnsupportedUrl,
    clean_stale_temps,
    create_private_file,
    ensure_data_dir,
    parse_sqlite_url,
    redact_url,
    sqlite_uri,
)
from alliance_cli.store import db_errors, file_guard
from alliance_cli.store.read_ahead import CHECK_SAME_THREAD

if TYPE_CHECKING:
    from sqlmodel import Session

BUSY_TIMEOUT_SECONDS = 15
WRITE_OPTION = "alliance_write"
CLINICIAN_KEY = "alliance_clinician"  # reader's info: whose caseload this transaction sees


def clinician_of(reader: Session | Connection) -> str:
    """The clinician whose caseload this transaction works on (see Database)."""
    return str(reader.info[CLINICIAN_KEY])


SQLITE_MAGIC = b"SQLite format 3\x00"
OPENED_FILE = "alliance_opened_file"  # connection record info: the file it opened

FileIdentity = tuple[int, int]  # (device, inode)


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
            url,
            hide_parameters=True,
            connect_args={
                "timeout": BUSY_TIMEOUT_SECONDS,
                "check_same_thread": CHECK_SAME_THREAD,
            },
        )
        _install_sqlite_listeners(engine, foreign_keys=foreign_keys, read_only=False)
        return engine
    path = target.path
    identity = file_identity(path)  # the file this engine is for (module docstring)
    # A file we may not write is opened read-only; if nothing is pending in its WAL, as
    # immutable, so no -wal/-shm files are created (with the file's read-only mode, they
    # would keep the database read-only after its permissions are fixed). `mode=ro` on a
    # writable file keeps a normal connection that refuses writes (PRAGMA query_only):
    # it still sees concurrent writers correctly and leaves no files behind.
    unwritable = path.exists() and not os.access(path, os.W_OK)
    uri = sqlite_uri(path, read_only=unwritable, immutable=unwritable and not has_wal_content(path))

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=CHECK_SAME_THREAD
        )

    from alliance_cli.store import cipher  # an encrypted file: SQLCipher, keyed

    options = cipher.engine_options(path, uri, BUSY_TIMEOUT_SECONDS) or {"creator": connect}
    options["creator"] = _noting_the_file(path, options["creator"])
    engine = create_engine(
        "sqlite+pysqlite://", poolclass=QueuePool, hide_parameters=True, **options
    )
    read_only = unwritable or target.read_only
    _install_sqlite_listeners(
        engine, foreign_keys=foreign_keys, read_only=read_only, file=(path, identity)
    )
    return engine


def file_identity(path: Path) -> FileIdentity | None:
    """(device, inode) of the file `path` names now; None if there is none."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino)


def database_replaced(undone: str = "nothing was changed") -> StorageError:
    return StorageError(
        "the database file was replaced (by restore, encrypt or decrypt) while this "
        f"command was using it: {undone}",
        "run the command again",
    )


def _noting_the_file(path: Path, opener: Any) -> Any:
    """A pool `creator` that notes which file `path` names just before opening it."""

    def creator(record: Any) -> Any:
        record.info[OPENED_FILE] = file_identity(path)
        return opener()

    return creator


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


def _install_sqlite_listeners(
    engine: Engine,
    *,
    foreign_keys: bool,
    read_only: bool,
    file: tuple[Path, FileIdentity | None] | None = None,
) -> None:
    def replaced(info: dict[Any, Any]) -> bool:
        """The path no longer names the file this connection opened (or the engine's)."""
        if file is None:
            return False
        now = file_identity(file[0])
        return now is None or now != info.get(OPENED_FILE) or file[1] not in (None, now)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        try:
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
                cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a first read
            else:  # switching to WAL writes the file header; a first read either way
                cursor.execute("PRAGMA journal_mode = WAL")
        except Exception:
            if not replaced(record.info):
                raise
            dbapi_connection.close()  # SQLite neither writes nor checkpoints a moved file
            raise database_replaced() from None
        if replaced(record.info):
            dbapi_connection.close()
            raise database_replaced()
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
        if replaced(connection.connection.info):  # a write holds the write lock by now
            connection.exec_driver_sql("ROLLBACK")
            raise database_replaced()


def translate_db_error(error: exc.DBAPIError) -> StorageError | Conflict:
    """A one-line, data-free explanation of a driver error, by its code (db_errors)."""
    if isinstance(error, exc.IntegrityError):
        return db_errors.error_for(db_errors.Problem.CONFLICT)
    return db_errors.explain(error.orig if error.orig is not None else error)


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
    def read_rows(self) -> Iterator[Connection]:
        """A read transaction without the ORM, for reports that read with plain SQL only
        (`store/raw_sql`): importing the ORM and SQLModel costs about 0.2 s of start-up."""
        with self._typed_errors(), self.engine.connect() as connection, connection.begin():
            connection.info[CLINICIAN_KEY] = self.clinician
            yield connection

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
        from sqlmodel import Session

        with (
            self._typed_errors(),
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
            session.info[CLINICIAN_KEY] = self.clinician
            yield session

    @contextmanager
    def _typed_errors(self) -> Iterator[None]:
        """Driver errors as typed, data-free errors: wrapped by SQLAlchemy, or raised by a
        plain cursor (store/raw_sql) as the driver's own class."""
        dbapi = self.engine.dialect.dbapi
        found = getattr(dbapi, "Error", None)
        own = found if isinstance(found, type) and issubclass(found, Exception) else exc.DBAPIError
        try:
            yield
        except exc.DBAPIError as error:
            raise translate_db_error(error) from error
        except own as error:
            raise db_errors.explain(error) from error

    def close(self) -> None:
        self.engine.dispose()


def database_missing(location: DatabaseLocation, *, empty: bool = False) -> DatabaseMissing:
    """The one wording of "there is no database there": it names what the user pointed at
    (never stored data) and how to start, or where to look for a typo."""
    where = location.display()
    if location.is_postgresql:
        return DatabaseMissing(
            f"there is no database at {where}: it does not exist on the server",
            "create it on the server first (e.g. with createdb), or check --db / ALLIANCE_DB",
        )
    check = {"--db": "check --db", DB_ENV: f"check {DB_ENV}"}.get(
        location.source, f"point --db / {DB_ENV} at your database"
    )
    hint = f"start one with `alliance patient add CODE`, or {check}"
    if empty:
        return DatabaseMissing(f"{where} is empty: no database was created in it yet", hint)
    return DatabaseMissing(f"there is no database at {where}: it does not exist yet", hint)


def _is_missing(path: Path) -> bool:
    """True only when `path` certainly does not exist (a permission problem is not
    "missing": opening the file reports it in its own words)."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return True
    except (OSError, ValueError):
        return False
    return False


def prepare_sqlite_file(location: DatabaseLocation, *, create: bool = False) -> None:
    """Check the database file; with `create`, first create the file (0600) and, for the
    default location only, the data directory (0700).

    Without `create` (the default, for every command that only reads) a missing or empty
    file is `DatabaseMissing` and nothing is created: a report over a database that was
    never written would be an empty "all clear". A missing directory in an explicit
    `--db` path is an error either way, so a typo never scatters patient data around.
    """
    path = location.path
    if path is None:
        return
    if _is_missing(path):
        if location.read_only_url:
            raise DatabaseMissing(
                f"{path} does not exist", "a read-only URL (mode=ro) cannot create it"
            )
        if not create:
            raise database_missing(location)
    parent = path.parent
    if location.is_default and create:
        ensure_data_dir(parent)
    elif not parent.is_dir():
        raise StorageError(f"directory {parent} does not exist", "create it first, or fix --db")
    file_guard.require_regular_file(path)  # before anything opens it: a FIFO blocks
    if os.access(parent, os.W_OK):
        clean_stale_temps(parent)
    try:
        if create:
            create_private_file(path)
        head = file_guard.read_head(path, len(SQLITE_MAGIC))
    except FileNotFoundError:  # removed since we looked
        raise database_missing(location) from None
    except PermissionError:
        raise StorageError(
            f"cannot read or create {path}", "check the file's and directory's permissions"
        ) from None
    except OSError as error:
        raise StorageError(f"cannot open {path}: {error.strerror}") from None
    if not head and not create:
        raise database_missing(location, empty=True)
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
        tables = _sqlite_tables(path)
        if tables is not None:
            _refuse_foreign_tables(path, tables)
            if not tables and not create:  # a SQLite file nothing was ever written to
                raise database_missing(location, empty=True)
    # Ours (or about to be): its side files take its mode (file_guard's docstring).
    file_guard.tighten(path, may_change=not location.read_only_url)


def _sqlite_tables(path: Path) -> set[str] | None:
    """The file's table names, looked up read-only before our connections switch it to
    WAL (a write); None when it cannot be read (the engine then reports it in the usual
    words)."""
    try:
        immutable = not os.access(path, os.W_OK) and not has_wal_content(path)
        uri = sqlite_uri(path, read_only=True, immutable=immutable)
        with closing(sqlite3.connect(uri, uri=True, timeout=1)) as conn:
            return {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
    except sqlite3.Error:
        return None


def _refuse_foreign_tables(path: Path, tables: set[str]) -> None:
    if tables and "alembic_version" not in tables:
        raise StorageError(
            f"{path} holds tables that alliance did not create",
            "point --db at an alliance database or a new file; this one was left untouched",
        )


def open_database(
    location: DatabaseLocation,
    *,
    create: bool = False,
    migrate: bool = True,
    clinician: str | None = None,
    explicit_clinician: bool = False,
) -> Database:
    """Open the database the user pointed at, upgrading its schema if needed.

    Only with `create` (commands that store something) is a missing SQLite file created;
    otherwise it is `DatabaseMissing`, so a read never leaves an empty database behind
    (see `prepare_sqlite_file`). A PostgreSQL database is never created by alliance.
    `clinician` is who works on a SQLite file; on PostgreSQL it is the connecting role,
    and an explicitly requested other name (`--clinician`) is refused.
    """
    from alliance_cli.store.migrate import ensure_schema

    prepare_sqlite_file(location, create=create)
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
        raise connect_error(location, error) from error
    except BaseException:
        engine.dispose()
        raise
    return Database(engine, location, local)


def connect_error(location: DatabaseLocation, error: exc.DBAPIError) -> StorageError | Conflict:
    """`translate_db_error`, except that a PostgreSQL server saying the database named in
    the URL does not exist (`FATAL: database "x" does not exist`) is `DatabaseMissing`."""
    orig = error.orig if error.orig is not None else error
    if location.is_postgresql and db_errors.missing_database(orig):
        return database_missing(location)
    return translate_db_error(error)
