"""A report over a missing database is an error (exit 4), never an empty "all clear".

Issue 12, part 3: `alliance summary --fail-on-flags` from cron without HOME, or with a typo
in ALLIANCE_DB, used to create an empty database, print `alerts: 0` and exit 0, every
week. Now only commands that store something create a database; every other command
stops with one line naming the path, and creates neither the file nor its directory.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import Result

from tests import backends
from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # most tests look at the files (not) created

RATED = ("--bond", "7", "--goal", "7", "--task", "7")
CSV_ROWS = "patient,date,bond,goal,task\nP1,2026-02-02,7,7,7\n"

# Commands that only read: they never create a database.
READS: list[tuple[str, ...]] = [
    ("summary",),
    ("summary", "--fail-on-flags"),
    ("summary", "--format", "json"),
    ("flags",),
    ("flags", "--format", "json"),
    ("prep",),
    ("outcomes",),
    ("prep", "P1"),
    ("patient", "list"),
    ("patient", "show", "P1"),
    ("session", "list", "P1"),
    ("goal", "list", "P1"),
    ("task", "list", "P1"),
    ("repair", "list", "P1"),
    ("trend", "P1"),
    ("export", "P1"),
    ("export", "--all", "--format", "json"),
    ("log",),
    ("doctor",),
    ("backup",),
    ("import", "{rows}", "--dry-run"),  # writes nothing, so it creates nothing
]
# Commands that write, but only to something already stored (a patient, a goal, a
# change to undo): on a missing database they cannot succeed, and creating one for them
# would leave an empty database for the next report to call "all clear".
WRITES_TO_STORED: list[tuple[str, ...]] = [
    ("session", "add", "P1", "--date", "2026-02-02", *RATED),
    ("rate", "P1", "--date", "2026-02-02", *RATED),
    ("session", "edit", "1", "--bond", "5"),
    ("session", "delete", "1", "--yes"),
    ("goal", "add", "P1", "Walk to the shop"),
    ("task", "add", "P1", "Walk daily"),
    ("repair", "add", "P1", "--strategy", "explore"),
    ("patient", "edit", "P1", "--name", "Ann"),
    ("patient", "discharge", "P1", "--ending", "mutual"),
    ("patient", "reactivate", "P1"),
    ("patient", "delete", "P1", "--yes"),
    ("patient", "transfer", "P1", "dr_b"),
    ("goal", "status", "1", "achieved"),
    ("goal", "review", "1", "--gas", "0"),
    ("goal", "edit", "1", "--text", "Walk further"),
    ("task", "review", "1", "--adherence", "done"),
    ("task", "status", "1", "completed"),
    ("task", "edit", "1", "--text", "Walk twice"),
    ("undo", "--yes"),
    ("decrypt", "--yes"),
]
NEVER_CREATE = READS + WRITES_TO_STORED
SQLITE_ONLY_COMMANDS = {("backup",), ("doctor",), ("decrypt", "--yes")}  # SQLite file tools
# The other commands, each decided: they create a database (they store into a new one),
# answer without one, or are refused on a SQLite file before it is looked for.
CREATES = {("patient", "add"), ("import",), ("demo",), ("restore",), ("encrypt",)}
NO_DATABASE_NEEDED = {("where",), ("config", "path"), ("config", "show")}
POSTGRESQL_ONLY = {("admin", "grant-clinician"), ("admin", "grant-supervisor"), ("admin", "roles")}


def ids(args: tuple[str, ...]) -> str:
    return " ".join(args)


def filled(args: tuple[str, ...], tmp_path: Path) -> tuple[str, ...]:
    """The command line, with `{rows}` replaced by a CSV file of session rows."""
    rows = tmp_path / "rows.csv"
    rows.write_text(CSV_ROWS, encoding="utf-8")
    return tuple(str(rows) if arg == "{rows}" else arg for arg in args)


def only_error_line(result: Result | subprocess.CompletedProcess[str], *expected: str) -> str:
    """The one stderr line of a failed command, after checking exit 4 and no stdout."""
    if isinstance(result, Result):
        exit_code: int | None = result.exit_code
    else:
        exit_code = result.returncode
    stdout, stderr = result.stdout, result.stderr
    assert exit_code == 4, (exit_code, stdout, stderr)
    assert stdout == "", stdout
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert "Traceback" not in stderr
    return lines[0]


def ok_default(cli: Cli, *args: str) -> Result:
    """Run without --db (ALLIANCE_DB or the default location) and assert success."""
    result = cli(*args, db=False)
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def files_under(directory: Path) -> list[str]:
    if not directory.exists():
        return []
    return sorted(str(path.relative_to(directory)) for path in directory.rglob("*"))


@pytest.fixture
def missing(cli: Cli) -> Iterator[Cli]:
    """A database that does not exist: the `cli` fixture's SQLite file (not created yet,
    nor its directory), or a PostgreSQL database name the server does not have."""
    if cli.is_sqlite:
        assert not cli.db_path.parent.exists()
        yield cli
        return
    admin = backends.admin_url()
    assert admin is not None
    yield Cli(backends.database_url(admin, f"alliance_missing_{uuid.uuid4().hex[:12]}"))


# ------------------------------------------------------------------ every command


def command_tree() -> set[tuple[str, ...]]:
    """Every command of `alliance --help` and of its groups, as typed."""
    from alliance_cli.cli.root import LAZY, build_command

    found: set[tuple[str, ...]] = set()
    for name in LAZY:
        command = build_command(name)
        subcommands = getattr(command, "commands", None)
        if subcommands:
            found.update((name, sub) for sub in subcommands)
        else:
            found.add((name,))
    return found


def test_every_command_is_decided() -> None:
    """A new command must be put in one of the lists above: by default (`database(ctx)`)
    it creates nothing, and this module then checks that it says so properly."""

    def typed(args: tuple[str, ...]) -> tuple[str, ...]:
        grouped = ("patient", "session", "goal", "task", "repair")
        return args[:2] if args[0] in grouped else args[:1]

    decided = {typed(args) for args in NEVER_CREATE} | CREATES | NO_DATABASE_NEEDED
    assert command_tree() == decided | POSTGRESQL_ONLY


def test_admin_on_a_sqlite_path_says_postgresql_and_creates_nothing(
    cli: Cli, isolated_home: Path
) -> None:
    for _, command in sorted(POSTGRESQL_ONLY):
        for db in (True, False):
            result = cli("admin", command, *(("dr_a",) if "grant" in command else ()), db=db)
            assert result.exit_code == 1, result.stderr
            assert "PostgreSQL" in result.stderr
    assert not cli.db_path.parent.exists()
    assert not (isolated_home / ".local").exists()


@pytest.mark.both_backends
@pytest.mark.parametrize("args", NEVER_CREATE, ids=ids)
def test_a_command_that_cannot_store_anything_refuses_a_missing_database(
    missing: Cli, args: tuple[str, ...], tmp_path: Path, isolated_home: Path
) -> None:
    if not missing.is_sqlite and args in SQLITE_ONLY_COMMANDS:
        pytest.skip("SQLite file maintenance")
    home_before = files_under(isolated_home)
    line = only_error_line(missing(*filled(args, tmp_path)), "there is no database at")
    if missing.is_sqlite:
        assert str(missing.db_path) in line
        assert "alliance patient add" in line and "check --db" in line
        assert not missing.db_path.parent.exists()
    else:
        assert missing.db.rpartition("/")[2] in line  # the database name typed
        assert "does not exist on the server" in line
    assert files_under(isolated_home) == home_before  # no data directory either


@pytest.mark.parametrize("args", NEVER_CREATE, ids=ids)
def test_nothing_is_created_in_an_existing_directory_either(
    cli: Cli, args: tuple[str, ...], tmp_path: Path
) -> None:
    cli.make_room()
    only_error_line(cli(*filled(args, tmp_path)), f"there is no database at {cli.db_path}")
    assert files_under(cli.db_path.parent) == []


@pytest.mark.parametrize("args", NEVER_CREATE, ids=ids)
def test_the_default_location_is_not_created(
    cli: Cli, args: tuple[str, ...], tmp_path: Path, isolated_home: Path
) -> None:
    """Without --db and ALLIANCE_DB: the data directory under XDG_DATA_HOME stays absent."""
    default = isolated_home / ".local" / "share" / "alliance" / "alliance.db"
    line = only_error_line(cli(*filled(args, tmp_path), db=False), str(default))
    assert "alliance patient add" in line and "ALLIANCE_DB" in line
    assert not (isolated_home / ".local").exists()


def test_a_typo_in_alliance_db_is_an_error_not_an_empty_report(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real database holds a patient with an alert; the weekly job has a typo."""
    cli.make_room()
    cli.ok("patient", "add", "P1", "--since", "2026-01-01")
    typo = cli.db_path.with_name("alliance.bd")
    monkeypatch.setenv("ALLIANCE_DB", str(typo))
    for args in (("summary", "--fail-on-flags"), ("flags",), ("where",)):
        result = cli(*args, db=False)
        if args == ("where",):
            assert result.exit_code == 0 and "does not exist yet" in result.stdout
            continue
        line = only_error_line(result, f"there is no database at {typo}")
        assert "check ALLIANCE_DB" in line
    assert sorted(p.name for p in cli.db_path.parent.iterdir()) == ["alliance.db"]


