"""Trust under attack: hostile input, a broken environment, no leaks, private files.

Everything goes through the real command line (Typer's CliRunner in-process, or a real
`python -m alliance_cli` process where the operating system has to take part):

4. Hostile input, property-based (on SQLite and, with a server, PostgreSQL): random
   codes, names, notes, goal and task text (bidi marks, NUL, 25,000 characters, Rich
   markup, ANSI CSI/OSC, C1, Markdown/HTML, CSV formulas, SQL), random numbers and dates.
   Never a traceback; exit 0, 1 or 2; accepted text is stored exactly; NUL and non-UTF-8
   bytes are always refused; nothing a terminal would interpret reaches the output (usage
   errors included); the database stays consistent.
5. Broken environment: not-SQLite files, a truncated or foreign database, read-only
   file/directory/URI, a missing directory, a lock held past the busy timeout, a full
   disk. One `error:` line, a documented non-zero exit code, no traceback, and the
   user's file byte-for-byte unchanged.
6. No leaks: a corrupted row makes commands fail; the patient data next to it never
   appears in any output without `--debug`, and SQL parameters are never shown.
7. Files: every file alliance creates is 0600 and its data directory 0700, even when
   started with a permissive umask.

Root (as in CI containers) ignores file modes; the read-only tests then run the command
in a process without the DAC-override capabilities (`setpriv`), and are skipped with a
reason when that is not possible.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import random
import re
import select
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from typer.testing import Result

from tests import backends
from tests.conftest import FIXED_TODAY, Cli, Snapshots

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself

REPO_ROOT = Path(__file__).resolve().parents[1]
TODAY = FIXED_TODAY  # "today" of the property tests (the `fresh` fixture fixes the day)
MAX_TEXT = 20_000  # alliance_cli.domain.text.MAX_TEXT_LENGTH
SINCE = date(2026, 1, 1)  # start of care of the p014 fixture
SQLITE_MAGIC = b"SQLite format 3\x00"
RATED = ("--bond", "7", "--goal", "7", "--task", "7")

# ------------------------------------------------------------------ what must not leak

C0_BUT_TAB_NEWLINE = frozenset(chr(i) for i in range(0x20)) - {"\t", "\n"}
C1 = frozenset(chr(i) for i in range(0x80, 0xA0))
BIDI_CONTROLS = frozenset(chr(i) for i in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
TERMINAL_UNSAFE = C0_BUT_TAB_NEWLINE | {"\x7f"} | C1 | BIDI_CONTROLS
ESCAPED = TERMINAL_UNSAFE | {"\t", "\n"}


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile text is checked as shown, whole: tables may not fold it (COLUMNS)."""
    monkeypatch.setenv("COLUMNS", "100000")


def raw_controls(text: str) -> list[str]:
    """Characters a terminal would interpret (ESC, BEL, CSI, bidi overrides...)."""
    return sorted({ch for ch in text if ch in TERMINAL_UNSAFE})


def shown(text: str, *, keep_newlines: bool) -> str:
    """The documented visible form of typed text: `\\x1b`, `\\u202e`, `\\n`, `\\t`."""
    out = []
    for ch in text:
        if keep_newlines and ch in "\t\n":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch in ESCAPED:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------ result checks


def describe(result: Result | subprocess.CompletedProcess[str]) -> str:
    if isinstance(result, subprocess.CompletedProcess):
        code, out, err = result.returncode, result.stdout, result.stderr
    else:
        code, out, err = result.exit_code, result.stdout, result.stderr
    return f"exit={code}\nstdout={out[-2000:]!r}\nstderr={err[-2000:]!r}"


def assert_no_traceback(result: Result) -> None:
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr, describe(result)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception),
        describe(result),
    )


def assert_clean(result: Result, codes: frozenset[int] = frozenset({0, 1, 2})) -> None:
    """No traceback, an expected exit code, and nothing a terminal would interpret."""
    assert_no_traceback(result)
    assert result.exit_code in codes, describe(result)
    assert raw_controls(result.stdout) == [], describe(result)
    assert raw_controls(result.stderr) == [], describe(result)


def error_line(stderr: str) -> str:
    """The single `error: ...` line (fails unless stderr is exactly one such line)."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert stderr == lines[0] + "\n", stderr
    assert lines[0].startswith("error: ") and lines[0][7:].strip(), stderr
    return lines[0]


def check_outcome(result: Result, problems: list[str], maybe: list[str]) -> bool:
    """Accepted (True) or refused (False) exactly as the typed values call for.

    `problems` are message fragments of which one must refuse the command; `maybe` are
    leniencies (e.g. `2026-W05-1` as a date) that may or may not refuse it.
    """
    assert_clean(result, frozenset({0, 1}))
    if problems or result.exit_code == 1:
        assert result.exit_code == 1, (problems, describe(result))
        line = error_line(result.stderr)
        assert any(fragment in line for fragment in problems + maybe), (problems, maybe, line)
        assert result.stdout == "", describe(result)
        event("refused")
        return False
    event("accepted")
    return True


def assert_consistent(db_path: Path | Cli) -> None:
    if isinstance(db_path, Cli):
        if not db_path.is_sqlite:  # PostgreSQL checks its constraints on every write
            orphans = db_path.sql(
                "SELECT s.id FROM session_rating s LEFT JOIN patient p ON p.id = s.patient_id "
                "WHERE p.id IS NULL"
            )
            assert orphans == []
            return
        db_path = db_path.db_path
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()


def query(db_path: Path | Cli, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Rows read with the driver directly; dates as ISO text, as SQLite stores them."""
    if isinstance(db_path, Cli):
        if not db_path.is_sqlite:
            with backends.connect(db_path.db) as conn:
                rows = conn.execute(sql.replace("?", "%s"), params).fetchall()
            return [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
        db_path = db_path.db_path
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# ------------------------------------------------------------------ oracles


def text_problems(value: str, what: str, *, required: bool) -> list[str]:
    """Why alliance must refuse this free text (empty: it must store it exactly)."""
    problems = []
    if "\x00" in value:
        problems.append(f"{what} contains a NUL character")
    if any("\ud800" <= ch <= "\udfff" for ch in value):  # argv bytes that were not UTF-8
        problems.append(f"{what} is not valid UTF-8 text")
    if len(value) > MAX_TEXT:
        problems.append(f"{what} is longer than {MAX_TEXT} characters")
    if required and not value.strip():
        problems.append(f"{what} is empty")
    return problems


def stored_text(value: str) -> str | None:
    """Free text is stored exactly as typed; blank means none."""
    return value if value.strip() else None


ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def expected_date(text: str) -> tuple[date | None, bool]:
    """(the date alliance must store or None if it must refuse, whether refusing is OK too).

    Documented: `today`, `yesterday`, `YYYY-MM-DD`. Other forms Python can read (ISO week
    dates...) may be accepted or refused, but if accepted must mean what Python says.
    """
    value = text.strip().lower()
    if value == "today":
        return TODAY, False
    if value == "yesterday":
        return TODAY - timedelta(days=1), False
    try:
        parsed: date | None = date.fromisoformat(value)
    except ValueError:
        parsed = None
    return parsed, not ISO_DATE.fullmatch(value)


def date_problems(text: str) -> tuple[date | None, list[str], list[str]]:
    """(expected date, fragments that must refuse it, fragments that may)."""
    when, lenient = expected_date(text)
    if when is None:
        return None, ["is not a date"], []
    return when, [], (["is not a date"] if lenient else [])


def expected_rating(text: str) -> float | None:
    """`0`-`10`, at most one decimal (7.50 is 7.5); anything else is refused."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(10):
        return None
    if value != value.quantize(Decimal("0.1"), rounding=ROUND_DOWN):
        return None
    return float(value)


# ------------------------------------------------------------------ strategies

FRAGMENTS = [
    # Rich markup
    "[bold]",
    "[/]",
    "[/bold]",
    "[link=x]",
    "[link=https://evil.example]click[/link]",
    "[red on white]",
    "\\[bold]",
    # ANSI CSI / OSC / C1 / other controls
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[2J",
    "\x1b]0;t\x07",
    "\x1b]8;;https://evil.example\x1b\\",
    "\x9b",
    "\x9b2J",
    "\x07",
    "\x08",
    "\r",
    "\x7f",
    "\x85",
    "\x0b",
    # bidi and invisible characters
    "\u200f",
    "\u200e",
    "\u202e",
    "\u202a",
    "\u2066",
    "\u2069",
    "\u200b",
    "\ufeff",
    # Markdown / HTML
    "**bold**",
    "# heading",
    "<script>alert(1)</script>",
    "<b>",
    "&amp;",
    "`code`",
    "| a | b |",
    "[x](javascript:alert(1))",
    # CSV formulas
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1:A9)",
    "\t=cmd",
    # SQL and format strings
    "'); DROP TABLE patient;--",
    '" OR 1=1 --',
    "%s",
    "{0}",
    "{note}",
    "\\",
    "\\x1b",
    "NULL",
    # plain unicode and whitespace
    "\n",
    "\t",
    " ",
    "é",
    "字",
    "😀",
    "\u0301",
    "שלום",
]


def weighted(*choices: tuple[int, st.SearchStrategy[str]]) -> st.SearchStrategy[str]:
    """Pick a strategy by weight (st.one_of flattens nested one_ofs, which skews weights)."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda index: pool[index])


fragment = st.sampled_from(FRAGMENTS)
# Lone surrogates (how Python spells argv bytes that are not UTF-8) come only from
# `with_surrogate` below, never inside other text (Click's own messages echo those raw).
any_char = st.characters(exclude_categories=["Cs"])
any_but_nul = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=6
)
short_hostile = st.lists(st.one_of(fragment, fragment, any_but_nul), max_size=6).map("".join)


