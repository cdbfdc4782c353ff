"""Bad input is refused cleanly: exit code, one `error:` line, no traceback, database untouched.

Every refused command runs against a prepared clinic database (the `p014` example plus a
second patient) and is checked the same way by `assert_refused`:

* exit code 1 (2 for genuine command-line usage errors, which Click reports itself);
* stderr is exactly one non-empty line starting with `error:` and naming the problem;
* nothing on stdout, no "Traceback" anywhere, no exception other than SystemExit escaped;
* the SQL dump of the database and the bytes of the database file are unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import FIXED_TODAY, Cli, Snapshots

REPO_ROOT = Path(__file__).resolve().parents[1]
TOMORROW = (FIXED_TODAY + timedelta(days=1)).isoformat()  # test_future_or_before_care_date
RATED = ("--bond", "7", "--goal", "7", "--task", "7")  # a complete, valid rating set
FREE_DAY = "2026-03-03"  # no P014 rating stored on this day (the fixture uses 2026-02-02)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def clinic(p014: Cli, snapshots: Snapshots) -> Cli:
    """P014 (since 2026-01-01) with goal 1, task 1, sessions 1 (patient) and 2 (therapist),
    both on 2026-02-02; and P020 (since 2026-03-01) with goal 2. (Made by these commands
    once per test process and day, then copied: `Snapshots` in conftest.py.)"""
    snapshots.give(p014, "bad-input clinic", add_p020)
    # Sanity: the ids the cases below rely on.
    assert [(row[0], row[1]) for row in p014.rows("patient")] == [(1, "P014"), (2, "P020")]
    assert [row[0] for row in p014.rows("goal")] == [1, 2]
    assert [row[0] for row in p014.rows("task")] == [1]
    assert [row[0] for row in p014.rows("session_rating")] == [1, 2]
    return p014


def add_p020(p014: Cli) -> None:
    p014.ok("patient", "add", "P020", "--since", "2026-03-01")
    p014.ok("goal", "add", "P020", "Sleep through the night")
    p014.ok("session", "add", "P014", "--date", "2026-02-02", "--rater", "therapist", *RATED)


# --------------------------------------------------------------------------- helpers

Args = tuple[str, ...]
Needles = tuple[str, ...]


def snapshot(cli: Cli) -> tuple[list[str], bytes]:
    return cli.dump(), cli.db_path.read_bytes() if cli.is_sqlite else b""


def describe(result: Result) -> str:
    return f"exit={result.exit_code}\nstdout={result.stdout!r}\nstderr={result.stderr!r}"


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout, describe(result)
    assert "Traceback" not in result.stderr, describe(result)
    # Only the SystemExit of a normal exit may escape the command, nothing else.
    assert result.exception is None or isinstance(result.exception, SystemExit), describe(result)


def error_line_of(result: Result) -> str:
    """The single `error: ...` line on stderr (fails unless there is exactly one)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, describe(result)
    assert result.stderr == lines[0] + "\n", describe(result)
    line = lines[0]
    assert line.startswith("error: "), describe(result)
    assert line[len("error: ") :].strip(), describe(result)
    return line


def assert_refused(
    cli: Cli, args: tuple[str, ...], needles: tuple[str, ...], input: str | None = None
) -> Result:
    """Run a bad command; check exit 1, one error line naming it, no traceback, db unchanged."""
    before = snapshot(cli)
    result = cli(*args, input=input)
    assert result.exit_code == 1, describe(result)
    line = error_line_of(result)
    for needle in needles:
        assert needle in line, (needle, line)
    assert result.stdout == "", describe(result)
    assert_no_traceback(result)
    dump, raw = snapshot(cli)
    assert dump == before[0], "database rows changed"
    assert raw == before[1], "database file bytes changed"
    return result


def case(*args: str, needles: tuple[str, ...] | str, id: str, input: str | None = None) -> Any:
    """One bad command, the text its error line must contain, and optional piped stdin."""
    return pytest.param(args, (needles,) if isinstance(needles, str) else needles, input, id=id)


# --------------------------------------------------------------------------- the cases

