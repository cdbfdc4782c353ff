"""Encryption at rest of the SQLite file with SQLCipher (the optional `encryption` extra).

An encrypted file does not start with SQLite's header: its first 16 bytes are a random
salt and every page (in the file and in its `-wal`) is encrypted. A file whose header is
not SQLite's but whose size is a whole number of pages is taken as encrypted and opened
with the key; without a key it is refused ("the database is encrypted"), and a key that
does not open it gets "wrong key or not an encrypted database". Nothing is ever written
to a file the key does not open.

The key (a passphrase) comes from `ALLIANCE_DB_KEY`, else the key source the program
installed (store/host.py: the CLI's asks the system keyring, then the terminal;
this module never prompts itself); never from the config file or the command line.
It is turned into SQLCipher's raw key with SQLCipher 4's own derivation
(PBKDF2-HMAC-SHA512, 256,000 iterations, the file's salt), once per process and file,
so a connection opens without repeating the derivation and `PRAGMA key` only ever sees
hex digits (no quoting, no injection). The same passphrase opens the file in the
`sqlcipher` shell (`PRAGMA key = '...'`). Key text never reaches a message, an exception
or a log: statements that carry a key run on the driver directly (never through
SQLAlchemy, whose errors quote the statement), and their errors are replaced by ours.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, cast

from alliance_cli.errors import InvalidInput, StorageError
from alliance_cli.paths import sqlite_uri
from alliance_cli.store import host
from alliance_cli.store.db_errors import sqlite_code
from alliance_cli.store.read_ahead import CHECK_SAME_THREAD

KEY_ENV = "ALLIANCE_DB_KEY"
EXTRA = "pip install 'alliance-cli[encryption]'"
MIN_KEY_LENGTH = 8

SQLITE_HEADER = b"SQLite format 3\x00"
SALT_BYTES = 16
KDF_ITERATIONS = 256_000  # SQLCipher 4's default: PBKDF2-HMAC-SHA512 over the file's salt
KEY_BYTES = 32
MIN_PAGE = 512  # the smallest SQLite page: an encrypted file is a whole number of pages

# Keys derived in this process, by (passphrase, salt); passphrases that opened a file,
# by its salt (so a command asks at most once, also for the backups it makes: a copy
# written by SQLCipher keeps the salt).
_derived: dict[tuple[str, bytes], str] = {}
_opened: dict[bytes, str] = {}


def forget_keys() -> None:
    """Drop every key this process holds (tests; a long-lived caller)."""
    _derived.clear()
    _opened.clear()


# --------------------------------------------------------------------------------------
# Recognising an encrypted file
# --------------------------------------------------------------------------------------


def _salt_of(path: Path) -> bytes | None:
    """The salt at the start of an encrypted file, or None if `path` is not one."""
    from alliance_cli.store.file_guard import read_head

    try:
        size = path.stat().st_size
        head = read_head(path, SALT_BYTES)  # a FIFO would block a plain open
    except (OSError, StorageError):  # not there, or not a regular file
        return None
    if size < MIN_PAGE or size % MIN_PAGE or head == SQLITE_HEADER:
        return None
    if len(head) < SALT_BYTES or not any(head):
        return None
    return head


def looks_encrypted(path: Path) -> bool:
    """True when `path` is a file that is not plain SQLite but could be SQLCipher."""
    return _salt_of(path) is not None


def errors(name: str = "Error") -> tuple[type[Exception], ...]:
    """`sqlite3.<name>`, plus SQLCipher's when it is loaded (its classes do not derive
    from sqlite3's). Use as `except errors("DatabaseError"):` around file connections."""
    found: list[type[Exception]] = [getattr(sqlite3, name)]
    module = sys.modules.get("sqlcipher3")
    if module is not None:
        found.append(getattr(module, name))
    return tuple(found)


def available() -> bool:
    try:
        _driver()
    except StorageError:
        return False
    return True


def _driver() -> ModuleType:
    try:
        import sqlcipher3
    except ImportError:
        raise StorageError(
            "SQLCipher is not installed: encrypted databases need it", EXTRA
        ) from None
    return cast(ModuleType, sqlcipher3)


# --------------------------------------------------------------------------------------
# Errors (they name the file, never a key)
# --------------------------------------------------------------------------------------