def _repeat(args: tuple[str, int]) -> str:
    piece, length = args
    piece = piece or "x"
    return (piece * (length // len(piece) + 1))[:length]


long_hostile = st.tuples(
    short_hostile,
    st.one_of(
        st.sampled_from([MAX_TEXT - 1, MAX_TEXT, MAX_TEXT + 1, 25_000]),
        st.integers(1_000, 25_000),
    ),
).map(_repeat)
with_nul = st.tuples(short_hostile, short_hostile).map(lambda pair: pair[0] + "\x00" + pair[1])
# How Python passes on argument bytes that are not UTF-8 (e.g. Latin-1 0xE9 -> U+DCE9).
with_surrogate = st.tuples(short_hostile, st.sampled_from(["\udce9", "\udcff", "\ud800"])).map(
    "".join
)
# Mostly text alliance must accept (hostile content, no NUL, not too long); 10% each with a
# NUL, with a lone surrogate, or long (around and beyond 20,000 characters, up to 25,000).
hostile_text = weighted((7, short_hostile), (1, with_nul), (1, with_surrogate), (1, long_hostile))

printable_code = st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S"]),
    min_size=1,
    max_size=12,
)
hostile_code = st.sampled_from(
    [
        "[bold]P1[/]",
        "[link=x]P2",
        "');DROP/**/TABLE/**/patient;--",
        "=1+1",
        "@SUM(A1)",
        "-P1",
        "--",
        "<b>P3</b>",
        "**P4**",
        "P%s{0}",
        "\\x1b[31m",
        "ＰＯ１４",
        "Pé字😀",
        "A" * 64,
    ]
)
bad_code = st.sampled_from(
    [
        "P\u200f14",
        "P\u202e41",
        "'); DROP TABLE patient;--",
        "P 1",
        "P1\x1b[31m",
        "\x9b",
        "P1\x07",
        "P\udcff",
        "A" * 65,
        "x" * 25_000,
        "",
        " ",
    ]
)
code_text = weighted(
    (3, printable_code),
    (3, hostile_code),
    (1, bad_code),
    (1, short_hostile),
    (1, with_nul),
    (1, st.text(alphabet=any_char, min_size=60, max_size=70)),
)

wild_date = st.one_of(
    st.sampled_from(
        [
            "tomorrow",
            "2026-02-30",
            "2026-13-01",
            "27/11/2026",
            "2026-2-3",
            "",
            " ",
            "2026-W05-1",
            "２０２６-０１-０１",
            "2026-01-01\x00",
            "2026-01-01T00:00",
            "20260101",
            "+2026-01-01",
            "2026-01-01'); DROP TABLE patient;--",
            "\x1b[31m2026-01-01",
            "\u202e2026-01-01",
            "nan",
            "x" * 25_000,
        ]
    ),
    st.text(alphabet=any_char, max_size=12),
)
good_date = st.one_of(
    st.dates().map(date.isoformat),  # 0001-01-01 .. 9999-12-31
    st.sampled_from(["today", "yesterday", " TODAY ", "Yesterday\t", "9999-12-31", "0001-01-01"]),
)
date_text = weighted((3, good_date), (1, wild_date))
session_date_text = weighted(
    (4, st.dates(min_value=SINCE, max_value=TODAY).map(date.isoformat)),
    (
        1,
        st.dates(min_value=date(2025, 12, 1), max_value=TODAY + timedelta(days=400)).map(
            date.isoformat
        ),
    ),
    (1, date_text),
)

good_rating = st.one_of(
    st.integers(0, 100).map(lambda n: str(Decimal(n) / 10)),  # 0, 0.1, ..., 10
    st.sampled_from(["7.50", "10.00", "-0", "1E+1", "0.5e1", " 7 ", "٧", "７", "1_0", "0.0"]),
)
wild_rating = st.one_of(
    st.floats().map(repr),  # nan, inf, -0.0, 1e+300, 5e-324 ...
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "nan",
            "NaN",
            "-nan",
            "sNaN",
            "inf",
            "-Infinity",
            "10.01",
            "-0.1",
            "7.25",
            "1E-999999999",
            "9" * 400,
            "0x7",
            "7,5",
            "7\x00",
            "",
            "=7",
            "7'); DROP TABLE patient;--",
            "\x1b[31m7",
        ]
    ),
    st.text(alphabet=any_char, max_size=8),
)
hundredths = st.integers(0, 1000).map(lambda n: str(Decimal(n) / 100))  # 7.25 no, 7.5 yes
rating_text = weighted((5, good_rating), (1, hundredths), (1, wild_rating))