@pytest.mark.both_backends
def test_summary_fail_on_flags_on_a_missing_database_exits_4_not_0(missing: Cli) -> None:
    result = missing("summary", "--fail-on-flags")
    assert result.exit_code == 4
    assert "alerts" not in result.stdout  # no report at all, let alone an empty one


# ------------------------------------------------------------------ where


def test_where_answers_and_says_the_database_does_not_exist_yet(cli: Cli) -> None:
    text = cli.ok("where")
    assert f"{cli.db_path} (from --db; does not exist yet)" in text.stdout
    info = json.loads(cli.ok("where", "--format", "json").stdout)
    assert info["exists"] is False and info["schema_version"] is None
    assert (info["patients"], info["sessions"]) == (0, 0)
    assert not cli.db_path.parent.exists()
    cli.make_room()
    cli.ok("patient", "add", "P1")
    info = json.loads(cli.ok("where", "--format", "json").stdout)
    assert info["exists"] is True and info["patients"] == 1
    assert "does not exist" not in cli.ok("where").stdout


def test_where_on_the_default_location_creates_no_data_directory(
    cli: Cli, isolated_home: Path
) -> None:
    result = ok_default(cli, "where")
    assert "(from default; does not exist yet)" in result.stdout
    assert not (isolated_home / ".local").exists()


