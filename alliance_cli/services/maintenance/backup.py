"""`alliance backup` and `alliance restore`: consistent, private copies made by SQLite."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alliance_cli.errors import AllianceError, Conflict, InvalidInput, NotFound, StorageError
from alliance_cli.paths import DatabaseLocation, ensure_data_dir
from alliance_cli.services.maintenance.replacement import held_for_replacement
from alliance_cli.services.maintenance.sqlite_files import (
    ALLIANCE_TABLES,
    file_integrity_problems,
    fsync_file,
    header,
    install,
    integrity_problems,
    private_temp,
    read_only,
    require_database_file,
    same_path,
    side_files,
    sqlite_file,
    storage_error,
)
from alliance_cli.store import cipher
from alliance_cli.store.db_errors import sqlite_extended_code
from alliance_cli.store.engine import SQLITE_MAGIC, database_missing, file_identity
from alliance_cli.store.schema import SCHEMA_HEAD


@dataclass(frozen=True)
class SourceInfo:
    """A file that passed the checks for `alliance restore`."""

    path: Path
    revision: str


@dataclass(frozen=True)
class RestoreResult:
    restored_from: Path
    database: Path
    backup: Path | None  # the copy of the database as it was, None if there was none
    revision: str  # the schema of the restored copy
    upgrade_pending: bool  # older than SCHEMA_HEAD: upgraded the next time it is opened
    encrypted: bool = False  # the restored database is encrypted (SQLCipher)


def default_backup_name(
    db_path: Path, directory: Path, now: datetime | None = None, label: str = "backup"
) -> Path:
    """`<name>.<label>-YYYYmmdd-HHMMSS.db` in `directory`, with -2, -3... if taken."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = f"{db_path.stem}.{label}-{stamp}"
    candidate = directory / f"{base}.db"
    number = 2
    while candidate.exists() or candidate.is_symlink():
        candidate = directory / f"{base}-{number}.db"
        number += 1
    return candidate


def _backup_target(
    db_path: Path, dest: Path | None, *, force: bool, now: datetime | None, label: str
) -> Path:
    if dest is None:
        return default_backup_name(db_path, db_path.parent, now, label)
    target = dest.expanduser().absolute()
    if target.is_dir():
        return default_backup_name(db_path, target, now, label)
    if not target.parent.is_dir():
        raise InvalidInput(f"directory {target.parent} does not exist", "create it first")
    if any(same_path(target, own) for own in (db_path, *side_files(db_path))):
        raise InvalidInput(f"{target} is the database itself", "give another destination")
    if (target.exists() or target.is_symlink()) and not force:
        raise Conflict(f"{target} already exists", "pass --force to replace it")
    return target


# SQLite's result codes that only writing the copy gives (the database is only read):
# the disk is full, the copy cannot be opened, and (extended codes, which the standard
# driver reports) a write, fsync or truncate of the copy failed.
COPY_FAULTS = {
    13: "the disk is full",
    14: "cannot create it",
    778: "a write failed",
    1034: "a write failed",
    1290: "a write failed",
    1546: "a write failed",
}
SQLITE_IOERR = 10  # the bare code (SQLCipher's driver): either side; a probe write tells
PROBE_LIMIT = 64 << 20  # bytes: a probe costs I/O, on an error path only


class UnwritableCopy(StorageError):
    """`VACUUM INTO` failed writing the copy, not reading the database: where the user
    chose the place (DEST), that is the input's fault (exit 1), as for `--output`."""


def _copy_error(error: Exception, copy: Path, size: int) -> AllianceError:
    """A driver error of `VACUUM INTO` (of a database of `size` bytes), as the copy's
    fault when it is one; the database's (storage error) otherwise or when unsure."""
    code = sqlite_extended_code(error)
    reason = COPY_FAULTS.get(code) if code is not None else None
    if reason is None and code == SQLITE_IOERR:
        reason = _write_fails(copy, min(size, PROBE_LIMIT))
    if reason is None:
        return storage_error(error)
    return UnwritableCopy(
        f"cannot write the copy in {copy.parent}: {reason}",
        "check its free space and permissions, or choose another destination; nothing was written",
    )