UNKNOWN_PATIENT = [
    case("session", "add", "NOPE", *RATED, needles="unknown patient 'NOPE'", id="session-add"),
    case("rate", "NOPE", *RATED, needles="unknown patient 'NOPE'", id="rate"),
    case("session", "list", "NOPE", needles="unknown patient 'NOPE'", id="session-list"),
    case("goal", "add", "NOPE", "Walk", needles="unknown patient 'NOPE'", id="goal-add"),
    case("goal", "list", "NOPE", needles="unknown patient 'NOPE'", id="goal-list"),
    case("task", "add", "NOPE", "Stretch", needles="unknown patient 'NOPE'", id="task-add"),
    case("task", "list", "NOPE", needles="unknown patient 'NOPE'", id="task-list"),
    case("patient", "show", "NOPE", needles="unknown patient 'NOPE'", id="patient-show"),
    case("patient", "edit", "NOPE", "--note", "x", needles="unknown patient", id="patient-edit"),
    case(
        "patient",
        "discharge",
        "NOPE",
        "--ending",
        "mutual",
        needles="unknown patient 'NOPE'",
        id="discharge",
    ),
    case("patient", "reactivate", "NOPE", needles="unknown patient 'NOPE'", id="reactivate"),
    case("patient", "delete", "NOPE", "--yes", needles="unknown patient", id="delete-yes"),
    case("patient", "delete", "NOPE", needles="unknown patient 'NOPE'", id="delete-no-yes"),
    # A near miss gets a suggestion, still on the one line.
    case("session", "list", "P014x", needles=("unknown patient", "did you mean P014"), id="typo"),
]

DUPLICATE_OR_CONFLICT = [
    case("patient", "add", "P014", needles="patient 'P014' already exists", id="add-duplicate"),
    case(
        "patient",
        "add",
        "P014",
        "--since",
        "2026-05-05",
        "--note",
        "new",
        needles="already exists",
        id="add-duplicate-with-details",
    ),
    case("patient", "edit", "P020", "--code", "P014", needles="already exists", id="rename-taken"),
    case("patient", "reactivate", "P014", needles="already active", id="reactivate-active"),
    case("goal", "status", "1", "active", needles="goal 1 is already active", id="goal-same"),
    # A second rating set for the same patient + rater + date.
    case(
        "session",
        "add",
        "P014",
        "--date",
        "2026-02-02",
        *RATED,
        needles=("already has a patient rating on 2026-02-02", "session 1"),
        id="second-patient-rating",
    ),
    case(
        "rate",
        "P014",
        "--date",
        "2026-02-02",
        "--rater",
        "therapist",
        *RATED,
        needles=("already has a therapist rating on 2026-02-02", "session 2"),
        id="second-therapist-rating",
    ),
    case(
        "session",
        "edit",
        "2",
        "--rater",
        "patient",
        needles="already has a patient rating on 2026-02-02",
        id="edit-into-taken-slot",
    ),
]

# (value, what the message says) for each rejected rating.
BAD_RATINGS = [
    ("11", "out of range"),
    ("-1", "out of range"),
    ("10.1", "out of range"),
    ("-0.1", "out of range"),
    ("1000000", "out of range"),
    ("abc", "is not a number"),
    ("nan", "is not a number"),
    ("NaN", "is not a number"),
    ("inf", "is not a number"),
    ("-inf", "is not a number"),
    ("Infinity", "is not a number"),
    ("7,5", "is not a number"),
    ("", "is not a number"),
    ("7.25", "too many decimals"),
    ("0.05", "too many decimals"),
    ("9.99", "too many decimals"),
]
DIMENSIONS = ("bond", "goal", "task")

RATINGS = [
    case(
        "session",
        "add",
        "P014",
        "--date",
        FREE_DAY,
        *RATED,
        f"--{DIMENSIONS[i % 3]}",  # the last --bond/--goal/--task given wins
        value,
        needles=(f"{DIMENSIONS[i % 3]} rating", says),
        id=f"add-{DIMENSIONS[i % 3]}={value or 'empty'}",
    )
    for i, (value, says) in enumerate(BAD_RATINGS)
] + [
    case(
        "session",
        "edit",
        "1",
        f"--{DIMENSIONS[i % 3]}",
        value,
        needles=(f"{DIMENSIONS[i % 3]} rating", says),
        id=f"edit-{DIMENSIONS[i % 3]}={value or 'empty'}",
    )
    for i, (value, says) in enumerate(BAD_RATINGS)
]

