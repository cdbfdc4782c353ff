"""`alliance encrypt` and `alliance decrypt`: convert the SQLite file with SQLCipher.

Both hold the database against every other connection (services/maintenance/replacement.py: no
write can land between the copy and the rename, none is lost after it), take a private
0600 backup (`VACUUM INTO`, named `...pre-encryption-...` / `...pre-decryption-...`),
write the whole database into a temp file in the same directory with `sqlcipher_export`,
check it (SQLite's integrity check and the same number of rows in every table, read back
with the key) and only then move it into place, atomically. The database is never
rewritten in place, so a failure at any step leaves it as it was.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alliance_cli.errors import Conflict, InvalidInput, StorageError
from alliance_cli.paths import DatabaseLocation
from alliance_cli.services.maintenance.backup import backup_database
from alliance_cli.services.maintenance.replacement import Held, held_for_replacement
from alliance_cli.services.maintenance.sqlite_files import (
    fsync_file,
    integrity_problems,
    private_temp,
    storage_error,
)
from alliance_cli.store import cipher
from alliance_cli.store.engine import (
    SQLITE_MAGIC,
    FileIdentity,
    database_missing,
    file_identity,
    open_database,
)
from alliance_cli.store.file_guard import read_head, require_regular_file


@dataclass(frozen=True)
class ConversionResult:
    database: Path
    backup: Path  # the copy taken before: plain for `encrypt`, encrypted for `decrypt`
    tables: int
    rows: int


def _database_file(location: DatabaseLocation, command: str) -> Path:
    if location.path is None:
        raise InvalidInput(
            f"`alliance {command}` works only on a SQLite database file, not {location.display()}",
            "a database server encrypts its storage with its own tools (see the README, "
            "Encryption at rest)",
        )
    if location.read_only():
        raise StorageError(
            "the database is read-only: nothing was changed",
            "check the file's permissions, or drop mode=ro from the URL",
        )
    require_regular_file(location.path)  # a FIFO, a device: refused before any open
    return location.path


def _is_plain_sqlite(path: Path) -> bool:
    try:
        return read_head(path, len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except (OSError, StorageError):  # not there, or not a regular file (never blocks)
        return False


def encrypt_database(
    location: DatabaseLocation, *, now: datetime | None = None
) -> ConversionResult:
    """Encrypt the database with the key from `ALLIANCE_DB_KEY`, the keyring or a prompt."""
    path = _database_file(location, "encrypt")
    identity = file_identity(path)  # the file checked here is the file converted
    if path.exists() and cipher.looks_encrypted(path):
        raise Conflict("the database is already encrypted", "nothing was changed")
    if not cipher.available():
        raise StorageError("SQLCipher is not installed: nothing was changed", cipher.EXTRA)
    # Open it as every command that stores data does: creates a new database (so a clinic
    # can start encrypted, before any patient is added), upgrades an old schema, refuses
    # a file that is not an alliance database.
    open_database(location, create=True).close()
    identity = identity or file_identity(path)  # just created
    passphrase = cipher.new_key_for(path)
    if passphrase is None:
        raise InvalidInput(
            "no key to encrypt the database with: nothing was changed",
            f"set {cipher.KEY_ENV}, keep the key in the system keyring, or run in a terminal "
            "to be asked for it",
        )
    cipher.check_new_key(passphrase)
    return _convert(location, path, identity, encrypt=True, passphrase=passphrase, now=now)


def decrypt_database(
    location: DatabaseLocation, *, now: datetime | None = None
) -> ConversionResult:
    """Turn an encrypted database back into a plain SQLite file (with its key)."""
    path = _database_file(location, "decrypt")
    identity = file_identity(path)  # the file checked here is the file converted
    if not path.exists():
        raise database_missing(location)
    if _is_plain_sqlite(path) or path.stat().st_size == 0:
        raise Conflict("the database is not encrypted", "nothing was changed")
    open_database(location).close()  # the key opens it (or a clear error)
    passphrase = cipher.passphrase_of(path)
    return _convert(location, path, identity, encrypt=False, passphrase=passphrase, now=now)


def _convert(
    location: DatabaseLocation,
    path: Path,
    identity: FileIdentity | None,
    *,
    encrypt: bool,
    passphrase: str,
    now: datetime | None,
) -> ConversionResult:
    label = "pre-encryption" if encrypt else "pre-decryption"
    with held_for_replacement(
        path,
        expected=identity,
        undone="the database was not converted",
        passphrase=None if encrypt else passphrase,
        sqlcipher=True,
    ) as held:
        backup = backup_database(location, now=now, label=label, through=held.connection)
        tables, rows = _convert_held(held, encrypt=encrypt, passphrase=passphrase)
    return ConversionResult(database=path, backup=backup, tables=tables, rows=rows)


def _convert_held(held: Held, *, encrypt: bool, passphrase: str) -> tuple[int, int]:
    """Export, check and install the converted copy; the number of tables and rows."""
    path = held.path
    expected: dict[str, int] = {}

    def check(converted: sqlite3.Connection) -> None:
        problems = integrity_problems(converted)
        if problems:
            raise StorageError(
                f"the converted copy failed SQLite's integrity check ({len(problems)} "
                "problem(s)); nothing was changed"
            )
        if cipher.table_counts(converted) != expected:
            raise StorageError("the converted copy lost rows; nothing was changed")

    with private_temp(path.parent, path.name) as temp:
        try:
            expected.update(cipher.table_counts(held.connection))
            cipher.export(
                held.connection, temp, encrypt=encrypt, passphrase=passphrase, on_copy=check
            )
        except cipher.errors() as error:
            raise storage_error(error) from None
        if cipher.looks_encrypted(temp) != encrypt:
            raise StorageError("the converted copy is not what was asked; nothing was changed")
        fsync_file(temp)
        held.replace_with(temp)
    return len(expected), sum(expected.values())
