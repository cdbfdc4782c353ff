"""Small things that cost a clinician's trust (issue 12, part 5), through the real CLI.

* Ctrl-C at any prompt exits 130 ("interrupted") and stores nothing; Ctrl-D keeps its
  old meaning (exit 1 for ratings and confirmations). Checked in real processes at a
  pseudo-terminal, and in-process for every command that asks, on both backends.
* `alliance demo` rewrites only a file that holds nothing but an untouched demo caseload.
* A start of care (`--since`) in the future is refused.
* Goals and tasks entered after the fact keep the day given with `--date`.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import Cli, fix_today
from tests.test_bad_input import assert_refused, error_line_of

REPO_ROOT = Path(__file__).resolve().parents[1]
RATED = ("--bond", "7", "--goal", "7", "--task", "7")


def as_text(value: object) -> str | None:
    """A date read with either driver (SQLite gives text, PostgreSQL a date)."""
    return None if value is None else str(value)


# --------------------------------------------------------------------------- Ctrl-C


# The pseudo-terminal must be the process's controlling terminal, as a user's terminal
# is: only then does typing Ctrl-C there send SIGINT (the terminal driver does it). And
# SIGINT is reset to its default, as a shell does for the command it starts (a test run
# started in the background would otherwise pass on "ignored").
AT_A_TERMINAL = (
    "import fcntl, os, signal, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.executable, [sys.executable, '-m', 'alliance_cli', *sys.argv[1:]])"
)
CTRL_C = b"\x03"


def _read(controller: int, until: bytes | None, seconds: float) -> bytes:
    """What the terminal shows, until `until` appears (None: until the process is gone).
    The time limit is only a safety net: each wait ends on the event itself."""
    seen = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (until is None or until not in seen):
        ready, _, _ = select.select([controller], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # EIO: every process holding the terminal has ended
            break
        if not chunk:
            break
        seen += chunk
    return seen


def type_at_prompts(
    args: list[str], steps: list[tuple[bytes, bytes]], env: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Run `alliance ARGS` at a terminal; for each (prompt, keys) step, wait until the
    prompt is shown, then type the keys. Gives the exit status and everything shown.

    A Ctrl-C typed in the instant between the prompt being shown and the read starting
    is seen by CPython only at the next key (no person is that fast; a test is): when
    nothing at all has happened 10 s after it, Ctrl-C is pressed once more, as a person
    would. A Ctrl-C that is ignored or answered wrongly still fails."""
    import pty

    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", AT_A_TERMINAL, *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        cwd=REPO_ROOT,
        env=env,
    )
    os.close(terminal)
    seen = b""
    try:
        for prompt, keys in steps:
            shown = _read(controller, prompt, 60)
            seen += shown
            assert prompt in shown, seen
            os.write(controller, keys)
        seen += _read(controller, None, 10)
        if process.poll() is None and steps[-1][1].endswith(CTRL_C) and b"error" not in seen:
            os.write(controller, CTRL_C)
        seen += _read(controller, None, 60)
        status = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return status, seen


def interrupted(status: int, seen: bytes) -> None:
    assert status == 130, seen
    assert b"error: interrupted" in seen, seen
    # The message starts its own line: never glued to the ^C the terminal echoed.
    assert b"^Cerror" not in seen and b": error" not in seen, seen
    assert b"Traceback" not in seen, seen


@pytest.fixture
def clinic_file(tmp_path: Path) -> Cli:
    clinic = Cli(tmp_path / "clinic.db")
    clinic.make_room()
    clinic.ok("patient", "add", "P1", "--since", "2026-01-01")
    clinic.ok("session", "add", "P1", "--date", "2026-01-05", *RATED)
    return clinic


BOND = b"Bond (0-10, last 7.0 on 2026-01-05): "
GOAL = b"Goal (0-10, last 7.0 on 2026-01-05): "


@pytest.mark.parametrize(
    ("steps", "status", "says"),
    [
        ([(BOND, b"\x03")], 130, b"interrupted"),
        ([(BOND, b"\x04")], 1, b"error: no rating given; nothing was stored"),
        ([(BOND, b"8\n"), (GOAL, b"\x03")], 130, b"interrupted"),
        ([(BOND, b"8\n"), (GOAL, b"\x04")], 1, b"error: no rating given"),
    ],
    ids=["ctrl-c", "ctrl-d", "ctrl-c-at-the-second", "ctrl-d-at-the-second"],
)
def test_keys_at_a_rating_prompt(
    clinic_file: Cli, steps: list[tuple[bytes, bytes]], status: int, says: bytes
) -> None:
    before = clinic_file.dump()
    args = ["--db", clinic_file.db, "session", "add", "P1", "--date", "2026-01-12"]
    got, seen = type_at_prompts(args, steps)
    assert got == status and says in seen, seen
    if status == 130:
        interrupted(got, seen)
    assert clinic_file.dump() == before  # nothing stored