UNKNOWN_IDS = [
    case("goal", "status", "99", "achieved", needles="unknown goal 99", id="goal-status"),
    case("goal", "edit", "99", "--text", "x", needles="unknown goal 99", id="goal-edit"),
    case(
        "task", "review", "99", "--adherence", "done", needles="unknown task 99", id="task-review"
    ),
    case("task", "status", "99", "completed", needles="unknown task 99", id="task-status"),
    case("task", "edit", "99", "--text", "x", needles="unknown task 99", id="task-edit"),
    case(
        "task", "add", "P014", "Stretch", "--goal", "99", needles="unknown goal 99", id="task-goal"
    ),
    case("task", "edit", "1", "--goal", "99", needles="unknown goal 99", id="task-edit-goal"),
    case("session", "edit", "99", "--bond", "5", needles="unknown session 99", id="session-edit"),
    case("session", "delete", "99", "--yes", needles="unknown session 99", id="session-delete"),
    case("session", "delete", "99", needles="unknown session 99", id="session-delete-no-yes"),
    case("goal", "status", "0", "dropped", needles="unknown goal 0", id="goal-zero"),
    case("session", "edit", "--bond", "5", "--", "-1", needles="unknown session -1", id="neg-id"),
    # A goal of another patient (goal 2 belongs to P020).
    case(
        "task",
        "add",
        "P014",
        "Stretch",
        "--goal",
        "2",
        needles=("goal 2 belongs to another patient", "P014"),
        id="task-add-foreign-goal",
    ),
    case(
        "task",
        "edit",
        "1",
        "--goal",
        "2",
        needles="goal 2 belongs to another patient",
        id="task-edit-foreign-goal",
    ),
]

# Every command that takes a date, with the option that carries it.
DATED_COMMANDS = [
    (("session", "add", "P014", *RATED), "--date"),
    (("session", "edit", "1"), "--date"),
    (("task", "review", "1", "--adherence", "done"), "--date"),
    (("goal", "review", "1", "--gas", "0"), "--date"),
    (("patient", "discharge", "P014", "--ending", "mutual"), "--date"),
    (("patient", "add", "P030"), "--since"),
    (("patient", "edit", "P014"), "--since"),
    (("goal", "add", "P014", "Swim"), "--target"),
    (("goal", "edit", "1"), "--target"),
    (("task", "add", "P014", "Stretch"), "--due"),
    (("task", "edit", "1"), "--due"),
]
MALFORMED_DATES = ["2026-13-01", "27/11/2026", "tomorrow", "2026-02-30", "2026-2-3", "", "26-01-01"]

DATES = [
    case(
        *command,
        option,
        value,
        needles=(f"{option} {value!r} is not a date", "YYYY-MM-DD"),
        id=f"{'-'.join(command[:2])}{option}={value or 'empty'}",
    )
    for command, option in DATED_COMMANDS
    for value in MALFORMED_DATES
]