def hostile(examples: int) -> Any:
    """Settings of the property tests (each example runs on a fresh copy of the database)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# =================================================================== 4. hostile input

FreshCopy = Callable[[], contextlib.AbstractContextManager[Cli]]


@pytest.fixture
def fresh(fixed_today: date, p014: Cli, tmp_path: Path) -> FreshCopy:
    """A new copy of the p014 database for each Hypothesis example: examples are independent
    and replayable, and shrinking never grows one shared database. (On PostgreSQL, a
    database made from p014's as a template.) Every example runs on the fixed day TODAY."""
    numbers = itertools.count()
    if not p014.is_sqlite:
        admin = backends.admin_url()
        assert admin is not None
        source = p014.db.rsplit("/", 1)[1]

        @contextlib.contextmanager
        def copy_pg() -> Iterator[Cli]:
            name = f"{source}_x{next(numbers)}"
            with backends.connect(admin) as conn:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
            try:
                yield Cli(backends.database_url(admin, name))
            finally:
                with backends.connect(admin) as conn:
                    conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

        return copy_pg
    template = p014.db_path.read_bytes()
    assert not Path(f"{p014.db_path}-wal").exists()

    @contextlib.contextmanager
    def copy() -> Iterator[Cli]:
        folder = tmp_path / f"example-{next(numbers)}"
        folder.mkdir()
        (folder / "alliance.db").write_bytes(template)
        try:
            yield Cli(folder / "alliance.db")
        finally:
            shutil.rmtree(folder)

    return copy


@pytest.mark.slow  # a long property run (a database copy per example)
@pytest.mark.both_backends
@hostile(40)
@given(code=code_text, name=hostile_text, note=hostile_text, since=date_text)
@example(code="'); DROP TABLE patient;--", name="[bold]x[/]", note="=1+1", since="today")
@example(code="P\u202e41", name="\x1b]0;t\x07", note="\x9b2J", since="2026-01-01")
@example(code="P99", name="n" * MAX_TEXT, note="\u200f" * (MAX_TEXT + 1), since="2099-12-31")
def test_patient_add_stores_hostile_text_exactly_and_shows_it_safely(
    fresh: FreshCopy, code: str, name: str, note: str, since: str
) -> None:
    with fresh() as p014:
        db = p014
        existing = {row[0] for row in query(db, "SELECT code FROM patient")}
        when, date_problem, date_maybe = date_problems(since)
        if when is not None and when > TODAY:  # a start of care ahead would refuse sessions
            date_problem = ["is in the future"]
        problems = text_problems(name, "name", required=False)
        problems += text_problems(note, "note", required=False)
        problems += date_problem
        code_problems = text_problems(code, "patient code", required=True)
        maybe = list(date_maybe)
        if not code_problems:
            if len(code) > 64 or any(ch.isspace() for ch in code):
                code_problems = ["at most 64 characters with no spaces"]
            elif raw_controls(code):
                code_problems = ["control characters"]
            elif not code.isprintable():  # e.g. U+200F: refusing it is fine, storing it too
                maybe.append("control characters")
        if code in existing and not problems + code_problems:
            # Make room so that most examples land (test_bad_input covers the duplicate); this
            # also erases a patient under a hostile code.
            erased = p014("patient", "delete", "--yes", "--", code)
            assert_clean(erased, frozenset({0}))
            existing.discard(code)
        if code in existing:
            maybe.append("already exists")
        problems += code_problems

        before = p014.dump()
        added = p014(
            "patient", "add", f"--name={name}", f"--note={note}", f"--since={since}", "--", code
        )
        if not check_outcome(added, problems, maybe):
            assert p014.dump() == before, "a refused patient add changed the database"
            assert_consistent(db)
            return

        (row,) = query(db, "SELECT name, note, since FROM patient WHERE code = ?", code)
        assert when is not None
        assert row[0] == stored_text(name)
        assert row[1] == stored_text(note)
        assert row[2] == when.isoformat()
        assert len(query(db, "SELECT id FROM patient")) == len(existing) + 1

        as_json = p014("patient", "show", "--format", "json", "--", code)
        assert_clean(as_json, frozenset({0}))
        profile = json.loads(as_json.stdout)["patient"]
        assert profile["code"] == code
        assert profile["name"] == stored_text(name)
        assert profile["note"] == stored_text(note)
        assert profile["since"] == when.isoformat()

        as_text = p014("patient", "show", "--", code)
        assert_clean(as_text, frozenset({0}))
        for value in (code, name, note):
            if not value.strip():
                continue  # blank: nothing stored, nothing shown
            for line in shown(value, keep_newlines=True).split("\n"):
                assert line in as_text.stdout, (line, as_text.stdout[:2000])

        table = p014("patient", "list")
        assert_clean(table, frozenset({0}))
        assert shown(code, keep_newlines=False) in table.stdout
        if name.strip():
            assert shown(name, keep_newlines=False).rstrip() in table.stdout
        listed = p014("patient", "list", "--format", "json")
        assert_clean(listed, frozenset({0}))
        by_code = {entry["code"]: entry for entry in json.loads(listed.stdout)}
        assert by_code[code]["name"] == stored_text(name)
        assert_consistent(db)


PROFILE_OPTIONS = [
    ("--name", "name", "name"),
    ("--note", "note", "note"),
    ("--expectations", "expectations", "expectations"),
    ("--beliefs", "beliefs", "beliefs"),
    ("--emotional-state", "emotional_state", "emotional state"),
    ("--social-context", "social_context", "social context"),
]


@pytest.mark.slow  # a long property run (a database copy per example)
@pytest.mark.both_backends
@hostile(40)
@given(option=st.sampled_from(PROFILE_OPTIONS), value=hostile_text)
@example(option=PROFILE_OPTIONS[1], value="[link=x]\x1b]8;;http://evil\x1b\\ok")
def test_patient_edit_stores_hostile_text_exactly(
    fresh: FreshCopy, option: tuple[str, str, str], value: str
) -> None:
    with fresh() as p014:
        flag, column, what = option
        db = p014
        before = p014.dump()
        edited = p014("patient", "edit", f"{flag}={value}", "--", "P014")
        if not check_outcome(edited, text_problems(value, what, required=False), []):
            assert p014.dump() == before
            return
        ((stored,),) = query(db, f"SELECT {column} FROM patient WHERE code = 'P014'")
        assert stored == stored_text(value)  # blank clears the field

        as_json = p014("patient", "show", "P014", "--format", "json")
        assert_clean(as_json, frozenset({0}))
        assert json.loads(as_json.stdout)["patient"][column] == stored_text(value)

        as_text = p014("patient", "show", "P014")
        assert_clean(as_text, frozenset({0}))
        if value.strip():
            for line in shown(value, keep_newlines=True).split("\n"):
                assert line in as_text.stdout
        assert_consistent(db)


@pytest.mark.slow  # a long property run (a database copy per example)
@pytest.mark.both_backends
@hostile(25)
@given(goal_text=hostile_text, task_text=hostile_text, target=date_text, due=date_text)
@example(goal_text="# Run\n<b>5 km</b>", task_text="=1+1", target="9999-12-31", due="today")
@example(goal_text="\x1b[31m", task_text="[/]", target="2026-W05-1", due="")
def test_goal_and_task_text_stored_exactly_and_listed_safely(
    fresh: FreshCopy, goal_text: str, task_text: str, target: str, due: str
) -> None:
    with fresh() as p014:
        db = p014
        target_date, target_problem, target_maybe = date_problems(target)
        before = p014.dump()
        goal = p014("goal", "add", f"--target={target}", "--", "P014", goal_text)
        goal_problems = text_problems(goal_text, "goal text", required=True) + target_problem
        goal_id = None
        if check_outcome(goal, goal_problems, target_maybe):
            goal_id = int(goal.stdout.strip())
            ((text, stored_target),) = query(
                db, "SELECT text, target FROM goal WHERE id = ?", goal_id
            )
            assert text == goal_text
            assert target_date is not None and stored_target == target_date.isoformat()
        else:
            assert p014.dump() == before

        due_date, due_problem, due_maybe = date_problems(due)
        goal_option = [f"--goal={goal_id}"] if goal_id else []
        before = p014.dump()
        task = p014("task", "add", *goal_option, f"--due={due}", "--", "P014", task_text)
        task_id = None
        task_problems = text_problems(task_text, "task text", required=True) + due_problem
        if check_outcome(task, task_problems, due_maybe):
            task_id = int(task.stdout.strip())
            ((text, stored_due, linked),) = query(
                db, "SELECT text, due, goal_id FROM task WHERE id = ?", task_id
            )
            assert text == task_text
            assert due_date is not None and stored_due == due_date.isoformat()
            assert linked == goal_id
        else:
            assert p014.dump() == before

        goals_json = p014("goal", "list", "P014", "--all", "--format", "json")
        assert_clean(goals_json, frozenset({0}))
        goals = {entry["id"]: entry for entry in json.loads(goals_json.stdout)}
        tasks_json = p014("task", "list", "P014", "--all", "--format", "json")
        assert_clean(tasks_json, frozenset({0}))
        tasks = {entry["id"]: entry for entry in json.loads(tasks_json.stdout)}
        goals_table = p014("goal", "list", "P014")
        assert_clean(goals_table, frozenset({0}))
        tasks_table = p014("task", "list", "P014")
        assert_clean(tasks_table, frozenset({0}))
        if goal_id is not None:
            assert goals[goal_id]["text"] == goal_text
            assert shown(goal_text, keep_newlines=False) in goals_table.stdout
        if task_id is not None:
            assert tasks[task_id]["text"] == task_text
            assert tasks[task_id]["goal_id"] == goal_id
            assert shown(task_text, keep_newlines=False) in tasks_table.stdout
        shown_patient = p014("patient", "show", "P014")
        assert_clean(shown_patient, frozenset({0}))
        assert_consistent(db)


@pytest.mark.slow  # a long property run (a database copy per example)
@pytest.mark.both_backends
@hostile(50)
@given(
    note=hostile_text,
    bond=rating_text,
    goal=rating_text,
    task=rating_text,
    when=session_date_text,
    rater=st.sampled_from(["patient", "therapist"]),
    rich=st.booleans(),
)
@example(
    note="\x1b]0;t\x07[bold]x[/]\u202e",
    bond="7.50",
    goal="-0",
    task="10",
    when="2026-03-03",
    rater="patient",
    rich=True,
)
@example(
    note="ok",
    bond="nan",
    goal="9.99",
    task="1E-999999999",
    when="2026-03-04",
    rater="therapist",
    rich=False,
)
@example(
    note="ok",
    bond="7",
    goal="7",
    task="7",
    when=(TODAY + timedelta(days=1)).isoformat(),
    rater="patient",
    rich=False,
)
def test_session_add_hostile_note_numbers_and_dates(
    fresh: FreshCopy,
    monkeypatch: pytest.MonkeyPatch,
    note: str,
    bond: str,
    goal: str,
    task: str,
    when: str,
    rater: str,
    rich: bool,
) -> None:
    with fresh() as p014:
        import alliance_cli.render.tables as tables

        db = p014
        session_date, problems, maybe = date_problems(when)
        problems += text_problems(note, "note", required=False)
        scores = {}
        for dimension, typed in (("bond", bond), ("goal", goal), ("task", task)):
            scores[dimension] = expected_rating(typed)
            if scores[dimension] is None:
                problems.append(f"{dimension} rating")
        if session_date is not None:
            taken = query(
                db,
                "SELECT id FROM session_rating WHERE patient_id = 1 AND date = ? AND rater = ?",
                session_date.isoformat(),
                rater,
            )
            if session_date > TODAY:
                problems.append("is in the future")
            elif session_date < SINCE:
                problems.append("before the start of care")
            elif taken:  # free the slot (test_bad_input covers the clash), so most examples land
                p014.ok("session", "delete", str(taken[0][0]), "--yes")

        with monkeypatch.context() as patch:
            if rich:  # draw tables with Rich, as on a terminal (colour stays off: not a tty)
                patch.setattr(tables, "wants_rich", lambda stream: True)
                patch.setenv("COLUMNS", "160")
            before = p014.dump()
            added = p014(
                "session",
                "add",
                f"--date={when}",
                f"--bond={bond}",
                f"--goal={goal}",
                f"--task={task}",
                f"--rater={rater}",
                f"--note={note}",
                "--",
                "P014",
            )
            accepted = check_outcome(added, problems, maybe)
            if not accepted:
                assert p014.dump() == before
            listed = p014("session", "list", "P014")
            assert_clean(listed, frozenset({0}))
            shown_patient = p014("patient", "show", "P014")
            assert_clean(shown_patient, frozenset({0}))
        listed_json = p014("session", "list", "P014", "--format", "json")
        assert_clean(listed_json, frozenset({0}))
        if accepted:
            assert session_date is not None
            ((session_id, b, g, t, stored_note),) = query(
                db,
                "SELECT id, bond, goal, task, note FROM session_rating "
                "WHERE patient_id = 1 AND date = ? AND rater = ?",
                session_date.isoformat(),
                rater,
            )
            assert (b, g, t) == (scores["bond"], scores["goal"], scores["task"])
            assert stored_note == stored_text(note)
            (entry,) = [s for s in json.loads(listed_json.stdout) if s["id"] == session_id]
            assert entry["note"] == stored_text(note)
            assert (entry["bond"], entry["goal"], entry["task"]) == (b, g, t)
            if note.strip() and not rich:
                assert shown(note, keep_newlines=False).rstrip() in listed.stdout
        assert_consistent(db)


TEXT_COMMANDS: list[Callable[[str], tuple[str, ...]]] = [
    lambda t: ("patient", "add", f"--name={t}", "P900"),
    lambda t: ("patient", "add", f"--beliefs={t}", "P901"),
    lambda t: ("patient", "add", "--", t),
    lambda t: ("patient", "edit", f"--social-context={t}", "P014"),
    lambda t: ("patient", "edit", f"--code={t}", "P014"),
    lambda t: ("patient", "discharge", f"--reason={t}", "--ending=other", "P014"),
    lambda t: ("goal", "add", "--", "P014", t),
    lambda t: ("goal", "edit", f"--text={t}", "1"),
    lambda t: ("goal", "status", f"--note={t}", "1", "achieved"),
    lambda t: ("task", "add", "--", "P014", t),
    lambda t: ("task", "edit", f"--text={t}", "1"),
    lambda t: ("session", "add", "--date=2026-03-03", *RATED, f"--note={t}", "P014"),
    lambda t: ("session", "edit", f"--note={t}", "1"),
]


@pytest.mark.slow  # a long property run (a database copy per example)
@pytest.mark.both_backends
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    command=st.sampled_from(TEXT_COMMANDS),
    before=short_hostile,
    after=short_hostile,
)
def test_nul_anywhere_is_refused_with_a_clear_message(
    fresh: FreshCopy, command: Callable[[str], tuple[str, ...]], before: str, after: str
) -> None:
    with fresh() as p014:
        snapshot = p014.dump()
        result = p014(*command(before + "\x00" + after))
        assert_clean(result, frozenset({1}))
        line = error_line(result.stderr)
        assert "contains a NUL character" in line, line
        assert result.stdout == ""
        assert p014.dump() == snapshot


