"""`alliance doctor`: is the database healthy, private, current and on a local disk?"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from alliance_cli.errors import AllianceError
from alliance_cli.paths import DatabaseLocation, sqlite_uri
from alliance_cli.services.maintenance.sqlite_files import (
    header,
    side_files,
    sqlite_file,
    storage_error,
)
from alliance_cli.store import cipher
from alliance_cli.store.db_errors import Problem, problem_of
from alliance_cli.store.engine import (
    BUSY_TIMEOUT_SECONDS,
    SQLITE_MAGIC,
    database_missing,
    has_wal_content,
)
from alliance_cli.store.schema import SCHEMA_HEAD

PROC_MOUNTS = Path("/proc/mounts")

# Filesystems on which SQLite's file locks (and WAL's shared memory) cannot be trusted.
NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb3",
        "smbfs",
        "sshfs",
        "fuse.sshfs",
        "9p",
        "afs",
        "ceph",
        "fuse.ceph",
        "glusterfs",
        "fuse.glusterfs",
        "davfs",
        "fuse.rclone",
    }
)


@dataclass(frozen=True)
class Check:
    """One `alliance doctor` finding."""

    check: str
    ok: bool
    detail: str
    advice: str | None = None


@dataclass(frozen=True)
class Mount:
    point: PurePosixPath
    fstype: str
    source: str


RESTORE_ADVICE = "restore the last good backup (`alliance restore FILE`)"
_OCTAL_ESCAPE = re.compile(r"\\([0-7]{3})")


def parse_mounts(text: str) -> list[Mount]:
    """The entries of a /proc/mounts text (spaces in paths are escaped as `\\040`)."""
    mounts: list[Mount] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        source, point, fstype = fields[:3]
        unescaped = _OCTAL_ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), point)
        mounts.append(Mount(PurePosixPath(unescaped), fstype, source))
    return mounts


def mount_of(path: PurePosixPath, mounts: Sequence[Mount]) -> Mount | None:
    """The mount holding `path`: the longest matching mount point (the last one wins)."""
    best: Mount | None = None
    for mount in mounts:
        if (path == mount.point or mount.point in path.parents) and (
            best is None or len(mount.point.parts) >= len(best.point.parts)
        ):
            best = mount
    return best


def is_network_filesystem(fstype: str) -> bool:
    return fstype.lower() in NETWORK_FILESYSTEMS


def network_mount(path: PurePosixPath, mounts_text: str) -> Mount | None:
    """The network mount `path` lives on, or None when it is local (pure: for tests)."""
    mount = mount_of(path, parse_mounts(mounts_text))
    return mount if mount is not None and is_network_filesystem(mount.fstype) else None


def _filesystem_check(path: Path) -> Check:
    name = "filesystem"
    try:
        text = PROC_MOUNTS.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return Check(name, True, "cannot tell (no /proc/mounts on this system)")
    real = PurePosixPath(os.path.realpath(path if path.exists() else path.parent))
    mount = mount_of(real, parse_mounts(text))
    if mount is None:
        return Check(name, True, "cannot tell (no mount found for the database's directory)")
    if is_network_filesystem(mount.fstype):
        return Check(
            name,
            False,
            f"the database is on a network filesystem ({mount.fstype} at {mount.point})",
            "SQLite's locking is unreliable there and data can be lost: move the database "
            "to a local disk (and point --db / ALLIANCE_DB at it)",
        )
    return Check(name, True, f"local ({mount.fstype} at {mount.point})")


def _mode_text(mode: int) -> str:
    return f"{mode:04o}"


def _file_mode_check(path: Path) -> Check:
    name = "file mode"
    files = [path, *(side for side in side_files(path) if side.exists())]
    bad: list[str] = []
    seen: list[str] = []
    for file in files:
        mode = stat.S_IMODE(file.stat().st_mode)
        seen.append(f"{file.name} {_mode_text(mode)}")
        if mode & 0o077 or mode & 0o600 != 0o600:
            bad.append(f"{file.name} is {_mode_text(mode)}")
    if bad:
        quoted = " ".join(f"'{file}'" for file in files)
        return Check(
            name,
            False,
            "; ".join(bad) + " (should be 0600: read and write for you only)",
            f"chmod 600 {quoted}",
        )
    return Check(name, True, ", ".join(seen))


def _directory_mode_check(directory: Path) -> Check:
    name = "directory mode"
    try:
        mode = stat.S_IMODE(directory.stat().st_mode)
    except OSError as error:
        return Check(name, False, f"cannot read {directory}: {error.strerror}")
    if mode & 0o077:
        return Check(
            name,
            False,
            f"{directory} is {_mode_text(mode)}: other users can list or enter it",
            f"chmod 700 '{directory}'",
        )
    return Check(name, True, f"{directory} {_mode_text(mode)}")


def _schema_check(revision: str | None, tables: set[str]) -> Check:
    name = "schema"
    if revision is None:
        if not tables:
            return Check(
                name,
                False,
                "the database is empty (no schema yet)",
                "the first command that stores data (e.g. `alliance patient add CODE`) creates it",
            )
        return Check(
            name,
            False,
            "the database holds tables that alliance did not create",
            "point --db at an alliance database",
        )
    if revision == SCHEMA_HEAD:
        return Check(name, True, f"{revision} (current)")
    from alliance_cli.store.migrate import known_revisions

    if revision in known_revisions():
        return Check(
            name,
            False,
            f"{revision}, older than {SCHEMA_HEAD}",
            "run any alliance command (e.g. `alliance where`): it upgrades the schema "
            "after a backup",
        )
    return Check(
        name,
        False,
        f"{revision}, newer than this alliance understands ({SCHEMA_HEAD})",
        "upgrade alliance (pip install -U alliance-cli)",
    )


def _journal_check(mode: str) -> Check:
    if mode == "wal":
        return Check("journal mode", True, "wal")
    return Check(
        "journal mode",
        False,
        f"{mode} instead of wal",
        "run any alliance command: it switches the database to WAL",
    )


def _foreign_key_check(broken: Sequence[tuple[object, ...]]) -> Check:
    if not broken:
        return Check("foreign keys", True, "every link points at a record")
    tables = sorted({str(row[0]) for row in broken})
    return Check(
        "foreign keys",
        False,
        f"{len(broken)} row(s) point at records that do not exist (in {', '.join(tables)})",
        RESTORE_ADVICE,
    )


def _database_checks(path: Path) -> list[Check]:
    """The checks that need SQLite: integrity, schema, journal mode, foreign keys.

    Restoring a backup is advised only where SQLite says the file is damaged; a file it
    cannot use for another reason (a directory the user may not write, a lock) gets the
    advice for that reason (`_unusable`), since restoring would not help and loses work.
    """
    writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
    if not writable and not cipher.looks_encrypted(path) and not has_wal_content(path):
        return _checks_without_writing(path)
    try:
        # mode=rw never creates the file; closing removes the -wal/-shm it had to open
        connection = cipher.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
    except AllianceError as error:  # encrypted: no key, wrong key, no SQLCipher
        return [Check("encryption", False, error.message, error.hint)]
    except cipher.errors() as error:
        return _unusable(path, error)
    checks: list[Check] = []
    try:
        _checks_on(connection, checks)
    except cipher.errors() as error:
        checks += _unusable(path, error)
    finally:
        connection.close()
    return checks


def _checks_without_writing(path: Path) -> list[Check]:
    """A file or directory this user may not write: read the file as it is on disk
    (immutable), so no -wal/-shm files are left behind with the file's read-only mode,
    and say why alliance cannot open a database in a directory it may not write."""
    checks = [] if os.access(path.parent, os.W_OK) else [_directory_blocked(path)]
    try:
        uri = sqlite_uri(path, read_only=True, immutable=True)
        with closing(sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)) as copy:
            _checks_on(copy, checks, journal=_header_journal_mode(path))
    except sqlite3.Error as error:
        checks += [check for check in _unusable(path, error) if check.check != "access"]
    return checks


def _checks_on(connection: sqlite3.Connection, checks: list[Check], journal: str = "") -> None:
    """Append each finding as it is made (`journal`: the mode, when PRAGMA cannot tell)."""
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    problems = [str(row[0]) for row in rows]
    if problems != ["ok"]:
        checks.append(
            Check(
                "integrity",
                False,
                f"SQLite's integrity check found {len(problems)} problem(s)",
                RESTORE_ADVICE,
            )
        )
        return
    checks.append(Check("integrity", True, "ok"))
    tables = {
        str(row[0])
        for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    revision = None
    if "alembic_version" in tables:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = None if row is None else str(row[0])
    checks.append(_schema_check(revision, tables))
    mode = journal or str(connection.execute("PRAGMA journal_mode").fetchone()[0])
    checks.append(_journal_check(mode.lower()))
    checks.append(_foreign_key_check(connection.execute("PRAGMA foreign_key_check").fetchall()))


def _damaged(error: Exception) -> bool:
    """SQLite's own verdict that the file is damaged (or not a database at all)."""
    return problem_of(error) is Problem.DAMAGED


