"""Data files are private to their owner: directory 0700, database (and -wal/-shm) 0600."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from alliance_cli.paths import resolve_database
from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_data_directory_and_database_are_private(cli: Cli, isolated_home: Path) -> None:
    result = cli("patient", "add", "P1", db=False)
    assert result.exit_code == 0, result.stderr
    data_dir = isolated_home / ".local" / "share" / "alliance"
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "alliance.db") == 0o600


def test_private_modes_do_not_depend_on_the_callers_umask(tmp_path: Path) -> None:
    """Run as a real process with a permissive umask: the files are still private."""
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    code = "import os, sys; os.umask(0o022); from alliance_cli.cli.app import main; main()"
    subprocess.run(
        [sys.executable, "-c", code, "patient", "add", "P1"],
        env=env,
        check=True,
        capture_output=True,
    )
    assert mode(tmp_path / "xdg" / "alliance") == 0o700
    assert mode(tmp_path / "xdg" / "alliance" / "alliance.db") == 0o600


def test_wal_and_shm_files_follow_the_database_mode(tmp_path: Path) -> None:
    from alliance_cli.store.engine import open_database

    old = os.umask(0o022)
    try:
        db = open_database(resolve_database(str(tmp_path / "clinic.db")), create=True)
        try:
            with db.write() as session:
                session.connection().exec_driver_sql("CREATE TABLE scratch (x)")
            with db.engine.connect() as connection:  # keep a connection open: WAL stays
                connection.exec_driver_sql("SELECT 1").all()
                for suffix in ("", "-wal", "-shm"):
                    assert mode(tmp_path / f"clinic.db{suffix}") == 0o600, suffix
        finally:
            db.close()
    finally:
        os.umask(old)


def test_explicit_db_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "no" / "such" / "dir" / "alliance.db")
    result = cli("patient", "add", "P1")
    assert result.exit_code == 4
    assert "does not exist" in result.stderr
    assert not (tmp_path / "no").exists()


def test_a_file_that_is_not_sqlite_is_left_untouched(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my private notes\n")
    result = Cli(notes)("patient", "list")
    assert result.exit_code == 4
    assert "not a SQLite file" in result.stderr
    assert notes.read_text() == "my private notes\n"