@pytest.mark.slow  # a long property run
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=short_hostile.filter(lambda t: t.strip() != "" and t not in ("table", "json", "csv")))
@example(text="\x1b]0;pwned\x07\x1b[31mRED")
@example(text="\u202eevil\x9b2J")
def test_usage_errors_never_echo_raw_control_characters(text: str) -> None:
    """Click reports usage errors itself (exit 2); what it echoes must be inert too."""
    cli = Cli(Path("/nonexistent-alliance-dir/never-opened.db"))
    usage_errors = [
        ("goal", "add", "P014", "text", text),  # an extra argument
        ("patient", "list", f"--format={text}"),  # a bad choice
        ("goal", "status", text + "x", "achieved"),  # not an integer
        ("patient", "list", f"--zz{text}"),  # an unknown option
        (f"zz{text}",),  # an unknown command
    ]
    for args in usage_errors:
        result = cli(*args)
        assert_clean(result, frozenset({2}))
        assert "Error" in result.stderr, describe(result)
        assert result.stdout == ""


def test_blank_optional_text_on_add_is_stored_as_none(cli: Cli) -> None:
    """Blank means none (domain/text.py) and missing values are null in JSON (README)."""
    cli.db_path.parent.mkdir(parents=True)
    cli.ok("patient", "add", "P1", "--name", "   ", "--note", "\t", "--expectations", " ")
    ((name, note, expectations),) = query(
        cli.db_path, "SELECT name, note, expectations FROM patient"
    )
    shown_json = json.loads(cli.ok("patient", "show", "P1", "-f", "json").stdout)["patient"]
    assert (name, note, expectations) == (None, None, None), (name, note, expectations)
    assert shown_json["name"] is None and shown_json["note"] is None


