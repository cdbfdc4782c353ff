"""Shared fixtures: every test runs against its own temp data/config directories.

The autouse fixture points XDG_DATA_HOME / XDG_CONFIG_HOME (which platformdirs honours)
and HOME at a temp dir, and clears ALLIANCE_DB, so no test touches a real home directory.

Tests using the `cli`, `p014` or `make_cli` fixtures run twice: against a SQLite file and
against a fresh PostgreSQL database (tests/backends.py; skipped without a server). A test
about the SQLite file itself is marked `sqlite_only`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests import backends

BACKENDS = ("sqlite", "postgresql")
FIXED_TODAY = date(2026, 12, 2)  # a Wednesday: "today" for tests that fix the day


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test checks the SQLite file itself (not run on PostgreSQL)"
    )
    config.addinivalue_line(
        "markers", "both_backends: run on PostgreSQL too, in a module marked sqlite_only"
    )
    config.addinivalue_line(
        "markers",
        "slow: a long stress test (concurrency, crashes, big property runs), left out of the"
        " README's test command and run by .ci/run as a second step (`-m slow`)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        definition = metafunc.definition
        only = definition.get_closest_marker("sqlite_only") is not None
        only = only and definition.get_closest_marker("both_backends") is None
        metafunc.parametrize("backend", BACKENDS[:1] if only else BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name: str = getattr(request, "param", "sqlite")
    if name == "postgresql" and backends.admin_url() is None:
        pytest.skip(backends.SKIP_PG)
    return name


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for name in ("ALLIANCE_DB", "ALLIANCE_CONFIG", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    yield home


def fix_today(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """Make `day` "today" for every command run in this process (alliance_cli/clock.py)."""
    monkeypatch.setattr("alliance_cli.clock.today", lambda: day)


@pytest.fixture
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> date:
    """A fixed "today" (FIXED_TODAY) for tests whose answer depends on the date. Ask for
    it before fixtures that run commands (`p014`, `cli` users), so that they see it too."""
    fix_today(monkeypatch, FIXED_TODAY)
    return FIXED_TODAY


@dataclass
class Cli:
    """Runs `alliance` in-process (Typer's CliRunner) against one database: a SQLite file
    (a Path) or a PostgreSQL URL (a str)."""

    target: Path | str
    # The `Snapshots` states this database was made with (see `Snapshots.give`).
    given: set[str] = field(default_factory=set, compare=False, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return isinstance(self.target, Path)

    @property
    def db_path(self) -> Path:
        """The SQLite file (tests reading the file itself are marked sqlite_only)."""
        if not isinstance(self.target, Path):
            raise RuntimeError("this test reads the SQLite file: mark it sqlite_only")
        return self.target

    @property
    def db(self) -> str:
        """What `--db` is given."""
        return str(self.target)

    def make_room(self) -> None:
        """Create the SQLite file's directory (nothing to do on a server)."""
        if isinstance(self.target, Path):
            self.target.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, *args: str, input: str | None = None, db: bool = True) -> Result:
        from alliance_cli.cli.app import app

        argv = (["--db", self.db] if db else []) + list(args)
        return CliRunner().invoke(app, argv, input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run and assert success, showing stderr on failure."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def rows(self, table: str) -> list[tuple[object, ...]]:
        """Every row of a table, read with the driver directly (independent of the app)."""
        if isinstance(self.target, str):
            return backends.rows(self.target, table)
        with sqlite3.connect(self.target) as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()

    def table_is_empty(self, table: str) -> bool:
        """No rows in `table` (or no SQLite file at all yet)."""
        if isinstance(self.target, Path) and not self.target.exists():
            return True
        return self.rows(table) == []

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        """Run raw SQL with the driver directly (as a `psql`/`sqlite3` user would)."""
        if isinstance(self.target, str):
            with backends.connect(self.target) as conn:
                cursor = conn.execute(statement)
                return cursor.fetchall() if cursor.description else []
        conn = sqlite3.connect(self.target, isolation_level=None)
        try:
            return conn.execute(statement).fetchall()
        finally:
            conn.close()

    def dump(self) -> list[str]:
        """The whole database as text, to prove nothing changed (SQLite: sorted lines, as
        a `VACUUM INTO` copy may list the same schema objects in another order)."""
        if isinstance(self.target, str):
            return backends.dump(self.target)
        conn = sqlite3.connect(self.target)
        try:
            return sorted(conn.iterdump())
        finally:
            conn.close()


class Snapshots:
    """Database states that fixtures make with real commands (`p014`...): made by the
    commands for the first test of a test process (pytest-xdist worker) and day that asks,
    then a copy of that database for each next one, which is what the same commands would
    have made, minus their start-up and migration time.

    A state has a name and is always made from the same starting point (`give`'s caller
    makes sure of that). The day is part of the key: commands store "today" (a goal's
    creation day...), and a test that fixes the day before asking gets that day's state.
    A SQLite state is a file, copied over the test's database (mode 0600 as alliance makes
    it). A PostgreSQL state is a database that the `cli` fixture copies instead of the empty
    migrated template when the test uses the fixture (`POSTGRESQL_STATES`).
    """

    POSTGRESQL_STATES = ("p014",)  # fixture name = state name

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sqlite_files: dict[tuple[str, date], Path] = {}
        self.pg_templates: dict[tuple[str, date], str] = {}

    @staticmethod
    def key(name: str) -> tuple[str, date]:
        from alliance_cli import clock

        return name, clock.today()

    def pg_template_for(self, request: pytest.FixtureRequest) -> tuple[str | None, str | None]:
        """(the state, the database to copy) for a new PostgreSQL database of `request`."""
        for name in self.POSTGRESQL_STATES:
            if name in request.fixturenames:
                return name, self.pg_templates.get(self.key(name))
        return None, None

    def give(self, cli: Cli, name: str, make: Callable[[Cli], None]) -> None:
        """Bring `cli`'s database into the state `make` leaves it in."""
        key = self.key(name)
        if name in cli.given:  # a PostgreSQL database copied from the state (`cli`)
            return
        if isinstance(cli.target, Path) and key in self.sqlite_files:
            assert not [p for p in _companions(cli.target) if p.exists()], cli.target
            data = self.sqlite_files[key].read_bytes()
            fd = os.open(cli.target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as copy:
                copy.write(data)
            cli.target.chmod(0o600)
            cli.given.add(name)
            return
        make(cli)
        cli.given.add(name)
        if isinstance(cli.target, Path):
            if cli.target.is_file() and not any(p.exists() for p in _companions(cli.target)):
                kept = self.folder / f"{name}-{len(self.sqlite_files)}.db"
                kept.write_bytes(cli.target.read_bytes())
                self.sqlite_files[key] = kept
        elif name in self.POSTGRESQL_STATES and key not in self.pg_templates:
            admin = backends.admin_url()
            assert admin is not None
            template = backends.keep_as_template(admin, cli.target)
            if template is not None:
                self.pg_templates[key] = template


def _companions(db: Path) -> list[Path]:
    return [Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal")]


@pytest.fixture(scope="session")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    return Snapshots(tmp_path_factory.mktemp("snapshots"))


@pytest.fixture(scope="session", autouse=True)
def _drop_postgresql_templates() -> Iterator[None]:
    """At the end, the template databases this process made (see tests/backends.py)."""
    yield
    backends.drop_kept()


@contextlib.contextmanager
def _database(
    backend: str, path: Path, template: tuple[str | None, str | None] = (None, None)
) -> Iterator[Cli]:
    if backend == "sqlite":
        yield Cli(path)
        return
    admin = backends.admin_url()
    assert admin is not None
    state, source = template
    with backends.fresh_database(admin, template=source) as url:
        yield Cli(url, given={state} if state and source else set())


@pytest.fixture
def cli(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, snapshots: Snapshots
) -> Iterator[Cli]:
    template = snapshots.pg_template_for(request) if backend == "postgresql" else (None, None)
    with _database(backend, tmp_path / "clinic" / "alliance.db", template) as made:
        yield made


@pytest.fixture
def make_cli(tmp_path: Path, backend: str) -> Iterator[Callable[[str], Cli]]:
    with contextlib.ExitStack() as stack:

        def make(name: str) -> Cli:
            return stack.enter_context(_database(backend, tmp_path / name))

        yield make


@pytest.fixture
def p014(cli: Cli, snapshots: Snapshots) -> Cli:
    """A database holding the README's example patient, goal, task and one session (made by
    these commands once per test process and day, then copied: `Snapshots`)."""
    cli.make_room()
    snapshots.give(cli, "p014", _add_p014)
    return cli


def _add_p014(cli: Cli) -> None:
    cli.ok(
        "patient",
        "add",
        "P014",
        "--since",
        "2026-01-01",
        "--expectations",
        "back to running",
        "--social-context",
        "lives alone, supportive sister",
    )
    cli.ok(
        "goal", "add", "P014", "Run 5 km without pain", "--by", "joint", "--target", "2027-01-31"
    )
    cli.ok("task", "add", "P014", "Hip exercises, 3x a week", "--goal", "1", "--due", "2026-12-04")
    cli.ok(
        "session",
        "add",
        "P014",
        "--date",
        "2026-02-02",
        "--bond",
        "7",
        "--goal",
        "7",
        "--task",
        "7",
    )
