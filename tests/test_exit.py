"""The console script's way out: `main` ends with `os._exit` (no interpreter teardown), so
whatever teardown used to do for us must already be done, and what only it could report
(a failed final write of stdout) is reported here."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # the -wal file and the process itself


def alliance(
    db: Path, *args: str, stdout: int | None = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alliance_cli", "--db", str(db), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "alliance.db"
    Cli(path).ok("patient", "add", "P014", "--since", "2026-01-05")  # in-process: faster
    return path


def test_a_write_leaves_the_database_closed_and_complete(db: Path) -> None:
    """The engine is disposed before the process ends: SQLite checkpointed and removed its
    -wal, so the .db file alone holds the new session (a copy of it is a whole backup)."""
    added = alliance(db, "session", "add", "P014", "--date", "2026-02-02", "--bond", "5",
                     "--goal", "5", "--task", "4", "--rater", "therapist")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Stored session" in added.stdout
    assert sorted(p.name for p in db.parent.iterdir()) == ["alliance.db"]
    copy = db.with_name("copy.db")
    copy.write_bytes(db.read_bytes())
    listed = alliance(copy, "session", "list", "P014", "--format", "csv")
    assert "2026-02-02" in listed.stdout


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("patient", "list"), 0),
        (("patient", "show", "NOPE"), 1),  # unknown patient
        (("patient", "list", "--no-such-option"), 2),  # usage
        (("--version",), 0),  # answered without Typer
    ],
)
def test_the_exit_status_survives_the_fast_exit(
    db: Path, args: tuple[str, ...], status: int
) -> None:
    assert alliance(db, *args).returncode == status


def test_exit_handlers_still_run(db: Path, tmp_path: Path) -> None:
    marker = tmp_path / "handler-ran"
    code = (
        "import atexit, pathlib, sys; "
        f"atexit.register(pathlib.Path({str(marker)!r}).write_text, 'yes'); "
        "sys.argv[0] = 'alliance'; from alliance_cli.cli.app import main; main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--db", str(db), "patient", "list"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "yes"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("form", ["table", "csv", "json"])
def test_output_that_cannot_be_written_is_an_error_not_a_silent_loss(db: Path, form: str) -> None:
    """A full disk shows while writing (csv) or when stdout is flushed at the end (the
    others, buffered): either way one line, status 1."""
    with open("/dev/full", "w") as full:
        done = alliance(db, "patient", "list", "--format", form, stdout=full.fileno())
    assert done.returncode == 1
    assert done.stderr == "error: could not write the output (No space left on device)\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "args",
    [
        ("export", "P014"),
        ("export", "P014", "--format", "json"),
        ("export", "P014", "--format", "csv"),
        ("export", "P014", "--format", "fhir"),
        ("export", "--all", "--format", "json"),
        ("export", "--all", "--format", "csv"),
        ("session", "list", "P014", "--format", "json"),
        ("session", "list", "P014", "--format", "csv"),
    ],
    ids=" ".join,
)
def test_every_export_format_on_a_full_disk_is_an_error(db: Path, args: tuple[str, ...]) -> None:
    """Exports are written in one piece: the same one line and status 1 as a listing.
    (A write cut short part-way, not only refused: tests/test_trust_roundtrip.py.)"""
    added = alliance(db, "session", "add", "P014", "--date", "2026-02-02", "--bond", "5",
                     "--goal", "5", "--task", "4", "--note", "fine")  # fmt: skip
    assert added.returncode == 0, added.stderr
    with open("/dev/full", "w") as full:
        done = alliance(db, *args, stdout=full.fileno())
    assert done.returncode == 1
    assert done.stderr == "error: could not write the output (No space left on device)\n"


def test_a_reader_that_went_away_ends_the_command_quietly(db: Path) -> None:
    """`alliance ... | head -0`: no traceback, no 'Exception ignored', status 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # closed before the command writes: every write fails with EPIPE
    try:
        done = alliance(db, "patient", "list", "--format", "csv", stdout=write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 0
    assert done.stderr == ""