NOT_UTF8_COMMANDS = [
    ("patient", "edit", "P014", "--name", "caf\udce9"),
    ("patient", "add", "P\udcff"),
    ("patient", "add", "P015", "--note", "r\udce9sum\udce9"),
    ("goal", "add", "P014", "run \udcff"),
    ("task", "add", "P014", "stretch \udcff"),
    ("session", "add", "P014", "--date", "2026-03-03", *RATED, "--note", "\udcff"),
    ("session", "list", "P\udcff"),
    ("patient", "show", "P\udcff"),
]


@pytest.mark.parametrize(
    "args",
    NOT_UTF8_COMMANDS,
    ids=[
        "edit-name",
        "add-code",
        "add-note",
        "goal-text",
        "task-text",
        "session-note",
        "list-code",
        "show-code",
    ],
)
def test_arguments_that_are_not_utf8_are_refused_cleanly(p014: Cli, args: tuple[str, ...]) -> None:
    """A Latin-1 terminal or script passes bytes such as 0xE9 ("é"); Python turns them into
    lone surrogates (\\udce9). They cannot be stored as UTF-8: bad input (exit 1), not an
    internal error."""
    before = p014.dump()
    result = p014(*args)
    assert_clean(result, frozenset({1}))
    error_line(result.stderr)
    assert p014.dump() == before


def test_a_latin1_argument_in_a_real_process_is_bad_input(p014: Cli) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    argv: list[str | bytes] = [sys.executable, "-m", "alliance_cli", "--db", str(p014.db_path)]
    argv += ["patient", "edit", "P014", "--name", b"Ren\xe9e"]  # "Renée" in Latin-1
    proc = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, (proc.returncode, stderr)
    assert "Traceback" not in stderr
    error_line(stderr)


# =================================================================== 5. broken environment


def directory_state(directory: Path) -> dict[str, str]:
    """Every file in a directory with a digest of its bytes: nothing written, nothing left."""
    return {
        p.name: f"{p.stat().st_size} bytes, sha256 {hashlib.sha256(p.read_bytes()).hexdigest()}"
        for p in sorted(directory.iterdir())
        if p.is_file()
    }