IMPOSSIBLE_DATES = [
    case(
        "session",
        "add",
        "P014",
        "--date",
        TOMORROW,
        *RATED,
        needles=f"session date {TOMORROW} is in the future",
        id="session-add-tomorrow",
    ),
    case(
        "session",
        "add",
        "P014",
        "--date",
        "2099-01-01",
        *RATED,
        needles="is in the future",
        id="session-add-2099",
    ),
    case(
        "session",
        "edit",
        "1",
        "--date",
        TOMORROW,
        needles="is in the future",
        id="session-edit-future",
    ),
    case(
        "task",
        "review",
        "1",
        "--adherence",
        "done",
        "--date",
        TOMORROW,
        needles="review date",
        id="task-review-future",
    ),
    case(
        "session",
        "add",
        "P014",
        "--date",
        "2025-12-31",
        *RATED,
        needles="session date 2025-12-31 is before the start of care (2026-01-01)",
        id="session-add-before-since",
    ),
    case(
        "session",
        "add",
        "P020",
        "--date",
        "2026-02-28",
        *RATED,
        needles="before the start of care (2026-03-01)",
        id="second-patient-before-since",
    ),
    case(
        "session",
        "edit",
        "1",
        "--date",
        "2025-12-31",
        needles="before the start of care",
        id="session-edit-before-since",
    ),
    # Moving the start of care after the first session (the edit is rolled back).
    case(
        "patient",
        "edit",
        "P014",
        "--since",
        "2026-03-01",
        "--note",
        "changed",
        needles="is after the first session (2026-02-02)",
        id="since-after-first-session",
    ),
    case(
        "patient",
        "discharge",
        "P014",
        "--ending",
        "mutual",
        "--date",
        "2025-12-31",
        needles="before the start of care",
        id="discharge-before-since",
    ),
]

EMPTY_OR_BAD_TEXT = [
    case("goal", "add", "P014", "", needles="goal text is empty", id="goal-text-empty"),
    case("goal", "add", "P014", "   ", needles="goal text is empty", id="goal-text-blank"),
    case("goal", "edit", "1", "--text", "", needles="goal text is empty", id="goal-edit-empty"),
    case("task", "add", "P014", "   ", needles="task text is empty", id="task-text-blank"),
    case("task", "add", "P014", "", needles="task text is empty", id="task-text-empty"),
    case("task", "edit", "1", "--text", "\t ", needles="task text is empty", id="task-edit-blank"),
    case("patient", "add", "", needles="patient code is empty", id="code-empty"),
    case("patient", "add", "   ", needles="patient code is empty", id="code-blank"),
    case("patient", "edit", "P014", "--code", "", needles="code is empty", id="rename-empty"),
    # Codes with whitespace, or too long.
    case("patient", "add", "P 14", needles="no spaces", id="code-space"),
    case("patient", "add", "P\t14", needles="no spaces", id="code-tab"),
    case("patient", "add", " P14", needles="no spaces", id="code-leading-space"),
    case("patient", "add", "P14\n", needles="no spaces", id="code-newline"),
    case("patient", "add", "P" * 65, needles="at most 64 characters", id="code-too-long"),
    case("patient", "edit", "P014", "--code", "P 15", needles="no spaces", id="rename-space"),
    # A NUL character in free text.
    case(
        "session",
        "add",
        "P014",
        "--date",
        FREE_DAY,
        *RATED,
        "--note",
        "felt\x00better",
        needles="note contains a NUL character",
        id="session-note-nul",
    ),
    case(
        "session", "edit", "1", "--note", "\x00", needles="note contains a NUL", id="edit-note-nul"
    ),
    case(
        "patient",
        "add",
        "P030",
        "--note",
        "a\x00b",
        needles="note contains a NUL",
        id="patient-note-nul",
    ),
    case(
        "patient",
        "edit",
        "P014",
        "--expectations",
        "run\x00",
        needles="expectations contains a NUL",
        id="expectations-nul",
    ),
    case(
        "goal",
        "status",
        "1",
        "achieved",
        "--note",
        "done\x00",
        needles="note contains a NUL",
        id="goal-note-nul",
    ),
    case(
        "patient",
        "discharge",
        "P014",
        "--ending",
        "mutual",
        "--reason",
        "\x00",
        needles="reason contains a NUL",
        id="discharge-reason-nul",
    ),
    case("goal", "add", "P014", "Run\x00", needles="goal text contains a NUL", id="goal-text-nul"),
    case("patient", "add", "P\x0014", needles="contains a NUL", id="code-nul"),
]

NO_TERMINAL = [
    # Irreversible commands need --yes when stdin is not a terminal, even if input is piped.
    case("patient", "delete", "P014", needles=("refusing to erase P014", "--yes"), id="patient"),
    case(
        "patient",
        "delete",
        "P014",
        needles="refusing to erase",
        input="y\n",
        id="patient-piped-yes",
    ),
    case("session", "delete", "1", needles=("refusing to delete session 1", "--yes"), id="session"),
    case("session", "delete", "1", needles="refusing", input="y\n", id="session-piped-yes"),
    # Ratings cannot be asked for without a terminal.
    case(
        "session",
        "add",
        "P014",
        "--date",
        FREE_DAY,
        needles=("missing rating --bond, --goal, --task", "not a terminal"),
        id="add-no-ratings",
    ),
    case(
        "session",
        "add",
        "P014",
        "--date",
        FREE_DAY,
        "--bond",
        "7",
        needles="missing rating --goal, --task",
        input="7\n7\n",
        id="add-two-missing-piped",
    ),
    case(
        "rate",
        "P014",
        "--date",
        FREE_DAY,
        "--bond",
        "7",
        "--goal",
        "7",
        needles="missing rating --task",
        id="rate-task-missing",
    ),
]

NOTHING_TO_CHANGE = [
    case("patient", "edit", "P014", needles="nothing to change", id="patient-edit"),
    case("session", "edit", "1", needles="nothing to change", id="session-edit"),
    case("goal", "edit", "1", needles="nothing to change", id="goal-edit"),
    case("task", "edit", "1", needles="nothing to change", id="task-edit"),
]


@pytest.mark.parametrize(("args", "needles", "input"), UNKNOWN_PATIENT)
def test_unknown_patient(clinic: Cli, args: Args, needles: Needles, input: str | None) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), DUPLICATE_OR_CONFLICT)
def test_duplicate_or_conflict(
    clinic: Cli, args: Args, needles: Needles, input: str | None
) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), RATINGS)
def test_bad_rating(clinic: Cli, args: Args, needles: Needles, input: str | None) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), UNKNOWN_IDS)
def test_unknown_or_foreign_id(
    clinic: Cli, args: Args, needles: Needles, input: str | None
) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), DATES)
def test_malformed_date(clinic: Cli, args: Args, needles: Needles, input: str | None) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), IMPOSSIBLE_DATES)
def test_future_or_before_care_date(
    fixed_today: date, clinic: Cli, args: Args, needles: Needles, input: str | None
) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), EMPTY_OR_BAD_TEXT)
def test_empty_or_unsafe_text(clinic: Cli, args: Args, needles: Needles, input: str | None) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), NO_TERMINAL)
def test_refused_without_terminal(
    clinic: Cli, args: Args, needles: Needles, input: str | None
) -> None:
    assert_refused(clinic, args, needles, input)


@pytest.mark.parametrize(("args", "needles", "input"), NOTHING_TO_CHANGE)
def test_nothing_to_change(clinic: Cli, args: Args, needles: Needles, input: str | None) -> None:
    assert_refused(clinic, args, needles, input)


def test_the_good_versions_of_these_commands_do_change_the_database(clinic: Cli) -> None:
    """Guard against vacuous passes: the same commands, well-formed, are accepted."""
    before = clinic.dump()
    clinic.ok("session", "add", "P014", "--date", FREE_DAY, *RATED, "--note", "felt better")
    clinic.ok("task", "add", "P014", "Stretch", "--goal", "1", "--due", "2026-12-24")
    clinic.ok("goal", "add", "P014", "Swim", "--target", "2027-06-01")
    clinic.ok("patient", "add", "P030", "--since", "2026-05-05")
    clinic.ok("session", "delete", "2", "--yes")
    assert clinic.dump() != before
    assert len(clinic.rows("session_rating")) == 2
    assert [row[1] for row in clinic.rows("patient")] == ["P014", "P020", "P030"]


# --------------------------------------------------------------------------- usage errors (2)