@pytest.mark.parametrize(
    ("keys", "status", "says"),
    [(b"\x03", 130, b"interrupted"), (b"\x04", 1, b"error: nothing was changed")],
    ids=["ctrl-c", "ctrl-d"],
)
def test_keys_at_a_confirmation(clinic_file: Cli, keys: bytes, status: int, says: bytes) -> None:
    before = clinic_file.dump()
    args = ["--db", clinic_file.db, "patient", "delete", "P1"]
    got, seen = type_at_prompts(args, [(b"cannot be undone. [y/N]: ", keys)])
    assert got == status and says in seen, seen
    if status == 130:
        interrupted(got, seen)
    assert clinic_file.dump() == before


@pytest.mark.parametrize(
    ("keys", "status"), [(b"\x03", 130), (b"\x04", 4)], ids=["ctrl-c", "ctrl-d"]
)
def test_keys_at_the_passphrase_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: bytes, status: int
) -> None:
    """Ctrl-C at the key prompt of an encrypted database is an interruption, not "no key"
    (which stays exit 4, as Ctrl-D gives)."""
    pytest.importorskip("sqlcipher3", reason="SQLCipher is not installed")
    monkeypatch.setitem(sys.modules, "keyring", None)
    monkeypatch.setenv("ALLIANCE_DB_KEY", "a long enough passphrase for the test")
    clinic = Cli(tmp_path / "clinic.db")
    clinic.make_room()
    clinic.ok("patient", "add", "P1")
    clinic.ok("encrypt", "--yes")
    env = {k: v for k, v in os.environ.items() if k != "ALLIANCE_DB_KEY"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    before = (tmp_path / "clinic.db").read_bytes()
    args = ["--db", clinic.db, "patient", "list"]
    got, seen = type_at_prompts(args, [(b"Key for the encrypted database", keys)], env)
    assert got == status, seen
    if status == 130:
        interrupted(got, seen)
    assert (tmp_path / "clinic.db").read_bytes() == before


def _interrupt(*_args: object) -> str:
    raise KeyboardInterrupt


ASKING = [
    pytest.param(("patient", "delete", "P014"), "nothing was changed", id="patient-delete"),
    pytest.param(("session", "delete", "1"), "nothing was changed", id="session-delete"),
    pytest.param(("undo",), "nothing was changed", id="undo"),
    pytest.param(
        ("session", "add", "P014", "--date", "2026-03-03"), "no rating given", id="rating"
    ),
    pytest.param(("rate", "P014", "--date", "2026-03-03", "--bond", "7"), "no rating", id="rate"),
]


@pytest.mark.parametrize(("args", "eof_says"), ASKING)
def test_every_prompt_ctrl_c_is_130_and_ctrl_d_unchanged(
    fixed_today: date,
    p014: Cli,
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    eof_says: str,
) -> None:
    """Every command that asks reads through one helper: Ctrl-C reaches the error
    boundary (130), end of input is each prompt's own refusal (1). Database unchanged."""
    monkeypatch.setattr("alliance_cli.cli.common.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("alliance_cli.cli.session.stdin_is_terminal", lambda: True)
    before = p014.dump()
    at_eof = p014(*args, input="")
    assert at_eof.exit_code == 1, at_eof.stderr
    assert at_eof.stderr.splitlines()[-1].startswith("error: ")
    assert eof_says in at_eof.stderr
    monkeypatch.setattr("builtins.input", _interrupt)
    stopped = p014(*args)
    assert stopped.exit_code == 130, stopped.stderr
    assert stopped.stderr.splitlines()[-1] == "error: interrupted; nothing more was written"
    assert "Traceback" not in stopped.stderr
    assert p014.dump() == before


@pytest.mark.sqlite_only
@pytest.mark.parametrize("command", ["encrypt", "decrypt", "restore"])
def test_file_prompts_ctrl_c_is_130(
    p014: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    copy = tmp_path / "copy.db"
    p014.ok("backup", str(copy))
    monkeypatch.setattr("alliance_cli.cli.common.stdin_is_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", _interrupt)
    before = p014.db_path.read_bytes()
    args = (command, str(copy)) if command == "restore" else (command,)
    result = p014(*args)
    assert result.exit_code == 130, result.stderr
    assert result.stderr.splitlines()[-1] == "error: interrupted; nothing more was written"
    assert p014.db_path.read_bytes() == before


def test_a_confirmation_asks_again_until_answered(
    p014: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("alliance_cli.cli.common.stdin_is_terminal", lambda: True)
    result = p014("patient", "delete", "P014", input="maybe\nyes\n")
    assert result.exit_code == 0, result.stderr
    assert "Answer y or n." in result.stderr
    assert p014.rows("patient") == []


# --------------------------------------------------------------------------- demo


def demo_file(home: Path) -> Path:
    return home / ".local" / "share" / "alliance" / "demo.db"


def run_demo(*args: str) -> tuple[int, str]:
    result = Cli(Path("unused"))("demo", *args, db=False)
    return result.exit_code, result.stderr


def refused_demo(path: Path, *args: str) -> None:
    """`alliance demo` refuses: exit 1, one line naming the file and --force, file kept."""
    before = sorted(Cli(path).dump())
    result = Cli(Path("unused"))("demo", *args, db=False)
    line = error_line_of(result)
    assert result.exit_code == 1
    assert str(path) in line and "--force" in line, line
    assert sorted(Cli(path).dump()) == before
    assert not list(path.parent.glob("*.tmp*")), "the staging copy is left behind"


def test_demo_never_overwrites_what_was_added_to_it(fixed_today: date, isolated_home: Path) -> None:
    assert run_demo()[0] == 0
    demo = Cli(demo_file(isolated_home))
    demo.ok("patient", "list")  # reading leaves it a demo
    assert run_demo()[0] == 0
    demo.ok("patient", "add", "REAL1", "--since", "2026-11-01")  # after `export ALLIANCE_DB=...`
    refused_demo(demo.db_path)
    assert "REAL1" in demo.ok("patient", "list").stdout
    status, said = run_demo("--force")
    assert status == 0, said
    assert "REAL1" not in demo.ok("patient", "list").stdout


@pytest.mark.parametrize(
    "change",
    [
        ("session", "add", "D01", "--date", "2026-11-30", *RATED),
        ("goal", "add", "D02", "Sleep better"),
        ("task", "review", "1", "--adherence", "done"),
        ("patient", "edit", "D03", "--note", "seen at home"),
        ("patient", "discharge", "D05", "--ending", "mutual"),
    ],
    ids=["session", "goal", "task-review", "profile", "discharge"],
)
def test_demo_counts_any_change_to_a_demo_patient_as_user_data(
    fixed_today: date, isolated_home: Path, change: tuple[str, ...]
) -> None:
    assert run_demo()[0] == 0
    demo = Cli(demo_file(isolated_home))
    demo.ok(*change)
    refused_demo(demo.db_path)
    demo.ok("undo", "--yes")  # taken back, but someone worked in this file
    refused_demo(demo.db_path)


def test_a_demo_written_on_another_day_is_still_its_own(
    monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    fix_today(monkeypatch, date(2026, 11, 2))
    assert run_demo()[0] == 0
    fix_today(monkeypatch, date(2026, 12, 2))
    status, said = run_demo()
    assert status == 0, said
    last = json.loads(
        Cli(demo_file(isolated_home)).ok("session", "list", "D01", "-f", "json").stdout
    )[-1]
    assert last["date"] == "2026-12-02"


def test_demo_path_over_another_file(fixed_today: date, tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("not a database\n")
    result = Cli(Path("unused"))("demo", "--path", str(other), db=False)
    line = error_line_of(result)
    assert result.exit_code == 1 and str(other) in line and "--force" in line
    assert other.read_text() == "not a database\n"
    assert not list(tmp_path.glob("*.tmp*"))

    own = tmp_path / "mine.db"
    assert run_demo("--path", str(own))[0] == 0
    assert run_demo("--path", str(own))[0] == 0  # a demo at --path is its own too
    real = tmp_path / "real.db"
    Cli(real).ok("patient", "add", "P1")
    refused_demo(real, "--path", str(real))
    assert run_demo("--path", str(other), "--force")[0] == 0
    assert "D01" in Cli(other).ok("patient", "list").stdout


@pytest.mark.sqlite_only
def test_force_never_writes_over_the_real_database(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")
    before = cli.dump()
    result = cli("demo", "--path", str(cli.db_path), "--force")
    assert result.exit_code == 1 and "real database" in error_line_of(result)
    assert cli.dump() == before


# --------------------------------------------------------------------------- --since


@pytest.mark.parametrize(
    "args",
    [
        ("patient", "add", "P030", "--since", "2026-12-03"),
        ("patient", "edit", "P014", "--since", "2026-12-03"),
        ("patient", "edit", "P014", "--since", "2099-01-01", "--note", "moved"),
    ],
    ids=["add", "edit", "edit-with-more"],
)
def test_a_start_of_care_in_the_future_is_refused(
    fixed_today: date, p014: Cli, args: tuple[str, ...]
) -> None:
    assert_refused(p014, args, ("start of care", "is in the future"))


def test_a_start_of_care_today_is_fine(fixed_today: date, p014: Cli) -> None:
    p014.ok("patient", "add", "P030", "--since", "today")
    p014.ok("session", "add", "P030", *RATED)
    shown = json.loads(p014.ok("patient", "show", "P030", "-f", "json").stdout)
    assert shown["patient"]["since"] == "2026-12-02"


# --------------------------------------------------------------------------- backfilling


def one(cli: Cli, statement: str) -> tuple[object, ...]:
    (row,) = cli.sql(statement)
    return row


def test_goals_entered_later_keep_their_dates(fixed_today: date, p014: Cli) -> None:
    p014.ok("goal", "add", "P014", "Sleep 7 hours", "--date", "2026-11-03")
    assert as_text(one(p014, "SELECT created FROM goal WHERE id = 2")[0]) == "2026-11-03"
    p014.ok("goal", "status", "2", "achieved", "--note", "most nights", "--date", "2026-11-18")
    review = one(p014, "SELECT date, status FROM goal_review WHERE goal_id = 2")
    assert (as_text(review[0]), review[1]) == ("2026-11-18", "achieved")
    # The weekly summary lists the review in the week it happened, not the week typed.
    week = ("summary", "--since", "2026-11-16", "--until", "2026-11-22", "-f", "json")
    reviewed = json.loads(p014.ok(*week).stdout)["goals_reviewed"]
    assert [(g["date"], g["status"]) for g in reviewed] == [("2026-11-18", "achieved")]
    this_week = ("summary", "--since", "2026-11-30", "--until", "2026-12-02", "-f", "json")
    assert json.loads(p014.ok(*this_week).stdout)["goals_reviewed"] == []
    # A goal entered with the wrong day is corrected with `goal edit --date`.
    p014.ok("goal", "edit", "1", "--date", "yesterday")
    assert as_text(one(p014, "SELECT created FROM goal WHERE id = 1")[0]) == "2026-12-01"
    listed = json.loads(p014.ok("goal", "list", "P014", "--all", "-f", "json").stdout)
    assert [g["created"] for g in listed] == ["2026-12-01", "2026-11-03"]


def test_goal_and_task_dates_default_to_today(fixed_today: date, p014: Cli) -> None:
    p014.ok("goal", "add", "P014", "Walk daily")
    p014.ok("goal", "status", "2", "dropped")
    p014.ok("task", "add", "P014", "Step count")
    p014.ok("task", "status", "2", "dropped")
    assert as_text(one(p014, "SELECT created FROM goal WHERE id = 2")[0]) == "2026-12-02"
    assert as_text(one(p014, "SELECT date FROM goal_review WHERE goal_id = 2")[0]) == "2026-12-02"
    task = one(p014, "SELECT created, status, status_changed FROM task WHERE id = 2")
    assert (as_text(task[0]), task[1], as_text(task[2])) == ("2026-12-02", "dropped", "2026-12-02")


def test_tasks_entered_later_keep_their_dates(fixed_today: date, p014: Cli) -> None:
    p014.ok("task", "add", "P014", "Sleep diary", "--goal", "1", "--date", "2026-11-04")
    p014.ok("task", "review", "2", "--adherence", "partly", "--date", "2026-11-11")
    p014.ok("task", "status", "2", "completed", "--date", "2026-11-25")
    task = one(p014, "SELECT created, status, status_changed FROM task WHERE id = 2")
    assert (as_text(task[0]), task[1], as_text(task[2])) == (
        "2026-11-04",
        "completed",
        "2026-11-25",
    )
    p014.ok("task", "status", "2", "active", "--date", "2026-11-26")  # reopened
    p014.ok("task", "edit", "2", "--date", "2026-11-03")  # agreed a day earlier
    listed = json.loads(p014.ok("task", "list", "P014", "-f", "json").stdout)
    diary = next(t for t in listed if t["id"] == 2)
    assert (diary["created"], diary["status"], diary["status_changed"]) == (
        "2026-11-03",
        "active",
        "2026-11-26",
    )
    exported = json.loads(p014.ok("export", "P014", "--format", "json").stdout)
    (patient,) = exported["patients"]
    assert any(t.get("status_changed") == "2026-11-26" for t in patient["tasks"])


@pytest.fixture
def backfilled(fixed_today: date, p014: Cli) -> Cli:
    """P014 (since 2026-01-01) with goal 2 set on 2026-11-02 and reviewed on 2026-11-16,
    and task 2 agreed on 2026-11-02 and completed on 2026-11-16."""
    p014.ok("goal", "add", "P014", "Sleep 7 hours", "--date", "2026-11-02")
    p014.ok("goal", "status", "2", "achieved", "--date", "2026-11-16")
    p014.ok("task", "add", "P014", "Sleep diary", "--date", "2026-11-02")
    p014.ok("task", "status", "2", "completed", "--date", "2026-11-16")
    return p014


TOMORROW = "2026-12-03"  # fixed_today is 2026-12-02

REFUSED_DATES = [
    (("goal", "add", "P014", "Run", "--date", TOMORROW), ("goal date", "in the future")),
    (("goal", "add", "P014", "Run", "--date", "2025-12-31"), ("before the start of care",)),
    (("goal", "add", "P014", "Run", "--date", "02/11/2026"), ("--date", "not a date")),
    (("goal", "status", "2", "dropped", "--date", TOMORROW), ("review date", "in the future")),
    (("goal", "status", "2", "active", "--date", "2026-11-01"), ("before goal 2 was set",)),
    (("goal", "status", "2", "active", "--date", "2026-11-15"), ("before the latest review",)),
    (("goal", "edit", "2", "--date", TOMORROW), ("goal date", "in the future")),
    (("goal", "edit", "2", "--date", "2026-11-17"), ("after the first review of goal 2",)),
    (("goal", "edit", "2", "--date", "2025-12-01"), ("before the start of care",)),
    (("task", "add", "P014", "Walk", "--date", TOMORROW), ("task date", "in the future")),
    (("task", "add", "P014", "Walk", "--date", "2025-12-31"), ("before the start of care",)),
    (("task", "status", "2", "active", "--date", TOMORROW), ("status date", "in the future")),
    (("task", "status", "2", "active", "--date", "2026-11-01"), ("before task 2 was agreed",)),
    (("task", "status", "2", "dropped", "--date", "2026-11-15"), ("before the last status",)),
    (("task", "edit", "2", "--date", "2026-11-17"), ("after the first review or status",)),
    (("task", "edit", "2", "--date", TOMORROW), ("task date", "in the future")),
    (("task", "edit", "2", "--date", "someday"), ("--date", "not a date")),
]


@pytest.mark.parametrize(
    ("args", "needles"), REFUSED_DATES, ids=[" ".join(a[:2] + a[-1:]) for a, _ in REFUSED_DATES]
)
def test_backfilled_dates_follow_the_session_date_rules(
    backfilled: Cli, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    assert_refused(backfilled, args, needles)


def test_refused_dates_name_no_stored_text(backfilled: Cli) -> None:
    """The goal's and task's wording never appears in the error (only ids and dates)."""
    for args in (
        ("goal", "status", "2", "active", "--date", "2026-11-01"),
        ("task", "status", "2", "active", "--date", "2026-11-01"),
    ):
        line = error_line_of(backfilled(*args))
        assert "Sleep" not in line, line


def test_yesterday_and_iso_dates_work_everywhere(fixed_today: date, p014: Cli) -> None:
    yesterday = (fixed_today - timedelta(days=1)).isoformat()
    p014.ok("goal", "add", "P014", "Walk daily", "--date", "yesterday")
    p014.ok("task", "add", "P014", "Step count", "--date", yesterday)
    p014.ok("goal", "status", "2", "achieved", "--date", "today")
    p014.ok("task", "status", "2", "completed", "--date", "yesterday")
    goal = one(p014, "SELECT created FROM goal WHERE id = 2")
    task = one(p014, "SELECT created, status_changed FROM task WHERE id = 2")
    assert as_text(goal[0]) == yesterday
    assert (as_text(task[0]), as_text(task[1])) == (yesterday, yesterday)
