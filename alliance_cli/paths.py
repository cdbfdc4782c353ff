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
    """The URL of the file `path`, which `parse_sqlite_url` turns back into `path`: a
    name with `?` (which would start the URL's query) is written in the escaped
    `file:` form."""
    if "?" in str(path):
        from urllib.parse import quote

        return f"sqlite:///file:{quote(str(path), safe='/')}?uri=true"
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


def ensure_data_dir(path: Path) -> None:
    """Create alliance's data directory `path` (0700) for a database about to be created.

    Missing directories are created only below an existing anchor: the home directory
    when `path` is inside it (so `~/.local/share` may be made, as XDG asks), else the
    parent of `XDG_DATA_HOME`. A home directory that does not exist (`HOME=/nonexistent`
    of a service account) is never created: that is an error naming the path, exit 4.
    """
    from alliance_cli.errors import StorageError

    home = Path(os.path.expanduser("~"))
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    if path != home and path.is_relative_to(home):
        anchor = home
    elif xdg and path.is_relative_to(xdg):
        anchor = Path(xdg).parent
    else:
        anchor = path.parent
    hint = "create it, or point --db / ALLIANCE_DB at a database file"
    if not anchor.is_dir():
        raise StorageError(
            f"cannot create the data directory {path}: {anchor} does not exist", hint
        )
    try:
        ensure_private_dir(path)
    except OSError as error:
        raise StorageError(
            f"cannot create the data directory {path}: {error.strerror}",
            "check the permissions of the directories above it, or point --db / "
            "ALLIANCE_DB at a database file",
        ) from None


def create_private_file(path: Path) -> bool:
    """Create an empty file with mode 0600 unless it exists; True if created."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    return True


# Temp files: `.NAME.alliance-PID-START-RANDOM.tmp` (START: when process PID started, in
# clock ticks since boot, where the system says; else 0), and SQLite's side files of
# them. An unfinished file never has its final name, and one left by a killed process
# (its PID gone, or now another process) is removed by the next command that uses the
# directory (`clean_stale_temps`).
TEMP_MARK = "alliance"
_TEMP_NAME = (  # TEMP_MARK, then PID, START, mkstemp's random part
    r"^\..*\.alliance-(?P<pid>[0-9]{1,10})-(?P<start>[0-9]{1,20})-[A-Za-z0-9_]+"
    r"\.tmp(?:-journal|-wal|-shm)?$"
)
_SIDE_OF_TEMP = ("-journal", "-wal", "-shm")


def _process_start(pid: int) -> int | None:
    """When process `pid` started (clock ticks since boot, Linux /proc); None if unknown.
    Unlike a time of day, it cannot move: it tells a reused PID from the original."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rpartition(b")")[2].split()
        return int(fields[19])  # field 22, starttime, counted from field 3
    except (OSError, ValueError, IndexError):
        return None


def _temp_owner_alive(pid: int, start: int) -> bool:
    """True unless the process that named a temp file certainly exists no more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # another user's process, or a number we cannot ask about: keep it
    now = _process_start(pid) if start else None
    return now is None or now == start


def create_private_temp(directory: Path, name: str) -> Path:
    """A new, empty 0600 temp file in `directory` for what will become `name` (a unique
    name, created with O_EXCL: an existing file of any name is never touched).

    Raises OSError (FileNotFoundError for a missing directory, PermissionError...).
    """
    import tempfile

    pid = os.getpid()
    start = _process_start(pid) or 0
    prefix = f".{name[:100]}.{TEMP_MARK}-{pid}-{start}-"
    fd, raw = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=directory)
    os.close(fd)
    return Path(raw)


def remove_temp(temp: Path) -> None:
    """Remove a temp file and SQLite's side files of it, quietly."""
    for path in (temp, *(temp.with_name(temp.name + side) for side in _SIDE_OF_TEMP)):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def clean_stale_temps(directory: Path) -> list[Path]:
    """Remove the temp files (`create_private_temp`) that alliance processes killed
    mid-way left in `directory`, and return them. Only regular files of this user named
    by that pattern are removed, and only when the process named in them is gone (its
    PID is free, or now belongs to a process that started at another time)."""
    import re
    import stat

    pattern = re.compile(_TEMP_NAME)
    uid = os.getuid() if hasattr(os, "getuid") else None
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match is None or int(match["pid"]) == os.getpid():
            continue
        try:
            status = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode) or (uid is not None and status.st_uid != uid):
            continue
        if _temp_owner_alive(int(match["pid"]), int(match["start"])):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def place_new(temp: Path, target: Path) -> None:
    """Give the finished `temp` the name `target`, never replacing anything there (a
    dangling symlink included): FileExistsError. `temp` is gone afterwards."""
    try:
        os.link(temp, target)  # atomic, and fails if anything has that name
    except FileExistsError:
        raise
    except OSError:  # a filesystem without hard links
        if target.exists() or target.is_symlink():
            raise FileExistsError(target) from None
        os.replace(temp, target)
        return
    os.unlink(temp)


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable, where the platform can."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_private_file(path: Path, text: str, *, force: bool = False) -> None:
    """Write `text` to `path` atomically (a unique 0600 temp file + rename); never
    silently replace anything, a dangling symlink included.

    Raises FileExistsError when `path` exists and `force` is false.
    """
    if not force and (path.exists() or path.is_symlink()):
        raise FileExistsError(path)
    clean_stale_temps(path.parent)
    temp = create_private_temp(path.parent, path.name)
    try:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if force:
            os.replace(temp, path)
        else:
            place_new(temp, path)
    finally:
        remove_temp(temp)
    fsync_directory(path.parent)