def make_clinic(db_path: Path) -> Cli:
    """A real alliance database (one patient, one session, a goal), closed cleanly."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    cli = Cli(db_path)
    cli.ok("patient", "add", "P1", "--since", "2026-01-01", "--name", "Ann")
    cli.ok("goal", "add", "P1", "Walk to the shop")
    cli.ok("session", "add", "P1", "--date", "2026-02-02", *RATED, "--note", "x" * 3000)
    cli.ok("session", "add", "P1", "--date", "2026-02-09", *RATED, "--note", "y" * 3000)
    assert not Path(f"{db_path}-wal").exists()
    return cli


def broken_commands(tmp_path: Path) -> list[tuple[str, ...]]:
    return [
        ("patient", "list"),
        ("patient", "add", "P2"),
        ("session", "add", "P1", "--date", "2026-03-03", *RATED),
        ("session", "list", "P1"),
        ("export", "--all", "--format", "json"),
        ("backup", str(tmp_path / "elsewhere" / "copy.db")),
        ("where",),
    ]


def assert_refused_as_storage_error(result: Result, *needles: str) -> str:
    assert_no_traceback(result)
    assert result.exit_code == 4, describe(result)
    line = error_line(result.stderr)
    assert any(needle in line for needle in needles), line
    assert result.stdout == "", describe(result)
    return line


NOT_SQLITE = "not a SQLite file"  # alliance looks at the header before SQLite opens it
DAMAGED = "damaged or not a SQLite database"  # SQLite's own verdict
BROKEN_FILES = {
    "random-bytes": (random.Random(1).randbytes(8192), NOT_SQLITE),
    "text-file": (b"my private notes\nsecond line\n", NOT_SQLITE),
    "zeros": (bytes(4096), NOT_SQLITE),
    "sqlite-magic-then-garbage": (SQLITE_MAGIC + random.Random(2).randbytes(8176), DAMAGED),
    "header-only": (SQLITE_MAGIC + b"\x10\x00", DAMAGED),
}


@pytest.mark.parametrize(("content", "says"), list(BROKEN_FILES.values()), ids=list(BROKEN_FILES))
def test_a_file_that_is_not_an_alliance_database_is_refused_and_untouched(
    tmp_path: Path, content: bytes, says: str
) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (tmp_path / "elsewhere").mkdir()
    target = clinic / "alliance.db"
    target.write_bytes(content)
    before = directory_state(clinic)
    for args in broken_commands(tmp_path):
        result = Cli(target)(*args)
        assert_refused_as_storage_error(result, says)
        assert directory_state(clinic) == before, args
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_truncated_database_is_refused_and_untouched(tmp_path: Path) -> None:
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    size = target.stat().st_size
    with target.open("r+b") as handle:
        handle.truncate(size // 2)
    (tmp_path / "elsewhere").mkdir()
    before = directory_state(target.parent)
    for args in broken_commands(tmp_path):
        result = Cli(target)(*args)
        assert_refused_as_storage_error(result, DAMAGED)
        assert directory_state(target.parent) == before, args
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_another_applications_sqlite_database_is_refused_and_left_byte_identical(
    tmp_path: Path,
) -> None:
    """alliance says it refuses the file; it must not have changed it first (WAL mode)."""
    target = tmp_path / "recipes.db"
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE recipe (name TEXT)")
    conn.execute("INSERT INTO recipe VALUES ('soup')")
    conn.commit()
    conn.close()
    before = directory_state(tmp_path)
    for args in (("patient", "list"), ("patient", "add", "P2")):
        result = Cli(target)(*args)
        assert_refused_as_storage_error(result, "tables that alliance did not create")
        assert directory_state(tmp_path) == before, (
            args,
            "the foreign database's bytes changed",
            query(target, "PRAGMA journal_mode"),
        )


# ----------------------------------------------------------- real processes, read-only


def alliance_process(
    *args: str, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m alliance_cli ARGS` as a real process (optionally under `prefix`)."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")])
    )
    return subprocess.run(
        [*prefix, sys.executable, "-m", "alliance_cli", *args],
        env=environment,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


DROP_DAC = (
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search,-fowner",
    "--",
)


@pytest.fixture
def unprivileged(tmp_path: Path) -> tuple[str, ...]:
    """A command prefix under which file modes are enforced (empty unless root).

    As root, chmod does not stop writes; a process whose capability bounding set lacks
    DAC_OVERRIDE (and friends) is held to the modes like any user. Skip if impossible.
    """
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: file modes cannot be enforced")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0o400)
    try:
        done = subprocess.run(
            [*DROP_DAC, "sh", "-c", f"echo y >> '{probe}'"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    finally:
        probe.chmod(0o600)
    if done.returncode == 0 or probe.read_text() != "x":
        pytest.skip("running as root and DAC_OVERRIDE cannot be dropped (setpriv failed)")
    probe.unlink()
    return DROP_DAC


def assert_process_refused(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert proc.returncode == 4, describe(proc)
    assert "Traceback" not in proc.stdout + proc.stderr, describe(proc)
    line = error_line(proc.stderr)
    assert any(needle in line for needle in needles), line
    return line


def test_a_read_only_database_file_refuses_writes_and_still_reads(
    tmp_path: Path, unprivileged: tuple[str, ...]
) -> None:
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    original = target.read_bytes()
    target.chmod(0o400)
    try:
        for args in (
            ("patient", "add", "P2"),
            ("session", "add", "P1", "--date", "2026-03-03", *RATED),
            ("patient", "edit", "P1", "--note", "changed"),
        ):
            proc = alliance_process("--db", str(target), *args, prefix=unprivileged)
            assert_process_refused(proc, "read-only")
            assert proc.stdout == ""
            assert target.read_bytes() == original, args
        listed = alliance_process("--db", str(target), "patient", "list", prefix=unprivileged)
        assert listed.returncode == 0, describe(listed)
        assert "P1" in listed.stdout and "Traceback" not in listed.stderr
        assert target.read_bytes() == original
    finally:
        target.chmod(0o600)


def test_reading_a_read_only_database_does_not_break_it_once_writable_again(
    tmp_path: Path, unprivileged: tuple[str, ...]
) -> None:
    """The error says "check the file's permissions"; after fixing them, writes must work.

    A read of the 0400 file must not leave read-only -wal/-shm files behind that keep the
    database read-only after `chmod 600`.
    """
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    target.chmod(0o400)
    listed = alliance_process("--db", str(target), "patient", "list", prefix=unprivileged)
    assert listed.returncode == 0, describe(listed)
    left = sorted(p.name for p in target.parent.iterdir())
    target.chmod(0o600)
    added = alliance_process("--db", str(target), "patient", "add", "P2", prefix=unprivileged)
    assert added.returncode == 0, (describe(added), "files after the read-only read:", left)


def test_a_read_only_directory_refuses_cleanly(
    tmp_path: Path, unprivileged: tuple[str, ...]
) -> None:
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    before = directory_state(target.parent)
    target.parent.chmod(0o500)
    try:
        for args in (
            ("patient", "add", "P2"),
            ("session", "add", "P1", "--date", "2026-03-03", *RATED),
            ("session", "list", "P1"),
        ):
            proc = alliance_process("--db", str(target), *args, prefix=unprivileged)
            assert_process_refused(proc, "read-only", "permission")
            assert directory_state(target.parent) == before, args
        fresh = target.parent / "new.db"
        proc = alliance_process("--db", str(fresh), "patient", "add", "P9", prefix=unprivileged)
        assert_process_refused(proc, "cannot read or create")
        assert not fresh.exists()
        proc = alliance_process("--db", str(fresh), "patient", "list", prefix=unprivileged)
        assert_process_refused(proc, "does not exist")  # a read never tries to create it
        assert not fresh.exists()
    finally:
        target.parent.chmod(0o700)


def test_a_read_only_sqlite_uri_reads_and_refuses_writes(tmp_path: Path) -> None:
    """SQLAlchemy's documented read-only form, `sqlite:///file:PATH?mode=ro&uri=true`.

    Works as root too. The README says --db takes any SQLAlchemy URL.
    """
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    before = directory_state(target.parent)
    url = f"sqlite:///file:{target}?mode=ro&uri=true"
    listed = Cli(target)("--db", url, "patient", "list", db=False)
    assert listed.exit_code == 0, describe(listed)
    assert "P1" in listed.stdout
    added = Cli(target)("--db", url, "patient", "add", "P2", db=False)
    assert_refused_as_storage_error(added, "read-only")
    assert directory_state(target.parent) == before


def test_a_url_with_query_options_opens_the_file_it_names(tmp_path: Path) -> None:
    """alliance checks (magic, directory) `PATH` of `sqlite:////PATH?...`: the file it then
    opens must be PATH, never a new database called `PATH?mode=ro` next to it."""
    target = tmp_path / "clinic" / "alliance.db"
    make_clinic(target)
    url = f"sqlite:///{target}?mode=ro&uri=true"
    listed = Cli(target)("--db", url, "patient", "list", db=False)
    assert_no_traceback(listed)
    files = sorted(p.name for p in target.parent.iterdir())
    assert files == ["alliance.db"], files
    if listed.exit_code == 0:
        assert "P1" in listed.stdout, describe(listed)
    else:
        assert listed.exit_code == 4, describe(listed)
        error_line(listed.stderr)


# ------------------------------------------------------------------ missing directory


def test_a_missing_directory_is_refused_for_reads_and_env_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone" / "deeper" / "alliance.db"
    for args in (
        ("patient", "list"),
        ("session", "list", "P1"),
        ("flags",),
        ("export", "--all", "--format", "json"),
    ):
        result = Cli(missing)(*args)
        line = assert_refused_as_storage_error(result, "does not exist")
        assert str(missing.parent) in line
    monkeypatch.setenv("ALLIANCE_DB", str(missing))
    result = Cli(missing)("patient", "add", "P1", db=False)
    assert_refused_as_storage_error(result, "does not exist")
    assert not (tmp_path / "gone").exists()


def test_writing_output_into_a_missing_directory_is_one_consistent_error(
    p014: Cli, tmp_path: Path
) -> None:
    """`--output` of export and summary and the backup destination are all files alliance
    writes (README); a missing directory is the same problem for each."""
    missing = tmp_path / "no-such-dir"
    before = p014.dump()
    codes = {}
    for args in (
        ("export", "P014", "--output", str(missing / "p014.md")),
        ("summary", "--output", str(missing / "summary.md")),
        ("backup", str(missing / "copy.db")),
    ):
        result = p014(*args)
        assert_no_traceback(result)
        assert result.exit_code in (1, 4), describe(result)
        assert "does not exist" in error_line(result.stderr)
        codes[args[0]] = result.exit_code
    assert not missing.exists()
    assert p014.dump() == before
    assert len(set(codes.values())) == 1, codes


# ------------------------------------------------------------------ locked database


@contextlib.contextmanager
def exclusive_lock(db_path: Path) -> Iterator[None]:
    """Another process holds `BEGIN EXCLUSIVE` on the database until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "conn.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n"
            "conn.execute('ROLLBACK')\n",
            str(db_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        try:
            holder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()


def test_a_lock_held_past_the_busy_timeout_is_a_clear_error(
    p014: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    import alliance_cli.store.engine as engine

    monkeypatch.setattr(engine, "BUSY_TIMEOUT_SECONDS", 1)
    timeouts: list[int] = []  # the busy timeout (ms) of every connection a command used

    def note_busy_timeout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        timeouts.append(dbapi_connection.execute("PRAGMA busy_timeout").fetchone()[0])

    before = p014.dump()
    with exclusive_lock(p014.db_path):
        event.listen(Pool, "checkout", note_busy_timeout)
        try:
            for args in (
                ("patient", "add", "P2"),
                ("session", "add", "P014", "--date", "2026-03-03", *RATED),
                ("goal", "add", "P014", "Swim"),
            ):
                timeouts.clear()
                started = time.monotonic()
                result = p014(*args)
                elapsed = time.monotonic() - started
                assert_refused_as_storage_error(result, "busy")
                # It waited for the lock with the (patched) timeout, 1 s, not 15 s: a lower
                # bound, true on any machine; how much longer a loaded machine took is no
                # concern of this test.
                assert timeouts and set(timeouts) == {1000}, timeouts
                assert elapsed >= 0.9, elapsed
        finally:
            event.remove(Pool, "checkout", note_busy_timeout)
        # WAL: readers are not blocked by a writer.
        assert "P014" in p014.ok("patient", "list").stdout
    assert p014.dump() == before
    p014.ok("patient", "add", "P2")  # and once the lock is gone, writing works again


# ------------------------------------------------------------------ full disk


def cap_database_growth(patch: pytest.MonkeyPatch) -> None:
    """Every connection alliance opens may not grow the file: SQLITE_FULL, as on a full
    disk. `PRAGMA max_page_count` is per connection, so it is set in alliance's own
    connect hook (max_page_count cannot go below the current size: 1 means "as now")."""
    from sqlalchemy import event

    import alliance_cli.store.engine as engine

    original = engine._install_sqlite_listeners

    def capped(sa_engine: Any, **options: Any) -> None:
        original(sa_engine, **options)

        @event.listens_for(sa_engine, "connect")
        def _cap(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA max_page_count = 1")

    patch.setattr(engine, "_install_sqlite_listeners", capped)


def test_a_full_disk_is_a_clear_error_and_writes_nothing(
    p014: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = "n" * (MAX_TEXT - 1)
    commands = [
        ("patient", "add", "P2", "--note", big),
        ("session", "add", "P014", "--date", "2026-03-03", *RATED, "--note", big),
        ("goal", "add", "P014", big),
    ]
    before = p014.dump()
    raw = p014.db_path.read_bytes()
    with monkeypatch.context() as patch:
        cap_database_growth(patch)
        for args in commands:
            result = p014(*args)
            assert_refused_as_storage_error(result, "disk is full")
            assert p014.dump() == before, args
        assert p014.db_path.read_bytes() == raw
    for args in commands:  # control: the same commands succeed with room to grow
        p014.ok(*args)
    assert_consistent(p014.db_path)


def test_a_really_full_filesystem_is_a_clear_error(tmp_path: Path) -> None:
    """A tiny tmpfs in a private mount namespace (root with unshare only; else skipped)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare to mount a tiny tmpfs in a private namespace")
    target = tmp_path / "alliance.db"
    make_clinic(target)
    original = target.read_bytes()
    size_kib = -(-len(original) // 4096) * 4 + 44  # room for -shm (32 KiB), not for a note
    mount = tmp_path / "mnt"
    mount.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["ALLIANCE_NOTE"] = "n" * (MAX_TEXT - 1)
    script = f"""
        mount -t tmpfs -o size={size_kib}k tmpfs '{mount}' || exit 99
        cp '{target}' '{mount}/alliance.db'
        '{sys.executable}' -m alliance_cli --db '{mount}/alliance.db' session add P1 \\
            --date 2026-03-03 --bond 7 --goal 7 --task 7 --note "$ALLIANCE_NOTE" \\
            >'{tmp_path}/out' 2>'{tmp_path}/err'
        echo $? >'{tmp_path}/rc'
        ls -A '{mount}' >'{tmp_path}/files'
        cp '{mount}/alliance.db' '{tmp_path}/after.db'
        umount '{mount}'
    """
    done = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode == 99 or not (tmp_path / "rc").exists():
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()[:200]}")
    rc = int((tmp_path / "rc").read_text())
    err = (tmp_path / "err").read_text()
    assert rc == 4, (rc, err)
    assert "Traceback" not in err
    assert "disk is full" in error_line(err)
    assert (tmp_path / "out").read_text() == ""
    assert (tmp_path / "after.db").read_bytes() == original
    assert (tmp_path / "files").read_text().split() == ["alliance.db"]


# =================================================================== 6. no leaks

SENTINEL = "SENTINEL9c1eLEAK"  # letters and digits only: Markdown/CSV escaping cannot hide it


def mentions_sentinel(text: str) -> bool:
    return SENTINEL in text.replace("\\", "")


@pytest.fixture
def private_clinic(cli: Cli, snapshots: Snapshots) -> Cli:
    """A patient whose name, notes, goal and task all carry the sentinel. (Made by these
    commands once per test process and day, then copied: `Snapshots` in conftest.py.)"""
    cli.db_path.parent.mkdir(parents=True)
    snapshots.give(cli, "test_trust_hostile private_clinic", add_private_patient)
    return cli


def add_private_patient(cli: Cli) -> None:
    cli.ok("patient", "add", "P1", "--name", f"{SENTINEL} name", "--since", "2026-01-01")
    cli.ok("patient", "edit", "P1", "--note", f"{SENTINEL} profile note")
    cli.ok("goal", "add", "P1", f"{SENTINEL} goal", "--target", "2027-01-01")
    cli.ok("task", "add", "P1", f"{SENTINEL} task", "--goal", "1", "--due", "2027-01-01")
    for day, score in (("2026-02-02", "7"), ("2026-02-09", "3")):
        cli.ok(
            "session",
            "add",
            "P1",
            *("--date", day, "--bond", score, "--goal", score, "--task", score),
            "--note",
            f"{SENTINEL} session note",
        )


CORRUPTIONS = {
    "items-invalid-json": "UPDATE session_rating SET items = '{{{' WHERE id = 1",
    "extra-invalid-json": "UPDATE session_rating SET extra = '[oops' WHERE id = 1",
    "bond-text": f"UPDATE session_rating SET bond = '{SENTINEL}' WHERE id = 2",
    "session-date-text": f"UPDATE session_rating SET date = '{SENTINEL}' WHERE id = 1",
    "since-text": f"UPDATE patient SET since = '{SENTINEL}'",
    "goal-target-text": f"UPDATE goal SET target = '{SENTINEL}'",
    "task-due-text": f"UPDATE task SET due = '{SENTINEL}'",
}
SHOW = ("patient", "show", "P1")
EXPORTS = [
    ("export", "P1"),
    ("export", "P1", "--format", "csv"),
    ("export", "P1", "--format", "fhir"),
    ("export", "--all", "--format", "json"),
]
SCANS = [
    ("flags",),
    ("flags", "P1", "--history"),
    ("patient", "list"),
    ("patient", "list", "--format", "json"),
    ("summary", "--since", "2026-01-01"),
    ("trend", "P1"),
]
SESSIONS = [("session", "list", "P1"), ("session", "list", "P1", "--format", "json")]
BREAKS = {  # what each corruption must break: every command reading the bad value
    "items-invalid-json": [*SESSIONS, SHOW, (*SHOW, "-f", "json"), *EXPORTS],
    "extra-invalid-json": [*SESSIONS, SHOW, *EXPORTS],
    "bond-text": [SESSIONS[0], SHOW, (*SHOW, "-f", "json"), *SCANS, *EXPORTS],
    "session-date-text": [*SESSIONS, SHOW, *SCANS, *EXPORTS],
    "since-text": [*SESSIONS, SHOW, *SCANS, *EXPORTS, ("goal", "list", "P1")],
    "goal-target-text": [SHOW, ("goal", "list", "P1"), *EXPORTS],
    "task-due-text": [SHOW, ("task", "list", "P1"), *EXPORTS],
}
LEAK_CASES = [
    pytest.param(kind, command, id=f"{kind}:{' '.join(command)}")
    for kind, commands in BREAKS.items()
    for command in commands
]


def corrupt(cli: Cli, kind: str) -> None:
    conn = sqlite3.connect(cli.db_path)
    try:
        conn.execute(CORRUPTIONS[kind])
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(("kind", "command"), LEAK_CASES)
def test_a_corrupt_row_fails_without_leaking_patient_data(
    private_clinic: Cli, kind: str, command: tuple[str, ...]
) -> None:
    corrupt(private_clinic, kind)
    before = private_clinic.dump()
    result = private_clinic(*command)
    assert_no_traceback(result)
    assert result.exit_code in (4, 5), describe(result)
    assert not mentions_sentinel(result.stdout), describe(result)
    assert not mentions_sentinel(result.stderr), describe(result)
    line = error_line(result.stderr)
    if result.exit_code == 5:
        assert "internal error" in line and "--debug" in line, line
    assert private_clinic.dump() == before


@pytest.mark.parametrize("kind", ["items-invalid-json", "since-text"])
def test_with_debug_the_internal_error_propagates(private_clinic: Cli, kind: str) -> None:
    corrupt(private_clinic, kind)
    quiet = private_clinic("session", "list", "P1")
    assert quiet.exit_code == 5, describe(quiet)
    loud = private_clinic("--debug", "session", "list", "P1")
    assert loud.exception is not None and not isinstance(loud.exception, SystemExit)
    assert "internal error" not in loud.stderr


def test_json_scores_stay_numbers_or_the_listing_fails_cleanly(private_clinic: Cli) -> None:
    """README: in --format json "scores are numbers". A text in the bond column must not
    come out as a JSON string (with stored text in it) under exit 0."""
    corrupt(private_clinic, "bond-text")
    result = private_clinic("session", "list", "P1", "--format", "json")
    assert_no_traceback(result)
    if result.exit_code == 0:
        for session in json.loads(result.stdout):
            for key in ("bond", "goal", "task", "total"):
                assert isinstance(session[key], int | float), (key, session[key])
    else:
        assert result.exit_code in (4, 5), describe(result)
        assert not mentions_sentinel(result.stdout + result.stderr)


def test_debug_tracebacks_of_sql_errors_hide_the_parameters(private_clinic: Cli) -> None:
    """A failing INSERT carries the typed note as a parameter: never shown, even with
    --debug in a real process (the traceback is printed there)."""
    conn = sqlite3.connect(private_clinic.db_path)
    conn.execute(
        "CREATE TRIGGER boom AFTER INSERT ON session_rating "
        "BEGIN INSERT INTO no_such_table VALUES (1); END"
    )
    conn.commit()
    conn.close()
    note = f"{SENTINEL} typed note"
    args = ("session", "add", "P1", "--date", "2026-03-03", *RATED, "--note", note)
    before = private_clinic.dump()

    quiet = private_clinic(*args)
    assert_refused_as_storage_error(quiet, "the database reported an error")
    assert not mentions_sentinel(quiet.stdout + quiet.stderr)

    loud = alliance_process("--db", str(private_clinic.db_path), "--debug", *args)
    assert loud.returncode != 0, describe(loud)
    assert "Traceback" in loud.stderr and "no_such_table" in loud.stderr, describe(loud)
    assert "[SQL parameters hidden due to hide_parameters=True]" in loud.stderr
    assert SENTINEL not in loud.stdout + loud.stderr
    assert private_clinic.dump() == before


def test_engine_errors_never_carry_parameter_values(tmp_path: Path) -> None:
    from sqlalchemy import exc, text

    from alliance_cli.store.engine import make_engine

    (tmp_path / "raw.db").touch()  # alliance creates database files itself, never the driver
    engine = make_engine(f"sqlite:///{tmp_path / 'raw.db'}")
    try:
        with pytest.raises(exc.DBAPIError) as caught, engine.connect() as connection:
            connection.execute(text("INSERT INTO missing VALUES (:value)"), {"value": SENTINEL})
    finally:
        engine.dispose()
    assert SENTINEL not in str(caught.value)
    assert "parameters hidden" in str(caught.value)


# =================================================================== 7. private files

UMASK_022 = (
    "import os, sys; os.umask(0o022); sys.argv[0] = 'alliance'; "
    "from alliance_cli.cli.app import main; main()"
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_with_umask_022(
    env: dict[str, str], *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    environment = dict(env)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), environment.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, "-c", UMASK_022, *args],
        env=environment,
        cwd=cwd or REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if check:
        assert proc.returncode == 0, describe(proc)
    return proc


@pytest.fixture
def umask_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")  # does not exist yet
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env.pop("ALLIANCE_DB", None)
    return env


@pytest.mark.slow  # many real processes (~10 s of CPU)
def test_every_file_alliance_writes_is_private_despite_a_permissive_umask(
    tmp_path: Path, umask_env: dict[str, str]
) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    out.chmod(0o755)

    def run(*args: str) -> None:
        run_with_umask_022(umask_env, *args, cwd=out)

    run("patient", "add", "P1", "--since", "2026-01-01")
    run("session", "add", "P1", "--date", "2026-02-02", *RATED, "--note", "x")
    data_dir = tmp_path / "xdg-data" / "alliance"
    created = {data_dir / "alliance.db"}

    run("backup")
    run("backup", str(out / "copy.db"))
    run("export", "P1", "--output", "p1.md")
    run("export", "P1", "--for-patient", "--output", "p1-shared.md")
    run("export", "P1", "--format", "fhir", "--output", "p1.fhir.json")
    run("export", "P1", "--format", "csv", "--output", "p1.csv")
    run("export", "--all", "--format", "json", "--output", "all.json")
    run("summary", "--since", "2026-01-01", "--output", "summary.txt")
    run("summary", "--since", "2026-01-01", "--format", "markdown", "--output", "summary.md")
    run("demo")
    (out / "replaced.md").write_text("old")
    (out / "replaced.md").chmod(0o644)
    run("export", "P1", "--output", "replaced.md", "--force")
    run("restore", str(out / "copy.db"), "--yes")

    created |= set(data_dir.glob("alliance.backup-*.db"))  # `backup` and restore's safety copy
    created |= {data_dir / "demo.db"}
    created |= {out / name for name in ("copy.db", "p1.md", "p1-shared.md", "p1.fhir.json")}
    created |= {out / name for name in ("p1.csv", "all.json", "summary.txt", "summary.md")}
    created |= {out / "replaced.md"}
    assert len(list(data_dir.glob("alliance.backup-*.db"))) >= 2  # backup + pre-restore
    assert mode(data_dir) == 0o700
    modes = {str(path.relative_to(tmp_path)): oct(mode(path)) for path in sorted(created)}
    assert all(value == "0o600" for value in modes.values()), modes
    everything = [p for p in [*data_dir.iterdir(), *out.iterdir()] if p.is_file()]
    assert not [p.name for p in everything if ".tmp" in p.name], everything
    others = {str(p.relative_to(tmp_path)): oct(mode(p)) for p in everything if mode(p) & 0o077}
    assert others == {}, others


def test_an_explicit_database_and_a_migration_backup_are_private(
    tmp_path: Path, umask_env: dict[str, str]
) -> None:
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    clinic.chmod(0o755)
    run_with_umask_022(umask_env, "--db", str(clinic / "new.db"), "patient", "add", "P1")
    assert mode(clinic / "new.db") == 0o600

    old = clinic / "old.db"  # an older schema, readable by others as users' copies often are
    shutil.copy(REPO_ROOT / "tests" / "fixtures" / "schema-0001.db", old)
    old.chmod(0o644)
    run_with_umask_022(umask_env, "--db", str(old), "patient", "list")
    (backup,) = clinic.glob("old.db.pre-*.bak")
    assert mode(backup) == 0o600


def test_wal_and_shm_files_made_by_the_cli_are_private(
    tmp_path: Path, umask_env: dict[str, str]
) -> None:
    """Observe -wal/-shm while a real `alliance session add` waits at its rating prompt on a
    terminal (pty), holding its connection open; then let it finish."""
    pty = pytest.importorskip("pty")
    run_with_umask_022(umask_env, "patient", "add", "P1", "--since", "2026-01-01")
    db = tmp_path / "xdg-data" / "alliance" / "alliance.db"
    assert not Path(f"{db}-wal").exists()

    env = dict(umask_env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["TERM"] = "dumb"
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", UMASK_022, "session", "add", "P1", "--date", "2026-02-02"],
        env=env,
        cwd=REPO_ROOT,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)

    def read_until(needle: bytes, seconds: float) -> bytes:
        seen = b""
        deadline = time.monotonic() + seconds
        while needle not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        return seen

    try:
        prompt = read_until(b"Bond", 60)
        assert b"Bond" in prompt, prompt
        for suffix in ("", "-wal", "-shm"):
            path = Path(f"{db}{suffix}")
            assert path.exists(), suffix
            assert mode(path) == 0o600, (suffix, oct(mode(path)))
        os.write(master, b"7\n6\n5\n")
        read_until(b"\x00never", 5)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert query(db, "SELECT bond, goal, task FROM session_rating") == [(7.0, 6.0, 5.0)]
