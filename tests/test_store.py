"""The storage safeguards: pragmas on every connection, write lock taken up front."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from alliance_cli.paths import resolve_database

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    from alliance_cli.store.engine import open_database

    database = open_database(resolve_database(str(tmp_path / "store.db")), create=True)
    yield database
    database.close()


def test_every_connection_has_the_safety_pragmas(db) -> None:  # type: ignore[no-untyped-def]
    with db.read() as session:
        connection = session.connection()

        def pragma(name: str) -> object:
            return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 2  # FULL
        assert pragma("foreign_keys") == 1
        assert int(pragma("busy_timeout")) >= 10_000  # type: ignore[call-overload]


def test_a_write_transaction_takes_the_write_lock_at_begin(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = sqlite3.connect(tmp_path / "store.db", timeout=0, isolation_level=None)
    try:
        # nothing written yet, but BEGIN IMMEDIATE already holds the lock
        with db.write(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_read_transaction_does_not_block_writers(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = sqlite3.connect(tmp_path / "store.db", timeout=0, isolation_level=None)
    try:
        with db.read() as session:
            session.connection().exec_driver_sql("SELECT count(*) FROM patient").all()
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
    finally:
        other.close()


def test_sql_errors_never_show_parameters(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import exc, text

    with pytest.raises(exc.StatementError) as raised, db.engine.connect() as connection:
        connection.execute(text("INSERT INTO nowhere VALUES (:x)"), {"x": "SENTINEL-note"})
    assert "SENTINEL" not in str(raised.value)


def test_session_add_prompts_on_a_real_terminal(tmp_path: Path) -> None:
    """Through a pseudo-terminal: the prompts appear, with last time's value, and it stores."""
    import pty

    db_path = tmp_path / "pty.db"
    run = [sys.executable, "-m", "alliance_cli", "--db", str(db_path)]
    subprocess.run([*run, "patient", "add", "P1"], check=True, capture_output=True)
    subprocess.run(
        [
            *run,
            "session",
            "add",
            "P1",
            "--date",
            "2026-01-05",
            "--bond",
            "6",
            "--goal",
            "6",
            "--task",
            "6",
        ],
        check=True,
        capture_output=True,
    )
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*run, "session", "add", "P1", "--date", "2026-01-12"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    os.write(controller, b"8\n7\n6.5\n")
    out, _ = process.communicate(timeout=60)
    seen = b""
    try:
        while chunk := os.read(controller, 4096):
            seen += chunk
    except OSError:
        pass
    os.close(controller)
    assert process.returncode == 0, seen
    assert b"Bond (0-10, last 6.0 on 2026-01-05)" in seen
    assert b"Stored session 2" in out
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT bond, goal, task FROM session_rating WHERE id = 2").fetchone()
    assert row == (8.0, 7.0, 6.5)


# ------------------------------------------------------------------ sqlite URLs


@pytest.mark.parametrize(
    ("url", "path", "read_only"),
    [
        ("sqlite:////srv/a.db", "/srv/a.db", False),
        ("sqlite+pysqlite:////srv/a.db", "/srv/a.db", False),
        ("sqlite:///rel/a.db", "rel/a.db", False),
        ("sqlite:////srv/a.db?mode=ro&uri=true", "/srv/a.db", True),
        ("sqlite:///file:/srv/a.db?mode=ro&uri=true", "/srv/a.db", True),
        ("sqlite:///file:/srv/with%20space%3F.db?uri=true", "/srv/with space?.db", False),
        ("sqlite:////srv/a.db?mode=rw", "/srv/a.db", False),
    ],
)
def test_sqlite_urls_name_the_file_without_their_options(
    url: str, path: str, read_only: bool
) -> None:
    from alliance_cli.paths import SqliteTarget, parse_sqlite_url

    assert parse_sqlite_url(url) == SqliteTarget(Path(path), read_only)


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true"],
)
def test_memory_urls_have_no_file(url: str) -> None:
    from alliance_cli.paths import parse_sqlite_url

    target = parse_sqlite_url(url)
    assert target is not None and target.path is None


def test_other_databases_are_not_sqlite_files() -> None:
    from alliance_cli.paths import parse_sqlite_url

    assert parse_sqlite_url("postgresql+psycopg://me@localhost/clinic") is None


@pytest.mark.parametrize(
    "url",
    ["sqlite:////srv/a.db?timeout=0", "sqlite:////srv/a.db?mode=memory", "sqlite://x"],
)
def test_unknown_sqlite_url_options_are_refused_cleanly(url: str, tmp_path: Path) -> None:
    from alliance_cli.paths import UnsupportedUrl, parse_sqlite_url

    with pytest.raises(UnsupportedUrl):
        parse_sqlite_url(url)
    from typer.testing import CliRunner

    from alliance_cli.cli.app import app

    result = CliRunner().invoke(app, ["--db", url, "patient", "list"])
    assert result.exit_code == 4
    assert result.stderr.startswith("error: cannot understand the database URL")
    assert "Traceback" not in result.stderr


def test_a_read_only_url_needing_an_upgrade_is_refused_untouched(tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from alliance_cli.cli.app import app

    old = tmp_path / "clinic" / "old.db"
    old.parent.mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "schema-0001.db", old)
    before = old.read_bytes()
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{old}?mode=ro", "patient", "list"])
    assert result.exit_code == 4
    assert "needs a schema upgrade" in result.stderr and "read-only" in result.stderr
    assert old.read_bytes() == before
    assert sorted(p.name for p in old.parent.iterdir()) == ["old.db"]
