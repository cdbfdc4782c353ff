"""Where alliance keeps its files, and how `--db` / `ALLIANCE_DB` are understood.

Kept free of SQLAlchemy so `alliance where` and shell completion stay cheap.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "alliance"
DB_ENV = "ALLIANCE_DB"
DB_FILENAME = "alliance.db"
DEMO_FILENAME = "demo.db"

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


@dataclass(frozen=True)
class DatabaseLocation:
    """A database the user pointed at: a SQLAlchemy URL and, for SQLite, its file."""

    url: str
    path: Path | None  # the SQLite file, or None for a server database / in-memory
    source: str  # "--db", "ALLIANCE_DB" or "default"
    is_default: bool
    read_only_url: bool = False  # `?mode=ro` in a sqlite URL

    def read_only(self) -> bool:
        """True when alliance must not write: `?mode=ro`, or a file we may not write."""
        if self.read_only_url:
            return True
        return self.path is not None and self.path.exists() and not os.access(self.path, os.W_OK)

    @property
    def is_postgresql(self) -> bool:
        return self.url.startswith("postgresql")

    def display(self) -> str:
        """The location as shown to users: the file path, or the URL without password."""
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url)


CONFIG_ENV = "ALLIANCE_CONFIG"
CONFIG_FILENAME = "config.toml"


def config_file() -> Path:
    """`ALLIANCE_CONFIG`, else `config.toml` in the per-user config directory."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / CONFIG_FILENAME


def data_dir() -> Path:
    """The per-user data directory (honours XDG_DATA_HOME on Linux)."""
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


def default_db_path() -> Path:
    return data_dir() / DB_FILENAME


def default_demo_path() -> Path:
    return data_dir() / DEMO_FILENAME


def is_url(value: str) -> bool:
    return "://" in value


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class UnsupportedUrl(ValueError):
    """A `sqlite://` URL with options alliance does not understand."""


@dataclass(frozen=True)
class SqliteTarget:
    """What a `sqlite:` URL points at: a file (None: in memory) and whether read-only."""

    path: Path | None
    read_only: bool = False


SQLITE_MODES = {"ro": True, "rw": False, "rwc": False}


def parse_sqlite_url(url: str) -> SqliteTarget | None:
    """Understand `sqlite:///PATH`, `sqlite:////abs/PATH` and SQLAlchemy's URI form
    `sqlite:///file:PATH?mode=ro&uri=true`; None for other databases.

    The query string is never part of the file name: `?mode=ro` makes the file read-only,
    `uri=true` is accepted, anything else raises UnsupportedUrl.
    """
    from urllib.parse import parse_qsl, unquote

    prefix, sep, rest = url.partition("://")
    if not sep or not prefix.startswith("sqlite"):
        return None
    if rest in ("", "/") or not rest.startswith("/"):
        return SqliteTarget(None) if rest in ("", "/") else _unsupported(url)
    rest, _, query = rest[1:].partition("?")
    read_only = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "mode" and value in SQLITE_MODES:
            read_only = SQLITE_MODES[value]
        elif key == "uri" and value.lower() in ("true", "1"):
            continue
        else:
            _unsupported(url)
    if rest.startswith("file:"):
        rest = unquote(rest.removeprefix("file:"))
    if rest in ("", ":memory:"):
        return SqliteTarget(None)
    return SqliteTarget(Path(rest), read_only)


def _unsupported(url: str) -> SqliteTarget:
    raise UnsupportedUrl(redact_url(url))


def sqlite_path_from_url(url: str) -> Path | None:
    """The file behind a `sqlite:///...` URL, or None (server database, memory)."""
    try:
        target = parse_sqlite_url(url)
    except UnsupportedUrl:
        return None
    return target.path if target is not None else None


def sqlite_uri(path: Path, *, read_only: bool = False, immutable: bool = False) -> str:
    """The `file:` URI that sqlite3 opens for `path` (`?` and `#` in names escaped).

    Never `mode=rwc`: alliance creates database files itself (0600) before opening them.
    """
    from urllib.parse import quote

    uri = f"file:{quote(str(path.absolute()), safe='/')}?mode={'ro' if read_only else 'rw'}"
    return uri + "&immutable=1" if immutable else uri


def redact_url(url: str) -> str:
    """Hide a password in `scheme://user:password@host/db`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def resolve_database(option: str | None) -> DatabaseLocation:
    """`--db`, then `ALLIANCE_DB`, then `alliance.db` in the user data directory."""
    for source, value in (("--db", option), (DB_ENV, os.environ.get(DB_ENV))):
        if value:
            if is_url(value):
                try:
                    target = parse_sqlite_url(value)
                except UnsupportedUrl:
                    target = None  # opening it reports the problem
                if target is None:
                    return DatabaseLocation(value, None, source, False)
                return DatabaseLocation(value, target.path, source, False, target.read_only)
            path = Path(value).expanduser().absolute()
            return DatabaseLocation(sqlite_url(path), path, source, False)
    path = default_db_path()
    return DatabaseLocation(sqlite_url(path), path, "default", True)


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) readable by the owner only."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)


def create_private_file(path: Path) -> bool:
    """Create an empty file with mode 0600 unless it exists; True if created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


def write_private_file(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to `path` atomically (temp file 0600 + rename); never silently replace.

    Raises FileExistsError when `path` exists and `force` is false.
    """
    if path.exists() and not force:
        raise FileExistsError(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise
