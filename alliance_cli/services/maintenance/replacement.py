"""Replacing the live SQLite file (`restore`, `encrypt`, `decrypt`) while other commands
may be using it: every acknowledged write ends up in the new file or in the copy taken
first, and no file is ever left damaged.

The new database is built in a temp file beside the old one and moved into place with
one rename, but SQLite knows files by name for their `-wal`/`-shm` and by descriptor for
their data, so three things could go wrong; each is closed here or in the engine:

1. A write committed after the copy was taken would stay in the old file. So the backup
   and the copy are made through one connection that holds SQLite's EXCLUSIVE lock on
   the database file from before they are taken until the new file is in place
   (`locking_mode = EXCLUSIVE`, then `BEGIN EXCLUSIVE`, which waits up to the busy
   timeout like any command). In WAL mode every open connection holds a SHARED lock on
   the database file from its first read until it closes, so while we hold EXCLUSIVE no
   other connection is open on the file in any useful sense: none reads, none writes,
   and one opened meanwhile waits at its first read, before it has looked for the
   `-wal`/`-shm`.

2. A `-wal`/`-shm` left beside the new file would be taken as its own (old plaintext
   frames in an encrypted file: "hmac check failed"), and one removed while a
   connection uses it takes that connection's later commits with it. Under the lock
   the WAL is checkpointed into the file (TRUNCATE, synchronous FULL) and only then are
   both removed: by 1 no other connection can be using them, and a crash at any moment
   leaves the complete old file or the complete new one. Nothing else removes a side
   file of a database that may be live (`sqlite_files.read_only` and `cipher.export`
   leave them to SQLite, which removes them when the last connection closes).

3. A process that opened the old file before the rename and waited for the lock gets it
   after our release, on an unlinked inode that SQLite does not re-check: a commit there
   would be acknowledged and lost. The engine (store/engine.py) notes the file's
   (device, inode) before opening it and compares it with what the path names after the
   connection's first read and after every BEGIN (for a write, once it holds the write
   lock): a difference is "the database file was replaced" (exit 4), nothing written.
   The comparison is decisive: a connection that passed it holds a SHARED lock on the
   current file (WAL mode), which keeps the next replacement out (1) for as long as it
   stays open. Until it checks, such a connection does no harm: SQLite refuses a
   rollback-journal write to a file that has moved (SQLITE_READONLY_DBMOVED), skips the
   checkpoint-on-close of a moved, non-empty file (which would delete the new `-wal`),
   and the old file is left in WAL mode, so the engine's `journal_mode = WAL` writes
   nothing. An empty old file would make SQLite delete the `-wal` beside it, but
   `journal_mode = WAL` (ours first, as every alliance connection's) writes the first
   page of an empty file, and we make sure of it under the lock.

We also check the identity ourselves under the lock, so two replacements racing each
other cannot both win. A POSIX caveat shapes the code: closing any descriptor of a file
drops every fcntl lock the process holds on it, so while the lock is held nothing in this
process opens the old file except through the holding connection (hence
`backup_database(..., through=)`), and all of it is one SQLite library (SQLCipher's for
`encrypt`/`decrypt`, which must run `sqlcipher_export` on that connection).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alliance_cli.errors import StorageError
from alliance_cli.services.maintenance.sqlite_files import install, side_files, storage_error
from alliance_cli.store import cipher
from alliance_cli.store import engine as store_engine
from alliance_cli.store.db_errors import Problem, problem_of
from alliance_cli.store.engine import FileIdentity, database_replaced, file_identity


@dataclass
class Held:
    """The database file at `path`, locked EXCLUSIVE through `connection` (see above)."""

    path: Path
    connection: sqlite3.Connection
    empty: bool  # no table in it: nothing to back up
    undone: str

    def replace_with(self, temp: Path) -> None:
        """Move the finished `temp` over the database, still under the lock."""
        wal, shm = side_files(self.path)
        try:
            pending = wal.stat().st_size if wal.exists() else 0
        except OSError:
            pending = 0
        if pending:  # checkpointed when locked, and nothing writes to it since
            raise StorageError(f"the database's write-ahead log is not empty: {self.undone}")
        for side in (wal, shm):  # nobody else can be using them: module docstring (2)
            try:
                side.unlink(missing_ok=True)
            except OSError as error:
                problem = f"cannot remove {side}: {error.strerror}"
                raise StorageError(f"{problem}; {self.undone}") from None
        install(temp, self.path, replace=True)


@contextmanager
def held_for_replacement(
    path: Path,
    *,
    expected: FileIdentity | None,
    undone: str,
    passphrase: str | None = None,
    sqlcipher: bool = False,
) -> Iterator[Held]:
    """Hold the database at `path` (the file `expected` names, if given) so that nobody
    else can read or write it until the block ends; `Held.replace_with` installs the new
    file meanwhile. Closing the connection releases the lock; without a replacement,
    SQLite checkpoints and removes the side files itself, the file as it was.
    `passphrase` keys an encrypted file; `sqlcipher` opens a plain one with SQLCipher's
    driver (for `cipher.export`)."""
    connection, empty = _lock(path, expected, undone, passphrase, sqlcipher)
    try:
        yield Held(path, connection, empty, undone)
    finally:
        connection.close()


def _lock(
    path: Path,
    expected: FileIdentity | None,
    undone: str,
    passphrase: str | None,
    sqlcipher: bool,
) -> tuple[sqlite3.Connection, bool]:
    busy = StorageError(
        f"{path} is in use by another process",
        f"close other alliance commands and try again; {undone}",
    )
    opened = file_identity(path)
    if opened is None or (expected is not None and opened != expected):
        raise database_replaced(undone)
    try:
        connection = cipher.connect(
            path,
            timeout=store_engine.BUSY_TIMEOUT_SECONDS,
            isolation_level=None,
            passphrase=passphrase,
            sqlcipher=sqlcipher,
        )
    except cipher.errors() as error:
        raise storage_error(error) from None
    try:
        try:
            # As every alliance connection (a WAL file stays as it is: no write); a
            # first read in normal locking mode, so the shared `-shm` is used...
            connection.execute("PRAGMA journal_mode = WAL").fetchone()
            connection.execute("PRAGMA synchronous = FULL")
            # ...then no lock is given back until the connection closes.
            connection.execute("PRAGMA locking_mode = EXCLUSIVE").fetchone()
            connection.execute("BEGIN EXCLUSIVE")
        except cipher.errors() as error:
            if file_identity(path) != opened:
                raise database_replaced(undone) from None
            if problem_of(error) is Problem.BUSY:
                raise busy from None
            raise storage_error(error) from None
        if file_identity(path) != opened:
            raise database_replaced(undone)
        try:
            if path.stat().st_size == 0:  # its first page: see the module docstring (3)
                connection.execute("PRAGMA user_version = 0")
            (tables,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
            connection.execute("COMMIT")
            (blocked, _, _) = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except cipher.errors() as error:
            raise storage_error(error) from None
        if blocked:
            raise busy
    except BaseException:
        connection.close()
        raise
    return connection, tables == 0
