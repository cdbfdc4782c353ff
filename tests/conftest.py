"""Shared fixtures: every test runs against its own temp data/config directories.

The autouse fixture points XDG_DATA_HOME / XDG_CONFIG_HOME (which platformdirs honours)
and HOME at a temp dir, and clears ALLIANCE_DB, so no test touches a real home directory.

Tests using the `cli`, `p014` or `make_cli` fixtures run twice: against a SQLite file and
against a fresh PostgreSQL database (tests/backends.py; skipped without a server). A test
about the SQLite file itself is marked `sqlite_only`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tests import backends

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test checks the SQLite file itself (not run on PostgreSQL)"
    )
    config.addinivalue_line(
        "markers", "both_backends: run on PostgreSQL too, in a module marked sqlite_only"
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
    """A fixed "today" (a Wednesday) for tests whose answer depends on the date."""
    day = date(2026, 12, 2)
    fix_today(monkeypatch, day)
    return day


@dataclass
class Cli:
    """Runs `alliance` in-process (Typer's CliRunner) against one database: a SQLite file
    (a Path) or a PostgreSQL URL (a str)."""

    target: Path | str

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


@contextlib.contextmanager
def _database(backend: str, path: Path) -> Iterator[Cli]:
    if backend == "sqlite":
        yield Cli(path)
        return
    admin = backends.admin_url()
    assert admin is not None
    with backends.fresh_database(admin) as url:
        yield Cli(url)


@pytest.fixture
def cli(tmp_path: Path, backend: str) -> Iterator[Cli]:
    with _database(backend, tmp_path / "clinic" / "alliance.db") as made:
        yield made


@pytest.fixture
def make_cli(tmp_path: Path, backend: str) -> Iterator[Callable[[str], Cli]]:
    with contextlib.ExitStack() as stack:

        def make(name: str) -> Cli:
            return stack.enter_context(_database(backend, tmp_path / name))

        yield make


@pytest.fixture
def p014(cli: Cli) -> Cli:
    """A database holding the README's example patient, goal, task and one session."""
    cli.make_room()
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
    return cli
