"""`alliance backup`, `restore` and `doctor` on real SQLite files.

Copies are made by SQLite (VACUUM INTO), are private (0600), never replace a file
silently, and a refused restore leaves the database exactly as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path, PurePosixPath

import pytest

from alliance_cli.paths import resolve_database
from alliance_cli.store.schema import SCHEMA_HEAD
from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOTS = 5  # copies taken while another process writes


# Another process writing in WAL mode until the file argv[2] exists: each transaction adds
# the two halves of tick n. It prints how many ticks it wrote.
WRITER = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
conn.execute("PRAGMA journal_mode = WAL")
n = 0
while not os.path.exists(sys.argv[2]):
    n += 1
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO tick (n, half) VALUES (?, 0)", (n,))
    conn.execute("INSERT INTO tick (n, half) VALUES (?, 1)", (n,))
    conn.execute("COMMIT")
conn.close()
print(n)
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_alliance(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alliance_cli", "--db", str(db), *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def integrity(path: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchall()


def tick_count(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM tick").fetchone()[0])


def wait_for(happened: Callable[[], bool], what: str, seconds: float = 120) -> None:
    """Wait until `happened()`; the time limit is only a safety net against a hang."""
    deadline = time.monotonic() + seconds
    while not happened():
        assert time.monotonic() < deadline, f"{what} (waited {seconds:g} s)"
        time.sleep(0.01)


def add_session(cli: Cli, day: str, value: str) -> None:
    cli.ok(
        "session", "add", "P014", "--date", day, "--bond", value, "--goal", value, "--task", value
    )


def corrupt_copy(good: Path, bad: Path) -> None:
    """Keep the header and schema page, overwrite the pages holding the tables."""
    data = bytearray(good.read_bytes())
    data[3 * 4096 : 7 * 4096] = b"\x55" * (4 * 4096)
    bad.write_bytes(bytes(data))


# ------------------------------------------------------------------------------- backup


def test_backup_is_a_private_copy_equal_to_the_database(p014: Cli) -> None:
    result = p014.ok("backup")
    target = Path(result.stdout.strip())
    assert target.parent == p014.db_path.parent
    assert re.fullmatch(r"alliance\.backup-\d{8}-\d{6}\.db", target.name), target.name
    assert mode(target) == 0o600
    assert integrity(target) == [("ok",)]
    assert Cli(target).dump() == p014.dump()
    assert Cli(target).rows("session_rating") == p014.rows("session_rating")
    assert "Backed up" in result.stderr
    # no temp file left behind
    assert not [name for name in listing(target.parent) if name.endswith(".tmp")]


def test_two_default_backups_in_the_same_second_get_different_names(p014: Cli) -> None:
    first = Path(p014.ok("backup").stdout.strip())
    second = Path(p014.ok("backup").stdout.strip())
    assert first != second
    assert first.exists() and second.exists()


def test_backup_into_a_directory_uses_the_default_name(p014: Cli, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    vault.mkdir()
    target = Path(p014.ok("backup", str(vault)).stdout.strip())
    assert target.parent == vault
    assert target.name.startswith("alliance.backup-")
    assert Cli(target).dump() == p014.dump()


def test_backup_never_replaces_a_file_without_force(p014: Cli, tmp_path: Path) -> None:
    dest = tmp_path / "copy.db"
    dest.write_text("keep me\n")
    dest.chmod(0o644)
    result = p014("backup", str(dest))
    assert result.exit_code == 1
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert dest.read_text() == "keep me\n"
    assert listing(tmp_path).count("copy.db") == 1
    assert not [name for name in listing(tmp_path) if name.endswith(".tmp")]

    p014.ok("backup", str(dest), "--force")
    assert Cli(dest).dump() == p014.dump()
    assert mode(dest) == 0o600  # a new private file, not the old 0644 one rewritten


def test_a_file_appearing_during_the_backup_is_not_replaced(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_cli.services.maintenance import backup as service

    dest = tmp_path / "copy.db"
    original = service._vacuum_database_into

    def racing(location: object, target: Path, size: int) -> None:
        dest.write_text("written by someone else meanwhile\n")
        original(location, target, size)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "_vacuum_database_into", racing)
    result = p014("backup", str(dest))
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert dest.read_text() == "written by someone else meanwhile\n"
    assert listing(tmp_path) == sorted(["clinic", "copy.db", "home"])


def test_a_full_disk_while_the_backup_is_made_durable_writes_nothing(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing fsync is named (exit 1), not an internal error nor "the output"."""
    import errno

    from alliance_cli.services.maintenance import sqlite_files

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sqlite_files.os, "fsync", full)
    result = p014("backup", str(tmp_path / "copy.db"))
    assert result.exit_code == 1, result.stderr
    assert result.stderr == (
        f"error: cannot write in {tmp_path}: No space left on device (nothing was replaced)\n"
    )
    assert "copy.db" not in listing(tmp_path)
    assert not [name for name in listing(tmp_path) if name.endswith(".tmp")]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file-size limits")
