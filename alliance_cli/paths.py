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

    def display(self) -> str:
        """The location as shown to users: the file path, or the URL without password."""
        if self.path is not None:
            return str(self.path)
        return redact_url(self.url)


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


def sqlite_path_from_url(url: str) -> Path | None:
    """The file behind a `sqlite:///...` URL, or None (server database, memory)."""
    prefix, sep, rest = url.partition(":///")
    if not sep or not prefix.startswith("sqlite"):
        return None
    rest = rest.split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest)


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
                return DatabaseLocation(value, sqlite_path_from_url(value), source, False)
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