def encrypted_error(path: Path) -> StorageError:
    return StorageError(
        f"the database is encrypted, or {path} is not a SQLite file",
        f"set {KEY_ENV}, keep the key in the system keyring, or run in a terminal to be "
        "asked for it; the file was left untouched",
    )


def wrong_key_error(path: Path) -> StorageError:
    return StorageError(
        f"wrong key or not an encrypted database: {path}",
        f"check {KEY_ENV} or the key in the system keyring; the file was left untouched",
    )


# --------------------------------------------------------------------------------------
# The key
# --------------------------------------------------------------------------------------


def key_for(path: Path, salt: bytes | None = None) -> str | None:
    """The passphrase of the database at `path`, or None when none can be had:
    `ALLIANCE_DB_KEY`, the one that opened a file with this salt, the keyring, a prompt."""
    found = os.environ.get(KEY_ENV)
    if found:
        return found
    if salt is not None and salt in _opened:
        return _opened[salt]
    return _from_keyring(str(path.absolute())) or _prompt(
        f"Key for the encrypted database {path}: "
    )


def new_key_for(path: Path) -> str | None:
    """A passphrase to encrypt `path` with: the same sources, typed twice at a prompt."""
    found = os.environ.get(KEY_ENV) or _from_keyring(str(path.absolute()))
    if not found:
        found = _prompt(f"New key for {path}: ")
        if found and _prompt("The same key again: ") != found:
            raise InvalidInput("the two keys differ", "nothing was changed")
    return found


def _from_keyring(account: str) -> str | None:
    """A key kept for `account` by the key source the program installed (a keyring)."""
    return host.keys().stored(account)


def _prompt(text: str) -> str | None:
    """A key typed in answer to `text`, if the program's key source can ask anyone."""
    return host.keys().ask(text)


def check_new_key(passphrase: str) -> None:
    if len(passphrase) < MIN_KEY_LENGTH:
        raise InvalidInput(
            f"the key is too short (fewer than {MIN_KEY_LENGTH} characters)",
            "use a long passphrase; nothing was changed",
        )


def raw_key(passphrase: str, salt: bytes) -> str:
    """SQLCipher's raw-key literal `x'<key><salt>'` (hex digits only) for `passphrase`."""
    derived = _derived.get((passphrase, salt))
    if derived is None:
        digest = hashlib.pbkdf2_hmac(
            "sha512", passphrase.encode("utf-8", "surrogateescape"), salt, KDF_ITERATIONS
        )
        derived = _derived[(passphrase, salt)] = digest[:KEY_BYTES].hex()
    return f"x'{derived}{salt.hex()}'"


# --------------------------------------------------------------------------------------
# Connections
# --------------------------------------------------------------------------------------


def _apply_key(connection: Any, key: str, path: Path) -> None:
    """Key a fresh SQLCipher connection and prove the key opens the file."""
    driver = _driver()
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")  # no SQLCipher noise on stderr
        connection.execute(f'PRAGMA key = "{key}"')
        connection.execute("PRAGMA temp_store = MEMORY")  # no plaintext in temp files
    except driver.Error:
        connection.close()
        raise StorageError("SQLCipher refused the key", "nothing was changed") from None
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except driver.DatabaseError as error:
        connection.close()
        if sqlite_code(error) == sqlite3.SQLITE_NOTADB:
            raise wrong_key_error(path) from None
        raise


class _Key:
    """The key of one encrypted file: remembered once it has opened the file."""

    def __init__(self, path: Path, passphrase: str | None = None) -> None:
        salt = _salt_of(path)
        if salt is None:
            raise encrypted_error(path)
        if not available():
            raise StorageError(
                f"{path} is not a SQLite file: if it is an encrypted database, SQLCipher "
                "is needed to open it",
                f"{EXTRA}; the file was left untouched",
            )
        if passphrase is None:
            passphrase = key_for(path, salt)
        if passphrase is None:
            raise encrypted_error(path)
        self.path, self.salt, self.passphrase = path, salt, passphrase
        self.raw = raw_key(passphrase, salt)

    def apply(self, connection: Any) -> None:
        _apply_key(connection, self.raw, self.path)
        _opened[self.salt] = self.passphrase


