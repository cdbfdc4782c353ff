"""Files as a hostile world gives them: pipes and devices as the database, a home that
does not exist, leftovers of a killed command, odd names, loose permissions, time zones.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from typer.testing import Result

from alliance_cli.paths import parse_sqlite_url, sqlite_url
from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself

FIXTURES = Path(__file__).parent / "fixtures"
SIDES = ("-journal", "-wal", "-shm")
EXPORT = ("export", "--all", "--format", "json")
GUARD = 60  # seconds: a safety net against a hang, never a measure of speed


@pytest.fixture
def clinic(tmp_path: Path) -> Cli:
    """A SQLite database holding one patient, alone in its directory."""
    (tmp_path / "clinic").mkdir()
    made = Cli(tmp_path / "clinic" / "alliance.db")
    made.ok("patient", "add", "P1")
    return made


def one_error(result: Result | subprocess.CompletedProcess[str], code: int = 4) -> str:
    """The one `error: ...` line of a command that failed with `code`."""
    status = result.returncode if isinstance(result, subprocess.CompletedProcess) else None
    status = result.exit_code if isinstance(result, Result) else status
    assert status == code, (status, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def alliance(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A real process (a FIFO or a time zone cannot be faked in-process)."""
    return subprocess.run(
        [sys.executable, "-m", "alliance_cli", *args],
        capture_output=True,
        text=True,
        timeout=GUARD,
        env=env,
        check=False,
    )


def no_side_files(path: Path) -> None:
    assert [s for s in SIDES if os.path.lexists(f"{path}{s}")] == [], path


# ------------------------------------------------------------ not a regular file


@pytest.mark.parametrize(
    ("via_symlink", "args"),
    [
        (False, ("patient", "add", "P1")),
        (False, ("patient", "list")),
        (True, ("where",)),
        (False, ("encrypt", "--yes")),
        (True, ("decrypt", "--yes")),
        (False, ("backup",)),
    ],
    ids=["add", "list", "where-via-symlink", "encrypt", "decrypt-via-symlink", "backup"],
)
def test_a_fifo_as_the_database_is_refused_without_blocking(
    tmp_path: Path, via_symlink: bool, args: tuple[str, ...]
) -> None:
    fifo = tmp_path / "pipe.db"
    os.mkfifo(fifo)
    given = fifo
    if via_symlink:
        given = tmp_path / "link.db"
        given.symlink_to(fifo)
    env = dict(os.environ, ALLIANCE_DB_KEY="a passphrase for the test")
    line = one_error(alliance("--db", str(given), *args, env=env))  # blocked forever before
    assert "named pipe" in line or "not a database file" in line, line
    assert str(given) in line, line
    no_side_files(given)
    no_side_files(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_directory_and_a_socket_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.db"
    folder.mkdir()
    sock_path = tmp_path / "s.db"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(sock_path))
        for path, kind in ((folder, "a directory"), (sock_path, "a socket")):
            for args in (("patient", "list"), ("patient", "add", "P1")):
                line = one_error(Cli(path)(*args))
                assert kind in line, line
            no_side_files(path)


def test_a_character_device_gets_no_journal_beside_it(tmp_path: Path) -> None:
    """As root, `--db /dev/null` once created /dev/null-journal: refused before opening."""
    link = tmp_path / "null.db"
    link.symlink_to(os.devnull)
    had_journal = os.path.lexists(f"{os.devnull}-journal")
    for given in (link, Path(os.devnull)):
        for args in (("patient", "add", "P1"), ("patient", "list"), ("where",)):
            line = one_error(Cli(given)(*args))
            assert "character device" in line, line
    no_side_files(link)
    if not had_journal:
        no_side_files(Path(os.devnull))


# ------------------------------------------------------------ the data directory


def test_a_missing_home_is_never_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "gone" / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME")
    line = one_error(Cli(Path("unused"))("patient", "add", "P1", db=False))
    assert str(home) in line and "does not exist" in line, line
    line = one_error(Cli(Path("unused"))("patient", "list", db=False))
    assert "does not exist" in line, line
    where = Cli(Path("unused"))("where", db=False)
    assert where.exit_code == 0 and "does not exist yet" in where.stdout
    assert not (tmp_path / "gone").exists()