def _write_fails(copy: Path, size: int) -> str | None:
    """Why writing `size` bytes where the copy failed fails now (SQLite's bare I/O error
    may be the database's or the copy's); None when the probe is written."""
    block = os.urandom(1 << 20)  # not zeros: a compressing file system stores none
    try:
        with copy.open("wb") as probe:  # the partial copy: removed whatever happens
            for start in range(0, max(size, 1), len(block)):
                probe.write(block[: max(1, min(len(block), size - start))])
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as error:
        return error.strerror or "a write failed"
    return None


def _vacuum_database_into(location: DatabaseLocation, target: Path, size: int) -> None:
    """`VACUUM INTO` from the live database, through the project's engine settings (on
    an encrypted database SQLCipher writes the copy encrypted, with the same key)."""
    from sqlalchemy import exc

    from alliance_cli.store.engine import make_engine, translate_db_error

    engine = make_engine(location.url)
    try:
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            # A read-only database (mode=ro, or a file this user cannot write) is opened
            # with query_only, which refuses VACUUM INTO; it writes only the copy.
            driver.execute("PRAGMA query_only = OFF")
            driver.execute("VACUUM INTO ?", (str(target),))
        finally:
            raw.close()
    except exc.DBAPIError as error:
        raise translate_db_error(error) from None
    except cipher.errors() as error:
        raise _copy_error(error, target, size) from None
    finally:
        engine.dispose()


def _vacuum_through(connection: sqlite3.Connection, target: Path, size: int) -> None:
    """`VACUUM INTO` through a connection that holds the database (replacement.py)."""
    try:
        connection.execute("VACUUM INTO ?", (str(target),))
    except cipher.errors() as error:
        raise _copy_error(error, target, size) from None


def backup_database(
    location: DatabaseLocation,
    dest: Path | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
    label: str = "backup",
    through: sqlite3.Connection | None = None,
) -> Path:
    """Write a checked, consistent 0600 copy of the database; return its path. The copy
    of an encrypted database is encrypted with the same key. `through`: the connection
    that holds the database for its replacement (maintenance/replacement.py) makes the
    copy, and the file itself is not opened here (that would drop the lock it holds)."""
    db_path = sqlite_file(location, "backup")
    if not db_path.exists():  # never created here: a backup of nothing is no backup
        raise database_missing(location)
    if through is None:
        require_database_file(db_path)
    target = _backup_target(db_path, dest, force=force, now=now, label=label)
    with ExitStack() as stack:
        with at_destination(dest):
            temp = stack.enter_context(private_temp(target.parent, target.name))
        size = sum(  # about what the copy needs: the file and its write-ahead log
            path.stat().st_size for path in (db_path, *side_files(db_path)) if path.is_file()
        )
        try:
            if through is None:
                _vacuum_database_into(location, temp, size)
            else:
                _vacuum_through(through, temp, size)
        except UnwritableCopy as error:
            with at_destination(dest):  # DEST's fault when the user chose it
                raise error from None
        fsync_file(temp)
        problems = file_integrity_problems(temp)
        if problems:
            raise StorageError(
                f"the copy failed SQLite's integrity check ({len(problems)} problem(s)); "
                f"{target} was not written",
                "run `alliance doctor`: the database itself may be damaged",
            )
        with at_destination(dest):
            install(temp, target, replace=force)
    return target


@contextmanager
def at_destination(dest: Path | None) -> Iterator[None]:
    """Creating or placing the backup file: where the user asked (DEST) and it cannot be
    written, that is the input's fault, exit 1, as for `--output` (README, "Exit codes");
    next to the database (no DEST), its own directory is the problem, exit 4."""
    try:
        yield
    except StorageError as error:
        if dest is None:
            raise
        raise InvalidInput(error.message, error.hint) from None


