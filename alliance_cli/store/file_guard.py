"""Checks on a database file before SQLite opens it: what it is, and who may read it.

SQLite opens whatever the path names: a named pipe blocks the command forever (opening
a FIFO waits for a writer), and a device or socket gets journal files created beside
it (`/dev/null-journal`, as root). So anything but a regular file, once symlinks are
resolved, is refused here, and the first bytes are read through a descriptor that is
checked again (O_NONBLOCK: a FIFO swapped in meanwhile cannot block the open).

SQLite gives a database's `-wal`/`-shm`/`-journal` the database's own mode, whatever
the umask: a database left readable by others (0644, by a copy or an older tool) would
spread its content to new side files too. Its owner's commands make it 0600 again, and
say so once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from alliance_cli.errors import StorageError

SIDE_FILES = ("-wal", "-shm", "-journal")
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_a_file(path: Path, mode: int) -> StorageError | None:
    """The error for a `path` whose (resolved) mode is not a regular file, else None."""
    if stat.S_ISREG(mode):
        return None
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return StorageError(f"{path} is {kind}, not a database file", "point --db at a database file")


def require_regular_file(path: Path) -> None:
    """Refuse a `path` that exists and is not a regular file (symlinks followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing or unreadable: the caller reports it in its own words
    problem = not_a_file(path, mode)
    if problem is not None:
        raise problem


def read_head(path: Path, size: int) -> bytes:
    """The first `size` bytes of the regular file `path` (OSError if it cannot be read;
    StorageError if it turned out not to be a regular file)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        problem = not_a_file(path, os.fstat(fd).st_mode)
        if problem is not None:
            raise problem
        return os.read(fd, size)
    finally:
        os.close(fd)


def tighten(path: Path, *, may_change: bool) -> None:
    """Make the database `path` and its side files private (0600-style: no group or
    other bits) when this user owns them, saying so once on stderr; when they cannot be
    changed (or `may_change` is false: a read-only URL), warn instead."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    loose: list[tuple[Path, int]] = []
    for candidate in (path, *(path.with_name(path.name + side) for side in SIDE_FILES)):
        try:
            status = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISREG(status.st_mode) or uid is None or status.st_uid != uid:
            continue
        if status.st_mode & 0o077:
            loose.append((candidate, stat.S_IMODE(status.st_mode)))
    if not loose:
        return
    from alliance_cli.store.host import notice as message

    first, mode = loose[0]
    fix = f"run: chmod 600 {first}"
    if not may_change:
        message(f"warning: {first} is readable by others (mode {mode:04o}); {fix}")
        return
    try:
        for candidate, old in loose:
            os.chmod(candidate, old & 0o700)
    except OSError as error:
        message(
            f"warning: {first} is readable by others (mode {mode:04o}) and could not be "
            f"made private ({error.strerror}); {fix}"
        )
        return
    message(
        f"note: {first} was readable by others (mode {mode:04o}); "
        f"made it private ({mode & 0o700:04o})"
    )