USAGE_ERRORS = [
    pytest.param(("goal", "status", "abc", "achieved"), id="goal-id-not-int"),
    pytest.param(("task", "review", "abc", "--adherence", "done"), id="task-id-not-int"),
    pytest.param(("session", "delete", "one", "--yes"), id="session-id-not-int"),
    pytest.param(("session", "edit", "1.5", "--bond", "5"), id="session-id-float"),
    pytest.param(("task", "add", "P014", "Stretch", "--goal", "x"), id="goal-option-not-int"),
    pytest.param(("session", "add", "P014", *RATED, "--mood", "5"), id="unknown-option"),
    pytest.param(("session", "add", "P014", *RATED, "--rater", "robot"), id="bad-rater-choice"),
    pytest.param(("goal", "status", "1", "finished"), id="bad-status-choice"),
    pytest.param(("goal", "add", "P014"), id="missing-argument"),
    pytest.param(("task", "review", "1"), id="missing-required-option"),
    pytest.param(("patient", "show", "P014", "--recent", "0"), id="recent-below-min"),
    pytest.param(("patient", "frobnicate"), id="unknown-command"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_usage_error(clinic: Cli, args: tuple[str, ...]) -> None:
    before = snapshot(clinic)
    result = clinic(*args)
    assert result.exit_code == 2, describe(result)
    assert "Error:" in result.stderr, describe(result)
    assert result.stdout == "", describe(result)
    assert_no_traceback(result)
    assert snapshot(clinic) == before


# --------------------------------------------------------------------------- real processes


def run_process(cli: Cli, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "alliance_cli", "--db", cli.db, *args],
        env=env,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        pytest.param(("session", "list", "NOPE"), "unknown patient 'NOPE'", id="unknown-patient"),
        pytest.param(
            ("session", "add", "P014", "--date", FREE_DAY, "--bond", "11", "--goal", "7"),
            "bond rating is 11, out of range",
            id="rating-out-of-range",
        ),
        pytest.param(("patient", "delete", "P014"), "refusing to erase P014", id="delete-no-yes"),
    ],
)
def test_real_process_gives_the_same_one_line_error(
    clinic: Cli, args: tuple[str, ...], needle: str
) -> None:
    before = snapshot(clinic)
    proc = run_process(clinic, *args)
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and needle in lines[0], proc.stderr
    assert snapshot(clinic) == before
    # Exactly what the in-process runner shows.
    in_process = clinic(*args)
    assert (in_process.exit_code, in_process.stderr) == (proc.returncode, proc.stderr)


def test_real_process_usage_error_exits_2(clinic: Cli) -> None:
    before = snapshot(clinic)
    proc = run_process(clinic, "goal", "status", "abc", "achieved")
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Error:" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(clinic) == before


# --------------------------------------------------------------------------- internal errors

SENTINEL = "SENTINEL-7f3a"


def _explode(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(f"boom {SENTINEL} P014 private note")


def test_internal_error_is_one_line_without_details(
    clinic: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("alliance_cli.services.care.sessions.list_sessions", _explode)
    before = snapshot(clinic)
    result = clinic("session", "list", "P014")
    assert result.exit_code == 5, describe(result)
    line = error_line_of(result)
    assert "internal error" in line
    assert "RuntimeError" in line and "--debug" in line
    assert SENTINEL not in result.stdout + result.stderr
    assert "private note" not in result.stdout + result.stderr
    assert_no_traceback(result)
    assert snapshot(clinic) == before


def test_internal_error_during_a_write_rolls_back(
    clinic: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row is already flushed when the failure happens; the message says the database
    was left as it was, so the transaction must have been rolled back."""
    monkeypatch.setattr("alliance_cli.services.care.sessions.score_changes", _explode)
    before = snapshot(clinic)
    result = clinic("session", "add", "P014", "--date", FREE_DAY, *RATED)
    assert result.exit_code == 5, describe(result)
    line = error_line_of(result)
    assert "internal error" in line and "left as it was" in line
    assert SENTINEL not in result.stdout + result.stderr
    assert_no_traceback(result)
    assert snapshot(clinic) == before


def test_debug_lets_the_internal_error_propagate(
    clinic: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("alliance_cli.services.care.sessions.list_sessions", _explode)
    result = clinic("--debug", "session", "list", "P014")
    assert isinstance(result.exception, RuntimeError), describe(result)
    assert SENTINEL in str(result.exception)
    assert result.exit_code != 0
    assert "internal error" not in result.stderr