def test_the_xdg_base_may_be_created_but_not_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "none" / "xdg"))
    line = one_error(Cli(Path("unused"))("patient", "add", "P1", db=False))
    assert str(tmp_path / "none") in line, line
    assert not (tmp_path / "none").exists()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    Cli(Path("unused"))("patient", "add", "P1", db=False)
    assert stat.S_IMODE((tmp_path / "xdg" / "alliance").stat().st_mode) == 0o700


def test_an_unusable_xdg_data_home_is_one_line_exit_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_dir = tmp_path / "xdg-file"
    not_a_dir.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(not_a_dir))
    assert "cannot create the data directory" in one_error(
        Cli(Path("unused"))("patient", "add", "P1", db=False)
    )
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    env = dict(os.environ, XDG_DATA_HOME=str(locked))
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")
    if os.geteuid() != 0:
        prefix = ()
    elif shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: directory modes are not enforced")
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "alliance_cli", "patient", "add", "P1"],
        capture_output=True,
        text=True,
        timeout=GUARD,
        env=env,
        check=False,
    )
    if proc.returncode == 0 and os.geteuid() == 0:
        pytest.skip("running as root and DAC_OVERRIDE cannot be dropped")
    line = one_error(proc)
    assert "Permission denied" in line and str(locked / "alliance") in line, line


# ------------------------------------------------------------ leftovers of a killed run


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait(timeout=GUARD)
    return child.pid


def start_of(pid: int) -> int:
    from alliance_cli.paths import _process_start

    return _process_start(pid) or 0


def leftovers(directory: Path, name: str) -> tuple[list[Path], list[Path]]:
    """(what a killed run left: must go, what must stay) in `directory`."""
    parent = os.getppid()
    stale = [directory / f".{name}.alliance-{dead_pid()}-1-abc123de.tmp"]
    stale.append(stale[0].with_name(stale[0].name + "-journal"))
    if start_of(parent):  # a reused PID: alive, but not the process that wrote the file
        stale.append(directory / f".{name}.alliance-{parent}-{start_of(parent) + 1}-x1.tmp")
    keep = [
        directory / f".{name}.alliance-{parent}-{start_of(parent)}-live1234.tmp",  # running
        directory / f".{name}.1234.tmp",  # not our pattern: someone else's
        directory / f"{name}.alliance-{dead_pid()}-1-abc.tmp.txt",
    ]
    for path in (*stale, *keep):
        path.write_bytes(b"SQLite format 3\x00 plaintext copy")
    return stale, keep


def test_temporaries_of_a_killed_command_are_removed_by_the_next(clinic: Cli) -> None:
    stale, keep = leftovers(clinic.db_path.parent, clinic.db_path.name)
    clinic.ok("patient", "list")  # a read is enough: it opens that directory
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in keep)
    for name, args in (("all.json", EXPORT), ("copy.db", ("backup",))):
        out = clinic.db_path.parent.parent / name.replace(".", "-")
        out.mkdir()
        stale, keep = leftovers(out, name)
        clinic.ok(*args, *(["--output"] if args == EXPORT else []), str(out / name))
        assert [p for p in stale if p.exists()] == [] and all(p.exists() for p in keep)