def check_restore_source(src: Path) -> SourceInfo:
    """`src` is a sound SQLite file holding an alliance schema this code knows."""
    path = src.expanduser().absolute()
    if not path.exists():
        raise NotFound(f"{path} does not exist")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    try:
        head = header(path)
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}") from None
    if head != SQLITE_MAGIC and not cipher.looks_encrypted(path):
        raise InvalidInput(f"{path} is not a SQLite database", "nothing was changed")
    try:
        with read_only(path) as connection:
            problems = integrity_problems(connection)
            if problems:
                raise InvalidInput(
                    f"{path} is damaged: SQLite's integrity check found {len(problems)} problem(s)",
                    "nothing was changed; pick another backup",
                )
            tables = {
                str(row[0])
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            versions = (
                connection.execute("SELECT version_num FROM alembic_version").fetchall()
                if tables >= ALLIANCE_TABLES
                else []
            )
    except cipher.errors("DatabaseError"):
        raise InvalidInput(
            f"{path} cannot be read as a SQLite database", "nothing was changed"
        ) from None
    if len(versions) != 1:
        raise InvalidInput(f"{path} is not an alliance database", "nothing was changed")
    revision = str(versions[0][0])

    from alliance_cli.store.migrate import known_revisions

    if revision not in known_revisions():
        raise InvalidInput(
            f"{path} has schema {revision}, which this version of alliance does not know",
            "upgrade alliance (pip install -U alliance-cli) to restore it; nothing was changed",
        )
    return SourceInfo(path, revision)


def _backup_before_restore(location: DatabaseLocation, through: sqlite3.Connection) -> Path:
    try:
        return backup_database(location, through=through)
    except AllianceError as error:
        raise StorageError(
            f"the current database could not be backed up ({error.message}); nothing was restored",
            "if it is damaged, move it away yourself and restore again",
        ) from None


def _use_wal(path: Path) -> None:
    """Put a fresh copy in WAL mode, as alliance keeps its databases (VACUUM INTO does not)."""
    try:
        connection = cipher.connect(path, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
        finally:
            connection.close()
    except cipher.errors() as error:
        raise storage_error(error) from None


def restore_database(location: DatabaseLocation, src: Path) -> RestoreResult:
    """Replace the database with a checked `VACUUM INTO` copy of `src`, after a backup of
    it; both under its lock, so no write is lost between them (maintenance/replacement.py)."""
    db_path = sqlite_file(location, "restore")
    source = check_restore_source(src)
    target = Path(os.path.realpath(db_path))
    if target.exists() and same_path(source.path, target):
        raise InvalidInput(f"{source.path} is the database itself", "nothing was changed")
    if location.is_default:
        ensure_data_dir(target.parent)
    elif not target.parent.is_dir():
        raise StorageError(f"directory {target.parent} does not exist", "create it first")

    identity = file_identity(target)
    if identity is not None:
        require_database_file(target)
    # Never silently drop encryption: a plain backup restored over an encrypted database
    # is encrypted with the database's key (an encrypted backup stays encrypted).
    key = cipher.passphrase_of(target) if identity and cipher.looks_encrypted(target) else None
    encrypt_with = key if key is not None and not cipher.looks_encrypted(source.path) else None
    backup: Path | None = None
    with private_temp(target.parent, target.name) as temp:
        try:
            with read_only(source.path, sqlcipher=encrypt_with is not None) as connection:
                if encrypt_with is not None:
                    cipher.export(connection, temp, encrypt=True, passphrase=encrypt_with)
                else:
                    connection.execute("VACUUM INTO ?", (str(temp),))
        except cipher.errors() as error:
            raise storage_error(error) from None
        _use_wal(temp)
        encrypted = cipher.looks_encrypted(temp)
        fsync_file(temp)
        if file_integrity_problems(temp):
            raise StorageError(
                "the copy of the backup failed SQLite's integrity check; nothing was restored"
            )
        if identity is None:  # a new database: one that appeared meanwhile is not replaced
            try:
                install(temp, target, replace=False)
            except Conflict:
                raise Conflict(
                    f"{target} was created meanwhile: nothing was restored", "restore again"
                ) from None
        else:
            with held_for_replacement(
                target, expected=identity, undone="nothing was restored", passphrase=key
            ) as held:
                if not held.empty:
                    backup = _backup_before_restore(location, held.connection)
                held.replace_with(temp)
    return RestoreResult(
        restored_from=source.path,
        database=target,
        backup=backup,
        revision=source.revision,
        upgrade_pending=source.revision != SCHEMA_HEAD,
        encrypted=encrypted,
    )
