"""SQLite database files handled as files: private temp copies, integrity, safe install.

Copies are always written by SQLite (`VACUUM INTO`), never by copying bytes: the copy is
taken inside one read transaction, so it is a consistent snapshot even while another
process writes, and it never picks up a half-written page or a stale `-wal` file. Each
copy goes to a temp file created 0600 in the destination's directory, is checked with
`PRAGMA integrity_check`, flushed to disk, and only then moved into place.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alliance_cli.errors import AllianceError, Conflict, InvalidInput, StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    clean_stale_temps,
    create_private_temp,
    fsync_directory,
    remove_temp,
)
from alliance_cli.store import cipher, db_errors
from alliance_cli.store.engine import BUSY_TIMEOUT_SECONDS, SQLITE_MAGIC, has_wal_content
from alliance_cli.store.file_guard import read_head

SIDE_SUFFIXES = ("-wal", "-shm")
ALLIANCE_TABLES = frozenset({"alembic_version", "patient", "session_rating"})


def sqlite_file(location: DatabaseLocation, command: str) -> Path:
    """The database file, or a clear error for a server database / in-memory URL."""
    if location.path is None:
        raise InvalidInput(
            f"`alliance {command}` works only on a SQLite database file, not {location.display()}",
            "use the database server's own tools",
        )
    return location.path


def header(path: Path) -> bytes:
    """The first bytes of a regular file (StorageError for a FIFO, a device...: never
    blocks)."""
    return read_head(path, len(SQLITE_MAGIC))


def require_database_file(path: Path) -> None:
    """The live database exists and is a SQLite file, plain or encrypted (it is never
    created here)."""
    if not path.exists():
        raise StorageError(f"there is no database at {path}", "check --db / ALLIANCE_DB")
    if not path.is_file():
        raise StorageError(f"{path} is not a database file")
    try:
        head = header(path)
    except OSError as error:
        raise StorageError(f"cannot read {path}: {error.strerror}") from None
    if head and head != SQLITE_MAGIC and not cipher.looks_encrypted(path):
        raise StorageError(f"{path} is not a SQLite file", "point --db at an alliance database")


def side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES]


def remove_quietly(*paths: Path) -> None:
    for path in paths:
        with suppress(OSError):
            path.unlink(missing_ok=True)


def storage_error(error: Exception) -> AllianceError:
    """The project's one-line, data-free wording of a driver error (by its code)."""
    return db_errors.explain(error)


def fsync_file(path: Path) -> None:
    """Make a file written beside its target durable; a full disk is an error of ours."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as error:
        raise InvalidInput(
            f"cannot write in {path.parent}: {error.strerror}", "nothing was replaced"
        ) from None
    finally:
        os.close(fd)


@contextmanager
def private_temp(directory: Path, name: str) -> Iterator[Path]:
    """An empty 0600 temp file in `directory`, removed (with any side files) afterwards;
    one left by a killed command is removed by the next (`paths.clean_stale_temps`)."""
    clean_stale_temps(directory)
    try:
        temp = create_private_temp(directory, name)
    except FileNotFoundError:
        raise StorageError(f"directory {directory} does not exist") from None
    except PermissionError:
        raise StorageError(
            f"cannot create a file in {directory}", "check the directory's permissions"
        ) from None
    except OSError as error:
        raise StorageError(f"cannot create a file in {directory}: {error.strerror}") from None
    try:
        yield temp
    finally:
        remove_temp(temp)


@contextmanager
def read_only(path: Path, *, sqlcipher: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection that only reads `path` (SQLCipher's, keyed, for an encrypted file or
    with `sqlcipher`). It never removes a `-wal`/`-shm`: another connection may be using
    them. On a file we may write it is an ordinary connection, so SQLite itself removes
    them when the last connection closes (under its exclusive lock); on one we may not,
    it is read-only, and immutable when the WAL holds nothing (no side file is made)."""
    if os.access(path, os.W_OK):
        connection = cipher.connect(path, timeout=BUSY_TIMEOUT_SECONDS, sqlcipher=sqlcipher)
    else:
        connection = cipher.connect(
            path,
            read_only=True,
            immutable=not has_wal_content(path),
            timeout=BUSY_TIMEOUT_SECONDS,
            sqlcipher=sqlcipher,
        )
    try:
        yield connection
    finally:
        connection.close()


def integrity_problems(connection: sqlite3.Connection) -> list[str]:
    """What `PRAGMA integrity_check` reports; empty when the file is sound."""
    try:
        rows = connection.execute("PRAGMA integrity_check").fetchall()
    except cipher.errors("DatabaseError") as error:
        return [str(error)]
    messages = [str(row[0]) for row in rows]
    return [] if messages == ["ok"] else messages


def file_integrity_problems(path: Path) -> list[str]:
    try:
        with read_only(path) as connection:
            return integrity_problems(connection)
    except cipher.errors("DatabaseError") as error:
        return [str(error)]


def same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def install(temp: Path, target: Path, *, replace: bool) -> None:
    """Move the finished temp file to `target`; without `replace`, never clobber."""
    try:
        if replace:
            os.replace(temp, target)
        else:
            try:
                os.link(temp, target)  # atomic, and fails if target appeared meanwhile
            except FileExistsError:
                raise Conflict(f"{target} already exists", "pass --force to replace it") from None
            except OSError:  # a filesystem without hard links
                if target.exists() or target.is_symlink():
                    raise Conflict(
                        f"{target} already exists", "pass --force to replace it"
                    ) from None
                os.replace(temp, target)
    except PermissionError:
        raise StorageError(
            f"cannot write {target}", "check the file's and directory's permissions"
        ) from None
    except OSError as error:
        raise StorageError(f"cannot write {target}: {error.strerror}") from None
    fsync_directory(target.parent)