def test_an_interrupted_backup_never_has_the_backup_name(
    clinic: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(path: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("alliance_cli.services.maintenance.backup.fsync_file", disk_full)
    assert clinic("backup", str(clinic.db_path.parent / "copy.db")).exit_code != 0
    assert sorted(p.name for p in clinic.db_path.parent.iterdir()) == ["alliance.db"]


@pytest.mark.parametrize("failing", ["_fsync", "place_new"])
def test_an_interrupted_pre_upgrade_backup_never_has_the_backup_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A `*.pre-*-from-*.bak` is always a whole copy: it gets that name only at the end."""
    monkeypatch.setenv("ALLIANCE_CLINICIAN", "fixture-clinician")
    tmp_path = tmp_path / "data"
    tmp_path.mkdir()
    db = tmp_path / "old.db"
    shutil.copy(FIXTURES / "schema-0004.db", db)
    db.chmod(0o600)
    before = db.read_bytes()

    def cut(*args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(f"alliance_cli.store.migrate.{failing}", cut)
        line = one_error(Cli(db)("patient", "list"))
    assert "backup" in line, line
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.db"]  # no .bak, no temp
    Cli(db).ok("patient", "list")
    (backup,) = tmp_path.glob("old.db.pre-*-from-0004-*.bak")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if ".tmp" in p.name] == []


# ------------------------------------------------------------ --output and odd names


def test_output_over_a_dangling_symlink_needs_force(clinic: Cli, tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to(tmp_path / "nowhere")
    line = one_error(clinic(*EXPORT, "--output", str(link)), code=1)
    assert "already exists" in line and "--force" in line, line
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()
    clinic.ok(*EXPORT, "--output", str(link), "--force")
    assert not link.is_symlink() and json.loads(link.read_text())
    assert not (tmp_path / "nowhere").exists()


def test_output_ignores_a_file_with_the_old_temp_name(clinic: Cli, tmp_path: Path) -> None:
    squatter = tmp_path / f".report.json.{os.getpid()}.tmp"  # the old fixed temp name
    squatter.write_text("someone else's")
    clinic.ok(*EXPORT, "--output", str(tmp_path / "report.json"))
    assert squatter.read_text() == "someone else's"
    assert json.loads((tmp_path / "report.json").read_text())


@pytest.mark.parametrize("name", ["a?b.db", "a#b.db", "a?b#c%3F d.db", "file:x?.db"])
def test_database_names_with_url_characters_are_plain_names(tmp_path: Path, name: str) -> None:
    tmp_path = tmp_path / "data"
    tmp_path.mkdir()
    path = tmp_path / name
    assert parse_sqlite_url(sqlite_url(path)) is not None
    assert parse_sqlite_url(sqlite_url(path)).path == path  # type: ignore[union-attr]
    line = one_error(Cli(path)("patient", "list"))
    assert "does not exist" in line and list(tmp_path.iterdir()) == []  # nothing created
    Cli(path).ok("patient", "add", "P1")
    assert "P1" in Cli(path).ok("patient", "list").stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_where_shows_a_newline_in_a_path_escaped(tmp_path: Path) -> None:
    folder = tmp_path / "x\ny"
    folder.mkdir()
    result = Cli(folder / "alliance.db")("where")
    assert result.exit_code == 0, result.stderr
    assert "x\\ny" in result.stdout and "x\ny" not in result.stdout


# ------------------------------------------------------------ permissions


def test_a_database_readable_by_others_is_made_private_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Cli(db).ok("patient", "add", "P1")
    db.chmod(0o644)
    holder = sqlite3.connect(db)  # keeps a -wal/-shm in place, made with the loose mode
    try:
        holder.execute("SELECT count(*) FROM patient").fetchone()
        assert stat.S_IMODE(Path(f"{db}-shm").stat().st_mode) == 0o644
        result = Cli(db).ok("patient", "list")
        assert result.stderr.count("made it private") == 1, result.stderr
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    finally:
        holder.close()
    assert "private" not in Cli(db).ok("patient", "list").stderr  # said once


def test_a_read_only_url_warns_instead_of_changing_modes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Cli(db).ok("patient", "add", "P1")
    db.chmod(0o644)
    result = Cli(Path("unused"))("--db", f"sqlite:///{db}?mode=ro", "patient", "list", db=False)
    assert result.exit_code == 0 and "warning:" in result.stderr and "chmod 600" in result.stderr
    assert stat.S_IMODE(db.stat().st_mode) == 0o644


# ------------------------------------------------------------ log --since in local days


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "Pacific/Auckland"])
def test_log_since_starts_at_the_local_midnight(tmp_path: Path, zone: str) -> None:
    from zoneinfo import ZoneInfo

    db = tmp_path / "alliance.db"
    Cli(db).ok("patient", "add", "P1")
    Cli(db).ok("patient", "add", "P2")
    day = date(2025, 6, 15)  # in the past on any clock the tests run with
    local = ZoneInfo(zone)
    late = datetime.combine(day - timedelta(days=1), time(23, 30), tzinfo=local)
    early = datetime.combine(day, time(0, 30), tzinfo=local)
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER audit_log_no_rewrite")  # a scratch copy: set the times
        ids = [row[0] for row in connection.execute("SELECT id FROM audit_log ORDER BY id")]
        for row_id, when in zip(ids, (late, early), strict=True):
            stamp = when.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            connection.execute("UPDATE audit_log SET at = ? WHERE id = ?", (stamp, row_id))
    env = dict(os.environ, TZ=zone)
    proc = alliance("--db", str(db), "log", "--since", day.isoformat(), "-f", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert [e["id"] for e in json.loads(proc.stdout)] == ids[1:]  # 00:30 on the day, not 23:30
