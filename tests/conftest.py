"""Shared fixtures: every test runs against its own temp data/config directories.

The autouse fixture points XDG_DATA_HOME / XDG_CONFIG_HOME (which platformdirs honours)
and HOME at a temp dir, and clears ALLIANCE_DB, so no test touches a real home directory.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result


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


@dataclass
class Cli:
    """Runs `alliance` in-process (Typer's CliRunner) against one SQLite file."""

    db_path: Path

    def __call__(self, *args: str, input: str | None = None, db: bool = True) -> Result:
        from alliance_cli.cli.app import app

        argv = (["--db", str(self.db_path)] if db else []) + list(args)
        return CliRunner().invoke(app, argv, input=input)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run and assert success, showing stderr on failure."""
        result = self(*args, input=input)
        assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
        return result

    def rows(self, table: str) -> list[tuple[object, ...]]:
        """Every row of a table, read with the stdlib driver (independent of the app)."""
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()

    def dump(self) -> list[str]:
        """The whole database as SQL text, to prove nothing changed."""
        conn = sqlite3.connect(self.db_path)
        try:
            return list(conn.iterdump())
        finally:
            conn.close()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "clinic" / "alliance.db")


@pytest.fixture
def make_cli(tmp_path: Path) -> Callable[[str], Cli]:
    def make(name: str) -> Cli:
        return Cli(tmp_path / name)

    return make


@pytest.fixture
def p014(cli: Cli) -> Cli:
    """A database holding the README's example patient, goal, task and one session."""
    cli.db_path.parent.mkdir(parents=True, exist_ok=True)
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