def connect(
    path: Path,
    *,
    read_only: bool = False,
    timeout: float = 5.0,
    isolation_level: Literal["DEFERRED", "IMMEDIATE", "EXCLUSIVE"] | None = "DEFERRED",
    passphrase: str | None = None,
    sqlcipher: bool = False,
    immutable: bool = False,
) -> sqlite3.Connection:
    """A DB-API connection to an existing file: the standard library's for plain SQLite,
    SQLCipher's (keyed and checked) for an encrypted file. Both speak the same DB-API;
    catch `errors(...)` around it. The file is never created (`mode=rw` / `mode=ro`).
    `passphrase` overrides the key sources (`key_for`); `sqlcipher` opens a plain file with
    SQLCipher's driver too (unkeyed), for `export` from it."""
    uri = sqlite_uri(path, read_only=read_only, immutable=immutable)
    if not looks_encrypted(path):
        if sqlcipher:
            plain = _driver().connect(
                uri, uri=True, timeout=timeout, isolation_level=isolation_level
            )
            return cast(sqlite3.Connection, plain)
        return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=isolation_level)
    key = _Key(path, passphrase)
    connection = _driver().connect(uri, uri=True, timeout=timeout, isolation_level=isolation_level)
    key.apply(connection)
    return cast(sqlite3.Connection, connection)


def passphrase_of(path: Path) -> str:
    """The passphrase of the encrypted file at `path` (checked: it opens the file)."""
    key = _Key(path)
    connect(path, read_only=True, passphrase=key.passphrase).close()
    return key.passphrase


def engine_options(path: Path, uri: str, timeout: float) -> dict[str, Any]:
    """For `make_engine`: `creator` and `module` of an encrypted file; {} for a plain one."""
    if not looks_encrypted(path):
        return {}
    key = _Key(path)
    driver = _driver()

    def creator() -> Any:
        connection = driver.connect(
            uri, uri=True, timeout=timeout, check_same_thread=CHECK_SAME_THREAD
        )
        key.apply(connection)
        return connection

    return {"creator": creator, "module": driver}


def unlock(path: Path) -> set[str]:
    """Check, read-only, that the key opens the encrypted file; its table names (empty
    when SQLite could not read them: the engine then reports it in the usual words)."""
    try:
        connection = connect(path, read_only=True, timeout=1)
    except errors():
        return set()
    try:
        return {str(name) for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    except errors():
        return set()
    finally:
        connection.close()


# --------------------------------------------------------------------------------------
# Converting a whole file
# --------------------------------------------------------------------------------------


def table_counts(connection: sqlite3.Connection, schema: str = "main") -> dict[str, int]:
    """Rows in each table of `schema` (a trusted name: main or our own alias)."""
    names = [
        str(name)
        for (name,) in connection.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    counts: dict[str, int] = {}
    for name in names:
        quoted = name.replace('"', '""')
        (count,) = connection.execute(f'SELECT count(*) FROM {schema}."{quoted}"').fetchone()
        counts[name] = int(count)
    return counts


def export(
    source: sqlite3.Connection,
    target: Path,
    *,
    encrypt: bool,
    passphrase: str,
    on_copy: Callable[[sqlite3.Connection], None] | None = None,
) -> None:
    """Write the whole database of `source` into the new file `target` with
    `sqlcipher_export`: encrypted with `passphrase` (`encrypt`), or in plain SQLite (the
    source encrypted with it). `source` is a SQLCipher connection (`connect(...,
    sqlcipher=True)`), keyed when its file is encrypted, outside a transaction; it is
    only read, and nothing beside its file is touched (its `-wal`/`-shm` belong to every
    connection that uses it). `target` must be empty; it is left in WAL mode."""
    target_key = raw_key(passphrase, os.urandom(SALT_BYTES)) if encrypt else ""
    # The key is a bound parameter: it never appears in SQL text.
    source.execute("ATTACH DATABASE ? AS converted KEY ?", (str(target), target_key))
    try:
        source.execute("SELECT sqlcipher_export('converted')")
    finally:
        source.execute("DETACH DATABASE converted")
    converted = connect(target, isolation_level=None, passphrase=passphrase)
    try:
        converted.execute("PRAGMA journal_mode = WAL")
        if on_copy is not None:
            on_copy(converted)
    finally:
        converted.close()