def _unusable(path: Path, error: Exception) -> list[Check]:
    """Why SQLite could not check the file, and the advice that fits that reason."""
    if _damaged(error):
        return [Check("integrity", False, "SQLite reports the file as damaged", RESTORE_ADVICE)]
    if not os.access(path.parent, os.W_OK):
        return [_directory_blocked(path)]
    reason = storage_error(error)
    return [Check("database", False, reason.message, reason.hint)]


def _directory_blocked(path: Path) -> Check:
    # SQLite keeps a WAL database's -wal and -shm files beside it: it cannot even read
    # the file where it may not create them.
    return Check(
        "access",
        False,
        f"{path.parent} is not writable for you: SQLite cannot create the database's "
        "-wal and -shm files there, so alliance cannot open it",
        f"chmod u+w '{path.parent}' (or move the database to a directory you can write)",
    )


def _header_journal_mode(path: Path) -> str:
    """WAL or not, from the file header (bytes 18-19 are 2 in WAL mode): an immutable
    connection reports `delete` whatever the file is."""
    try:
        with path.open("rb") as handle:
            head = handle.read(20)
    except OSError:
        return "unknown"
    return "wal" if head[18:19] == b"\x02" else "delete"


def _file_checks(path: Path) -> list[Check]:
    """The database file itself (it exists: see `doctor`): a SQLite file, sound, private."""
    if not path.is_file():
        return [Check("database", False, f"{path} is not a file", "check --db")]
    try:
        head = header(path)
    except OSError as error:
        return [
            Check("database", False, f"cannot read {path}: {error.strerror}", "check its owner"),
            _file_mode_check(path),
        ]
    encrypted = bool(head) and head != SQLITE_MAGIC and cipher.looks_encrypted(path)
    if head and head != SQLITE_MAGIC and not encrypted:
        return [Check("database", False, f"{path} is not a SQLite file", "check --db")]
    return [
        Check("database", True, f"{path} (encrypted with SQLCipher)" if encrypted else str(path)),
        *_database_checks(path),
        _file_mode_check(path),
    ]


def doctor(location: DatabaseLocation) -> list[Check]:
    """Every health check of the database (file); nothing is created or changed."""
    if location.is_postgresql:
        from alliance_cli.services.maintenance.pg_doctor import pg_doctor

        return pg_doctor(location)
    path = sqlite_file(location, "doctor")
    if not path.exists():  # nothing to check: an error (exit 4), never a list of findings
        raise database_missing(location)
    return [
        *_file_checks(path),
        _directory_mode_check(path.parent),
        _filesystem_check(path),
    ]