@pytest.mark.both_backends
def test_where_on_a_missing_server_database_says_so(missing: Cli) -> None:
    info = json.loads(missing.ok("where", "--format", "json").stdout)
    assert info["exists"] is False


def test_an_existing_empty_server_database_is_set_up_by_any_command() -> None:
    """PostgreSQL, decided: a database that exists on the server was created on purpose
    (`CREATE DATABASE`, README "Running for a clinic", whose next step is `alliance
    where`), so any command creates the schema in it, as before. Only a database the
    server does not have is "missing" (see `missing` above)."""
    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    with backends.fresh_database(admin, migrated=False) as url:
        info = json.loads(Cli(url).ok("where", "--format", "json").stdout)
        assert info["exists"] is True and info["schema_version"] is not None


# ------------------------------------------------------------------ writers create


def test_patient_add_creates_the_database_and_the_default_data_directory(
    cli: Cli, isolated_home: Path
) -> None:
    ok_default(cli, "patient", "add", "P1")
    data_dir = isolated_home / ".local" / "share" / "alliance"
    assert (data_dir / "alliance.db").is_file()
    assert (data_dir.stat().st_mode & 0o777) == 0o700
    assert "P1" in ok_default(cli, "patient", "list").stdout


def test_patient_add_creates_an_explicit_database(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")
    assert (cli.db_path.stat().st_mode & 0o777) == 0o600
    cli.ok("summary", "--fail-on-flags")


def test_an_invalid_code_creates_no_database(cli: Cli) -> None:
    cli.make_room()
    result = cli("patient", "add", "")
    assert result.exit_code == 1, result.stderr
    assert files_under(cli.db_path.parent) == []


def test_import_creates_the_database(cli: Cli, tmp_path: Path) -> None:
    cli.make_room()
    cli.ok(*filled(("import", "{rows}"), tmp_path))
    assert "P1" in cli.ok("patient", "list").stdout


def test_restore_creates_the_database(cli: Cli, tmp_path: Path) -> None:
    other = Cli(tmp_path / "other.db")
    other.ok("patient", "add", "P1")
    copy = tmp_path / "copy.db"
    other.ok("backup", str(copy))
    cli.make_room()
    cli.ok("restore", "--yes", str(copy))
    assert "P1" in cli.ok("patient", "list").stdout


def test_demo_creates_its_own_database(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    ok_default(cli, "demo", "--path", str(target))
    assert target.is_file()


# ------------------------------------------------------------------ files with no database


@pytest.mark.parametrize("kind", ["zero bytes", "sqlite without tables"])
def test_an_empty_file_is_no_database_for_a_read(cli: Cli, kind: str) -> None:
    """A file alliance never wrote a schema into (left by a failed first write, or
    `touch`ed) is reported, not silently migrated by a report."""
    cli.make_room()
    if kind == "zero bytes":
        cli.db_path.touch(mode=0o600)
    else:
        with sqlite3.connect(cli.db_path) as conn:
            conn.execute("CREATE TABLE scratch (x)")
            conn.execute("DROP TABLE scratch")
        conn.close()
    before = cli.db_path.read_bytes()
    for args in (("summary", "--fail-on-flags"), ("patient", "list"), ("flags",)):
        only_error_line(cli(*args), f"{cli.db_path} is empty", "alliance patient add")
    assert cli.db_path.read_bytes() == before
    assert files_under(cli.db_path.parent) == ["alliance.db"]
    info = json.loads(cli.ok("where", "--format", "json").stdout)
    assert info["exists"] is False
    cli.ok("patient", "add", "P1")  # the first write creates the schema in it
    assert "P1" in cli.ok("patient", "list").stdout


def test_a_read_only_url_to_a_missing_file_creates_nothing(cli: Cli) -> None:
    cli.make_room()
    url = f"sqlite:///{cli.db_path}?mode=ro"
    for args in (("summary", "--fail-on-flags"), ("patient", "add", "P1")):
        only_error_line(Cli(url)(*args), f"{cli.db_path} does not exist", "mode=ro")
    assert files_under(cli.db_path.parent) == []


# ------------------------------------------------------------------ completion


def test_tab_completion_creates_no_database(cli: Cli, isolated_home: Path) -> None:
    from alliance_cli.cli.completion import matching_codes

    assert matching_codes(None, "") == []
    assert matching_codes(str(cli.db_path), "P") == []
    assert not (isolated_home / ".local").exists()
    assert not cli.db_path.parent.exists()


# ------------------------------------------------------------------ the cron case


@pytest.mark.parametrize("typo", [False, True], ids=["no-database-yet", "typo-in-ALLIANCE_DB"])
def test_the_weekly_cron_job_on_a_missing_database_exits_4(tmp_path: Path, typo: bool) -> None:
    """`env -i PATH=... HOME=...`: what cron gives a job, in a real process."""
    home = tmp_path / "cronhome"
    home.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    expected = home / ".local" / "share" / "alliance" / "alliance.db"
    if typo:
        expected = tmp_path / "alliance.bd"
        env["ALLIANCE_DB"] = str(expected)
    done = subprocess.run(
        [sys.executable, "-m", "alliance_cli", "summary", "--fail-on-flags"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    line = only_error_line(done, f"there is no database at {expected}")
    assert ("check ALLIANCE_DB" in line) is typo
    assert files_under(home) == []
    assert not expected.exists()