def test_a_copy_that_cannot_be_written_is_the_destination_s_fault(
    p014: Cli, tmp_path: Path
) -> None:
    """SQLite fails writing the copy (here a file-size limit: EFBIG, as a full disk gives
    ENOSPC): at a DEST the user chose that is exit 1, next to the database exit 4; the
    message says where and why, and nothing is left behind."""
    import resource
    import signal

    limit = 48 * 1024  # above the WAL index (32 KiB), below the copy
    with closing(sqlite3.connect(p014.db_path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # reading writes nothing
    assert p014.db_path.stat().st_size > limit
    before = p014.dump()

    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "out"
    out.mkdir()
    for dest, code, where in ((out / "copy.db", 1, out), (None, 4, p014.db_path.parent)):
        beside = sorted(p.name for p in where.iterdir())
        result = subprocess.run(
            [sys.executable, "-m", "alliance_cli", "--db", str(p014.db_path), "backup"]
            + ([str(dest)] if dest else []),
            capture_output=True,
            text=True,
            preexec_fn=limited,
            check=False,
        )
        assert result.returncode == code, result.stderr
        assert result.stderr == (
            f"error: cannot write the copy in {where}: a write failed (check its free space "
            "and permissions, or choose another destination; nothing was written)\n"
        )
        assert sorted(p.name for p in where.iterdir()) == beside
    assert p014.dump() == before


def failed(code: int) -> sqlite3.OperationalError:
    """A driver error with SQLite's result code `code`, as the standard driver gives it."""
    error = sqlite3.OperationalError("x")
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("code", "fault"),
    [(13, "the disk is full"), (14, "cannot create it"), (778, "a write failed")],
)
def test_sqlite_codes_that_only_writing_the_copy_gives_are_the_copy_s_fault(
    tmp_path: Path, code: int, fault: str
) -> None:
    from alliance_cli.services.maintenance.backup import UnwritableCopy, _copy_error

    found = _copy_error(failed(code), tmp_path / "copy.db", 10)
    assert isinstance(found, UnwritableCopy) and found.message.endswith(fault)


@pytest.mark.parametrize("code", [8, 11, 266, 522, 5])  # read-only, corrupt, read errors, busy
def test_codes_of_the_database_side_are_the_database_s(tmp_path: Path, code: int) -> None:
    from alliance_cli.services.maintenance.backup import UnwritableCopy, _copy_error

    assert not isinstance(_copy_error(failed(code), tmp_path / "copy.db", 10), UnwritableCopy)
    assert not (tmp_path / "copy.db").exists()  # no probe: the code says which side


def test_a_bare_io_error_is_the_copy_s_only_when_writing_there_fails(tmp_path: Path) -> None:
    """SQLCipher's driver gives the bare I/O error code, which may be the database's
    (read) or the copy's (write): a probe of the copy's size tells; here it is written,
    so the database is blamed (exit 4)."""
    from alliance_cli.services.maintenance.backup import UnwritableCopy, _copy_error

    found = _copy_error(failed(10), tmp_path / "copy.db", 3 << 20)
    assert not isinstance(found, UnwritableCopy)
    assert (tmp_path / "copy.db").stat().st_size == 3 << 20  # the probe (removed by backup)


def test_a_read_only_database_can_be_backed_up(p014: Cli, tmp_path: Path) -> None:
    """Opened read-only (`mode=ro`), the database is still copied; it is not changed."""
    before = p014.dump()
    copy = tmp_path / "copy.db"
    url = f"sqlite:///{p014.db_path}?mode=ro"
    result = p014("--db", url, "backup", str(copy), db=False)
    assert result.exit_code == 0, result.stderr
    assert copy.exists() and p014.dump() == before
    with closing(sqlite3.connect(copy)) as connection:
        assert connection.execute("SELECT code FROM patient").fetchall() == [("P014",)]


def test_backup_refuses_to_overwrite_the_database_itself(p014: Cli) -> None:
    before = p014.dump()
    result = p014("backup", str(p014.db_path), "--force")
    assert result.exit_code == 1
    assert "database itself" in result.stderr
    assert p014.dump() == before


def test_backup_file_is_private_whatever_the_umask(p014: Cli, tmp_path: Path) -> None:
    from alliance_cli.services.maintenance.backup import backup_database

    old = os.umask(0o022)
    try:
        target = backup_database(resolve_database(str(p014.db_path)), tmp_path / "b.db")
    finally:
        os.umask(old)
    assert mode(target) == 0o600


def test_backup_without_a_database_creates_nothing(cli: Cli) -> None:
    cli.db_path.parent.mkdir(parents=True)
    result = cli("backup")
    assert result.exit_code == 4
    assert "there is no database" in result.stderr
    assert listing(cli.db_path.parent) == []


def test_maintenance_of_a_server_database_is_clear_and_hides_the_password(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """restore is for SQLite files; backup (pg_dump) and doctor on an unreachable server
    fail with one line. The password in the URL is never shown."""
    monkeypatch.chdir(tmp_path)
    url = "postgresql+psycopg://me:secret@db.invalid/alliance"
    restored = Cli(cli.db_path)("--db", url, "restore", "x.db", "--yes", db=False)
    assert restored.exit_code == 1
    assert "only on a SQLite database file" in restored.stderr
    for command in (["backup"], ["doctor"]):
        result = Cli(cli.db_path)("--db", url, *command, db=False)
        assert result.exit_code == 4, (command, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "secret" not in result.stderr + result.stdout
        assert "Traceback" not in result.stderr
    assert list(tmp_path.glob("alliance.backup-*")) == []


def test_backup_includes_commits_still_in_the_wal(p014: Cli, tmp_path: Path) -> None:
    """A byte copy of the database file would miss them; VACUUM INTO does not."""
    holder = sqlite3.connect(p014.db_path, isolation_level=None)
    try:
        holder.execute("PRAGMA wal_autocheckpoint = 0")
        holder.execute(
            "INSERT INTO patient (code, status, instrument, created) "
            "VALUES ('P099', 'active', 'quick', '2026-01-01 00:00:00')"
        )
        assert p014.db_path.with_name("alliance.db-wal").stat().st_size > 0
        p014.ok("backup", str(tmp_path / "b.db"))
    finally:
        holder.close()
    codes = [row[1] for row in Cli(tmp_path / "b.db").rows("patient")]
    assert codes == ["P014", "P099"]


def test_a_copy_failing_the_integrity_check_is_not_kept(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_cli.services.maintenance import backup as service

    seen: list[Path] = []

    def damaged(path: Path) -> list[str]:
        seen.append(path)
        return ["*** in database main ***"]

    monkeypatch.setattr(service, "file_integrity_problems", damaged)
    vault = tmp_path / "vault"
    vault.mkdir()
    result = p014("backup", str(vault / "b.db"))
    assert result.exit_code == 4
    assert "integrity check" in result.stderr
    assert seen and seen[0].parent == vault and seen[0] != vault / "b.db"  # the temp copy
    assert listing(vault) == []


def test_backup_while_another_process_writes_is_a_consistent_snapshot(
    p014: Cli, tmp_path: Path
) -> None:
    with closing(sqlite3.connect(p014.db_path)) as conn:
        conn.execute("CREATE TABLE tick (n INTEGER NOT NULL, half INTEGER NOT NULL)")
        conn.commit()
    stop = tmp_path / "stop-writing"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(p014.db_path), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    backups: list[Path] = []
    try:
        wait_for(lambda: tick_count(p014.db_path) > 0, "the writer never wrote")
        # the first copy from a separate `alliance backup` process, then in-process ones,
        # all while the writer goes on writing
        first = run_alliance(p014.db_path, "backup", str(tmp_path / "snap-0.db"))
        assert first.returncode == 0, first.stderr
        backups.append(Path(first.stdout.strip()))
        while len(backups) < SNAPSHOTS:
            assert writer.poll() is None, "the writer stopped before it was told to"
            dest = tmp_path / f"snap-{len(backups)}.db"
            p014.ok("backup", str(dest))
            backups.append(dest)
        # and the writer writes on after the copies, so that none of them saw its last tick
        copied = tick_count(backups[-1])
        wait_for(lambda: tick_count(p014.db_path) > copied, "the writer stopped writing")
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    written = int(out)

    counts = []
    for backup in backups:
        assert mode(backup) == 0o600
        assert integrity(backup) == [("ok",)], backup
        with closing(sqlite3.connect(backup)) as conn:
            ticks = conn.execute("SELECT n, half FROM tick ORDER BY n, half").fetchall()
        complete = len(ticks) // 2
        # every transaction wholly in or wholly out, and no gap: a committed prefix
        assert ticks == [(n, half) for n in range(1, complete + 1) for half in (0, 1)]
        assert Cli(backup).rows("patient") == p014.rows("patient")
        counts.append(complete)
    assert 0 < counts[0] < written  # the copies really were taken mid-write
    assert counts == sorted(counts)


# ------------------------------------------------------------------------------ restore


def test_restore_round_trip_brings_the_data_back(p014: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    p014.ok("backup", str(saved))
    original = p014.dump()

    add_session(p014, "2026-02-09", "3")
    p014.ok("patient", "add", "P015")
    changed = p014.dump()
    assert changed != original

    result = p014.ok("restore", str(saved), "--yes")
    assert p014.dump() == original
    assert mode(p014.db_path) == 0o600
    assert "Restored" in result.stderr

    # the database as it was before the restore was kept
    pre_restore = [
        p for p in p014.db_path.parent.iterdir() if re.fullmatch(r"alliance\.backup-.*\.db", p.name)
    ]
    assert len(pre_restore) == 1
    assert str(pre_restore[0]) in result.stderr
    assert Cli(pre_restore[0]).dump() == changed
    assert mode(pre_restore[0]) == 0o600

    # the restored database is usable and in WAL mode, with nothing stale beside it
    assert not p014.db_path.with_name("alliance.db-wal").exists()
    p014.ok("patient", "show", "P014")
    with closing(sqlite3.connect(p014.db_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    _private(p014)
    p014.ok("doctor")  # healthy: WAL, 0600, current schema


def test_restore_of_an_older_schema_is_upgraded_when_opened(p014: Cli, tmp_path: Path) -> None:
    old = tmp_path / "old" / "schema-0001.db"
    old.parent.mkdir()
    shutil.copy(FIXTURES / "schema-0001.db", old)
    result = p014.ok("restore", str(old), "--yes")
    assert "schema 0001" in result.stderr and "upgraded" in result.stderr
    assert listing(old.parent) == ["schema-0001.db"]  # the source was only read
    with closing(sqlite3.connect(p014.db_path)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    p014.ok("patient", "list", "--format", "json")
    with closing(sqlite3.connect(p014.db_path)) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (SCHEMA_HEAD,)


def test_restore_into_a_new_location(p014: Cli, tmp_path: Path) -> None:
    saved = Path(p014.ok("backup", str(tmp_path / "saved.db")).stdout.strip())
    fresh = Cli(tmp_path / "elsewhere" / "alliance.db")
    fresh.db_path.parent.mkdir()
    fresh.ok("restore", str(saved), "--yes")
    assert fresh.dump() == p014.dump()
    assert listing(fresh.db_path.parent) == ["alliance.db"]  # nothing to back up first


def _not_sqlite(path: Path, good: Path) -> None:
    path.write_text("just some notes\n" * 100)


def _corrupt(path: Path, good: Path) -> None:
    corrupt_copy(good, path)


def _no_alliance_schema(path: Path, good: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE shopping (item TEXT)")
        conn.commit()


def _unknown_revision(path: Path, good: Path) -> None:
    shutil.copy(good, path)
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()


def _empty(path: Path, good: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_not_sqlite, "not a SQLite database"),
        (_corrupt, "integrity check"),
        (_no_alliance_schema, "not an alliance database"),
        (_unknown_revision, "schema 9999"),
        (_empty, "not a SQLite database"),
    ],
    ids=["not-sqlite", "corrupt", "no-schema", "unknown-revision", "empty"],
)
def test_restore_refuses_a_bad_file_and_changes_nothing(
    p014: Cli, tmp_path: Path, make: object, expected: str
) -> None:
    good = tmp_path / "good.db"
    p014.ok("backup", str(good))
    bad = tmp_path / "bad.db"
    make(bad, good)  # type: ignore[operator]
    before, files = p014.dump(), listing(p014.db_path.parent)

    result = p014("restore", str(bad), "--yes")
    assert result.exit_code == 1, result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert p014.dump() == before
    assert listing(p014.db_path.parent) == files  # no backup made, no temp left


def test_restore_of_a_missing_file(p014: Cli, tmp_path: Path) -> None:
    before = p014.dump()
    result = p014("restore", str(tmp_path / "nope.db"), "--yes")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert p014.dump() == before


def test_restore_without_yes_off_a_terminal_refuses(p014: Cli, tmp_path: Path) -> None:
    saved = tmp_path / "saved.db"
    p014.ok("backup", str(saved))
    p014.ok("patient", "add", "P015")
    before, files = p014.dump(), listing(p014.db_path.parent)

    result = p014("restore", str(saved))
    assert result.exit_code == 1
    assert "--yes" in result.stderr
    # and in a real process whose stdin is not a terminal
    process = run_alliance(p014.db_path, "restore", str(saved))
    assert process.returncode == 1, process.stderr
    assert "--yes" in process.stderr and "Traceback" not in process.stderr
    assert p014.dump() == before
    assert listing(p014.db_path.parent) == files


def test_restore_refuses_while_another_connection_has_the_database_open(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alliance_cli.store.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 1)  # it waits that long, then refuses
    saved = tmp_path / "saved.db"
    p014.ok("backup", str(saved))
    p014.ok("patient", "add", "P015")
    before = p014.dump()
    other = sqlite3.connect(p014.db_path)
    try:
        other.execute("SELECT count(*) FROM patient").fetchall()
        result = p014("restore", str(saved), "--yes")
    finally:
        other.close()
    assert result.exit_code == 4, result.stderr
    assert "in use" in result.stderr
    assert p014.dump() == before


# ------------------------------------------------------------------------------- doctor


def _private(cli: Cli) -> None:
    cli.db_path.parent.chmod(0o700)


def test_doctor_on_a_healthy_database(p014: Cli) -> None:
    import json

    _private(p014)
    result = p014.ok("doctor")
    assert "PROBLEM" not in result.stdout
    for name in ("integrity", "file mode", "directory mode", "schema", "journal mode"):
        assert name in result.stdout
    checks = json.loads(p014.ok("doctor", "--format", "json").stdout)
    assert {check["check"] for check in checks} >= {
        "integrity",
        "file mode",
        "directory mode",
        "schema",
        "journal mode",
        "foreign keys",
        "filesystem",
    }
    assert all(check["ok"] for check in checks)
    assert all(set(check) == {"check", "ok", "detail", "advice"} for check in checks)


def test_doctor_finds_a_database_others_can_read(p014: Cli) -> None:
    import json

    _private(p014)
    p014.db_path.chmod(0o644)
    result = p014("doctor")
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "file mode" in line)
    assert line.startswith("PROBLEM") and "0644" in line
    assert "chmod 600" in result.stdout
    checks = json.loads(p014("doctor", "--format", "json").stdout)
    bad = [check for check in checks if not check["ok"]]
    assert [check["check"] for check in bad] == ["file mode"]


def test_doctor_finds_an_open_directory(p014: Cli) -> None:
    p014.db_path.parent.chmod(0o755)
    result = p014("doctor")
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "directory mode" in line)
    assert line.startswith("PROBLEM") and "0755" in line


def test_doctor_finds_a_damaged_database(p014: Cli, tmp_path: Path) -> None:
    _private(p014)
    good = tmp_path / "good.db"
    p014.ok("backup", str(good))
    corrupt_copy(good, p014.db_path)
    result = p014("doctor")
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "integrity" in line)
    assert line.startswith("PROBLEM")


def test_doctor_finds_broken_links_and_an_old_schema(cli: Cli) -> None:
    cli.db_path.parent.mkdir(mode=0o700)
    shutil.copy(FIXTURES / "schema-0001.db", cli.db_path)
    cli.db_path.chmod(0o600)
    with closing(sqlite3.connect(cli.db_path)) as conn:
        conn.execute(
            "INSERT INTO goal (patient_id, text, proposed_by, status, created) "
            "VALUES (999, 'orphan', 'joint', 'active', '2026-01-01')"
        )
        conn.commit()
    result = cli("doctor", "--format", "json")
    assert result.exit_code == 1
    import json

    bad = {check["check"]: check for check in json.loads(result.stdout) if not check["ok"]}
    assert set(bad) == {"schema", "foreign keys"}
    assert "older" in bad["schema"]["detail"]
    assert "goal" in bad["foreign keys"]["detail"]


def test_doctor_without_a_database_reports_it_and_creates_nothing(cli: Cli) -> None:
    """Nothing to check is an error (exit 4, one line), not a list of findings."""
    cli.db_path.parent.mkdir(mode=0o700)
    result = cli("doctor")
    assert result.exit_code == 4
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"there is no database at {cli.db_path}" in result.stderr
    assert listing(cli.db_path.parent) == []


def test_doctor_does_not_change_the_database(p014: Cli) -> None:
    before = p014.dump()
    header = p014.db_path.read_bytes()[:100]
    p014("doctor")
    assert p014.dump() == before
    assert p014.db_path.read_bytes()[:100] == header
    assert not p014.db_path.with_name("alliance.db-wal").exists()


def test_doctor_flags_a_network_filesystem(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alliance_cli.services.maintenance import doctor as service

    _private(p014)
    where = os.path.realpath(p014.db_path.parent).replace(" ", "\\040")
    mounts = tmp_path / "mounts"
    mounts.write_text(
        f"/dev/sda1 / ext4 rw,relatime 0 0\nfiler:/export/clinic {where} nfs4 rw,vers=4.2 0 0\n"
    )
    monkeypatch.setattr(service, "PROC_MOUNTS", mounts)
    result = p014("doctor")
    assert result.exit_code == 1
    line = next(line for line in result.stdout.splitlines() if "filesystem" in line)
    assert line.startswith("PROBLEM") and "nfs4" in line

    mounts.write_text("/dev/sda1 / ext4 rw,relatime 0 0\n")
    assert p014("doctor").exit_code == 0


# ---------------------------------------------------------------- /proc/mounts parsing

MOUNTS = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
filer:/export/home /home nfs4 rw,relatime,vers=4.2 0 0
/dev/sdb1 /home/ana/local ext4 rw,relatime 0 0
//nas/share /mnt/My\\040Share cifs rw,relatime 0 0
ana@box:/srv /mnt/box fuse.sshfs rw,nosuid,nodev 0 0
/dev/sdc1 /mnt/box ext4 rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "fstype"),
    [
        ("/home/ana/alliance.db", "nfs4"),
        ("/home", "nfs4"),
        ("/home/ana/local/alliance.db", "ext4"),  # a local disk mounted inside the share
        ("/home/ana/localx/alliance.db", "nfs4"),  # a prefix of the name is not a parent
        ("/mnt/My Share/alliance.db", "cifs"),  # \040 is a space
        ("/mnt/box/alliance.db", "ext4"),  # the later mount on the same point hides sshfs
        ("/var/lib/alliance.db", "ext4"),
        ("/tmp/alliance.db", "tmpfs"),
    ],
)
def test_the_mount_of_a_path_is_its_longest_mount_point(path: str, fstype: str) -> None:
    from alliance_cli.services.maintenance.doctor import mount_of, parse_mounts

    mount = mount_of(PurePosixPath(path), parse_mounts(MOUNTS))
    assert mount is not None
    assert mount.fstype == fstype


@pytest.mark.parametrize(
    ("path", "network"),
    [
        ("/home/ana/alliance.db", True),
        ("/home/ana/local/alliance.db", False),
        ("/mnt/My Share/alliance.db", True),
        ("/tmp/alliance.db", False),
        ("/alliance.db", False),
    ],
)
def test_network_mounts_are_recognised(path: str, network: bool) -> None:
    from alliance_cli.services.maintenance.doctor import network_mount

    assert (network_mount(PurePosixPath(path), MOUNTS) is not None) is network


@pytest.mark.parametrize(
    "fstype",
    [
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "sshfs",
        "fuse.sshfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
    ],
)
def test_network_filesystem_types(fstype: str) -> None:
    from alliance_cli.services.maintenance.doctor import is_network_filesystem

    assert is_network_filesystem(fstype)


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "tmpfs", "zfs", "apfs", "overlay"])
def test_local_filesystem_types(fstype: str) -> None:
    from alliance_cli.services.maintenance.doctor import is_network_filesystem

    assert not is_network_filesystem(fstype)


def test_no_mount_table_is_not_a_problem() -> None:
    from alliance_cli.services.maintenance.doctor import mount_of, parse_mounts

    assert parse_mounts("") == []
    assert parse_mounts("garbage\n\n") == []
    assert mount_of(PurePosixPath("/home/a.db"), []) is None
