"""User-typed text is stored exactly as typed and printed literally, never interpreted.

(a) `printable` / `one_line` escape control characters (C0 but tab and newline, DEL,
    C1) and bidi overrides, and leave every other text untouched;
(b) `csv_cell` defuses spreadsheet formulas with a leading `'`;
(c) `to_json` round-trips and never emits raw C1 or bidi characters;
(d) acceptance, through the CLI against a real SQLite file: Rich markup and terminal
    escapes in notes, names, goals and tasks are stored byte for byte and printed as
    visible text, on the plain path, the Rich path and with NO_COLOR / TERM=dumb.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

import pytest
import typer.testing
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from alliance_cli.render.formats import FORMULA_PREFIXES, csv_cell, csv_value, to_json
from alliance_cli.render.safe_text import keep_newlines, one_line, printable
from tests.conftest import Cli

# ------------------------------------------------------------------ what is unsafe

C0 = frozenset(chr(i) for i in range(0x20))
DEL = frozenset("\x7f")
C1 = frozenset(chr(i) for i in range(0x80, 0xA0))
BIDI = frozenset(chr(i) for i in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
UNSAFE = C0 | DEL | C1 | BIDI
DANGEROUS_SAMPLES = sorted(UNSAFE)
SURROGATE = re.compile("[\ud800-\udfff]")


def leaks(text: str, allowed: str = "\t\n") -> list[str]:
    """The unsafe characters found in text (tab and newline allowed unless told)."""
    return sorted({ch for ch in text if ch in UNSAFE and ch not in allowed})


def expected_escape(text: str, *, keep_newlines: bool) -> str:
    """The documented visible form: `\\n`, `\\t`, `\\x1b`, `\\u202e`; all else unchanged."""
    out = []
    for ch in text:
        code = ord(ch)
        if keep_newlines and ch in "\t\n":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch in UNSAFE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


# Text biased towards the characters that matter: controls, bidi, markup and backslashes.
risky_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(DANGEROUS_SAMPLES),
        st.sampled_from(list("[]/\\=+-@'\" ")),
        st.characters(),
    ),
    max_size=60,
)
safe_text = st.text(alphabet=st.characters().filter(lambda ch: ch not in UNSAFE), max_size=60)


# ------------------------------------------------------------ (a) printable/one_line


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred", "\\x1b[31mred"),
        ("\x1b]0;title\x07", "\\x1b]0;title\\x07"),
        ("a\x00b", "a\\x00b"),
        ("bell\x07", "bell\\x07"),
        ("cr\rlf", "cr\\x0dlf"),
        ("del\x7f", "del\\x7f"),
        ("csi\x9b31m", "csi\\x9b31m"),
        ("nel\x85", "nel\\x85"),
        ("\u202eevil\u202c", "\\u202eevil\\u202c"),
        ("\u2066iso\u2069", "\\u2066iso\\u2069"),
        ("\u202a\u202b\u202d", "\\u202a\\u202b\\u202d"),
    ],
)
def test_control_characters_are_shown_as_visible_escapes(raw: str, shown: str) -> None:
    assert printable(raw) == shown
    assert one_line(raw) == shown


def test_printable_keeps_tabs_and_newlines_one_line_escapes_them() -> None:
    text = "a\tb\nc"
    assert printable(text) == "a\tb\nc"
    assert one_line(text) == "a\\tb\\nc"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        "[bold red]x[/]",
        "[/]",
        "[link=https://example.org]click[/link]",
        r"already \x1b escaped",
        "Ünïcødé – “quotes” … 日本語 😀",
        "\u200e\u200f\u061c",  # marks (not overrides) are not in the escaped set
        "\u00a0\u2028",
    ],
)
def test_safe_text_is_returned_unchanged(text: str) -> None:
    assert printable(text) == text
    assert one_line(text) == text


@given(risky_text)
@example("\x1b]0;title\x07[bold red]x[/]")
@example("\u202e\u2066\x85\x9f\x7f\x00\r")
def test_printable_never_leaks_unsafe_characters(text: str) -> None:
    shown = printable(text)
    assert leaks(shown, allowed="\t\n") == []
    assert shown == expected_escape(text, keep_newlines=True)
    assert shown.count("\n") == text.count("\n")


@given(risky_text)
@example("line1\nline2\ttab\r\n")
def test_one_line_never_leaks_unsafe_characters_nor_newlines(text: str) -> None:
    shown = one_line(text)
    assert leaks(shown, allowed="") == []
    assert "\n" not in shown and "\t" not in shown
    assert shown == expected_escape(text, keep_newlines=False)


@given(safe_text)
def test_text_without_unsafe_characters_is_unchanged(text: str) -> None:
    assert printable(text) == text
    assert one_line(text.replace("\n", " ").replace("\t", " ")) == text.replace("\n", " ").replace(
        "\t", " "
    )


@given(risky_text)
def test_escaping_is_idempotent(text: str) -> None:
    assert printable(printable(text)) == printable(text)
    assert one_line(one_line(text)) == one_line(text)


# --------------------------------------------------------------------- (b) csv_cell


@pytest.mark.parametrize(
    "text",
    [
        "=1+1",
        '=HYPERLINK("http://evil","x")',
        "+41 79 000",
        "-5 kg",
        "-",
        "@SUM(A1:A9)",
        "=cmd|' /C calc'!A0",
        "'=already quoted",
        "''tis",
    ],
)
def test_formula_cells_get_a_leading_quote(text: str) -> None:
    assert csv_cell(text) == "'" + text
    assert csv_value(csv_cell(text)) == text


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("\tx", "\\x09x"),  # escaped, the cell starts with a backslash: nothing to run
        ("\rx", "\\x0dx"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("\u202eevil", "\\u202eevil"),
        ("C:\\temp\\new", "C:\\temp\\new"),  # a backslash that escapes nothing stays
        ("\\x1b", "\\\\x1b"),  # one that would read as an escape is doubled
        ("\\\x1b", "\\\\\\x1b"),
        ("two\nlines", "two\nlines"),
        ("'tis", "'tis"),  # a quote that no guard could have added stays
        ("'", "'"),
    ],
)
def test_control_characters_and_ambiguous_backslashes_are_escaped(text: str, cell: str) -> None:
    assert csv_cell(text) == cell
    assert csv_value(cell) == text


@pytest.mark.parametrize("text", ["plain", "1+1", "a=b", "x-y", "mail@example.org", "[red]x[/]"])
def test_ordinary_text_cells_are_unchanged(text: str) -> None:
    assert csv_cell(text) == text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (7, "7"),
        (0, "0"),
        (-1, "-1"),
        (7.0, "7"),
        (6.5, "6.5"),
        (-0.5, "-0.5"),
        (-2.0, "-2"),
        (None, ""),
        (date(2026, 1, 31), "2026-01-31"),
        ([7.0, 6.5, 8.0], "7 6.5 8"),
    ],
)
def test_numbers_dates_and_lists_are_not_prefixed(value: Any, cell: str) -> None:
    assert csv_cell(value) == cell


@given(st.one_of(risky_text, st.text(), st.text(st.sampled_from("\\xu0aF'=\t\r\n\x1b"))))
def test_csv_cell_is_safe_and_csv_value_gives_the_text_back(text: str) -> None:
    cell = csv_cell(text)
    assert csv_value(cell) == text
    assert not cell.startswith(FORMULA_PREFIXES)
    assert leaks(cell, allowed="\n") == []
    if not text.startswith(FORMULA_PREFIXES) and "\\" not in text and "'" not in text[:1]:
        assert cell == keep_newlines(text).replace("\\t", "\\x09")


@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
def test_csv_cell_never_prefixes_numbers(number: float) -> None:
    assert not csv_cell(number).startswith("'")
    assert float(csv_cell(number)) == pytest.approx(number, rel=1e-5)


# ---------------------------------------------------------------------- (c) to_json

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    risky_text,
)
json_data = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(risky_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def test_to_json_escapes_c1_and_bidi_but_keeps_the_data() -> None:
    data = {"note": "[bold red]x[/] \x1b]0;t\x07 \x9b31m \u202eevil \u2066", "k\x85": [1, 2.5]}
    text = to_json(data)
    assert json.loads(text) == data
    assert leaks(text, allowed="\n") == []
    assert "\\u009b" in text and "\\u202e" in text and "\\u2066" in text and "\\u0085" in text
    assert "[bold red]x[/]" in text


def test_to_json_writes_dates_as_iso_text() -> None:
    assert json.loads(to_json({"on": date(2026, 2, 2)})) == {"on": "2026-02-02"}


@given(json_data)
@example({"a\\": "\\\x85", "\u202e": ["\\u202e", "\u2069\\"]})
def test_to_json_round_trips_and_never_leaks(data: Any) -> None:
    text = to_json(data)
    assert json.loads(text) == data
    assert leaks(text, allowed="\n") == []


# ------------------------------------------------- (d) acceptance through the CLI

SESSION_NOTE = (
    "[bold red]x[/] closes [/] \x1b]0;title\x07 \x1b[31mred\x1b[0m \u202eevil\u202c csi\x9b2J"
)
PATIENT_NAME = "[red]Ann[/red] [link=http://evil.example]B.[/link] \x1b[5m"
SHOWN_NAME = "[red]Ann[/red] [link=http://evil.example]B.[/link] \\x1b[5m"
PATIENT_NOTE = "first [bold]line[/]\nsecond \x1b]0;title\x07 [/]"
GOAL_TEXT = "[red]Run 5 km[/] [/] \x1b[2J"
TASK_TEXT = "[green]Hip exercises[/green] [/]\x07"

SHOWN_TITLE = "\\x1b]0;title\\x07"  # what the OSC title sequence must look like
MARKUP = ("[bold red]x[/]", "[/]")
ANSI_SGR = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def marked(cli: Cli) -> Cli:
    """One patient whose name, note, goal, task and session note hold markup and escapes."""
    cli.make_room()
    cli.ok(
        "patient",
        "add",
        "P1",
        "--name",
        PATIENT_NAME,
        "--since",
        "2026-01-01",
        "--note",
        PATIENT_NOTE,
    )
    cli.ok("goal", "add", "P1", GOAL_TEXT, "--target", "2027-01-31")
    cli.ok("task", "add", "P1", TASK_TEXT, "--goal", "1")
    added = cli.ok(
        "session",
        "add",
        "P1",
        "--date",
        "2026-02-02",
        "--bond",
        "7",
        "--goal",
        "6.5",
        "--task",
        "8",
        "--note",
        SESSION_NOTE,
    )
    assert leaks(added.stdout) == [] and leaks(added.stderr) == []
    assert "[bold red]x[/]" in added.stdout and SHOWN_TITLE in added.stdout
    return cli


def assert_literal(output: str) -> None:
    """The session note's markup is shown as typed and its escapes are visible, inert text."""
    for markup in MARKUP:
        assert markup in output
    assert SHOWN_TITLE in output
    assert "\\x1b[31mred\\x1b[0m" in output
    assert "\\u202eevil\\u202c" in output
    assert "\\x9b2J" in output
    assert "\x1b" not in output and "\x07" not in output
    assert leaks(output) == []


def test_text_is_stored_exactly_as_typed(marked: Cli) -> None:
    (session,) = marked.rows("session_rating")
    assert SESSION_NOTE in session
    (patient,) = marked.rows("patient")
    assert PATIENT_NAME in patient and PATIENT_NOTE in patient
    (goal,) = marked.rows("goal")
    assert GOAL_TEXT in goal
    (task,) = marked.rows("task")
    assert TASK_TEXT in task


def test_session_list_prints_note_literally(marked: Cli) -> None:
    result = marked.ok("session", "list", "P1")
    assert_literal(result.stdout)
    assert "┃" not in result.stdout  # the plain path (stdout is not a terminal)


def test_patient_show_prints_everything_literally(marked: Cli) -> None:
    out = marked.ok("patient", "show", "P1").stdout
    assert_literal(out)
    assert SHOWN_NAME in out
    assert "first [bold]line[/]" in out
    assert "second \\x1b]0;title\\x07 [/]" in out
    assert "[red]Run 5 km[/] [/] \\x1b[2J" in out
    assert "[green]Hip exercises[/green] [/]\\x07" in out


def test_goal_and_task_lists_print_text_literally(marked: Cli) -> None:
    goals = marked.ok("goal", "list", "P1").stdout
    assert "[red]Run 5 km[/] [/] \\x1b[2J" in goals
    assert leaks(goals) == [] and "\x1b" not in goals
    tasks = marked.ok("task", "list", "P1").stdout
    assert "[green]Hip exercises[/green] [/]\\x07" in tasks
    assert leaks(tasks) == [] and "\x07" not in tasks


def test_patient_list_prints_name_literally(marked: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # at 80 a name this long gives way to the scores
    out = marked.ok("patient", "list").stdout
    assert SHOWN_NAME in out
    assert leaks(out) == []


def test_session_edit_echo_is_literal(marked: Cli) -> None:
    result = marked.ok("session", "edit", "1", "--note", SESSION_NOTE + " [/]")
    assert_literal(result.stdout)
    assert leaks(result.stderr) == []


def test_json_gives_back_the_exact_text(marked: Cli) -> None:
    listed = marked.ok("session", "list", "P1", "--format", "json").stdout
    assert leaks(listed, allowed="\n") == []
    assert json.loads(listed)[0]["note"] == SESSION_NOTE

    shown = marked.ok("patient", "show", "P1", "--format", "json").stdout
    assert leaks(shown, allowed="\n") == []
    data = json.loads(shown)
    assert data["patient"]["name"] == PATIENT_NAME
    assert data["patient"]["note"] == PATIENT_NOTE
    assert data["goals"][0]["text"] == GOAL_TEXT
    assert data["tasks"][0]["text"] == TASK_TEXT
    assert data["recent_sessions"][0]["note"] == SESSION_NOTE

    goals = marked.ok("goal", "list", "P1", "--format", "json").stdout
    assert json.loads(goals)[0]["text"] == GOAL_TEXT


def test_csv_defuses_formulas_and_keeps_numbers(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P2", "--name", "=cmd|' /C calc'!A0", "--since", "2026-01-01")
    cli.ok("goal", "add", "P2", "--", "-5 kg by summer")
    cli.ok(
        "session",
        "add",
        "P2",
        "--date",
        "2026-02-02",
        *("--bond", "7", "--goal", "0", "--task", "9.5"),
        "--note=@SUM(A1:A9)",
    )
    (session,) = csv.DictReader(io.StringIO(cli.ok("session", "list", "P2", "-f", "csv").stdout))
    assert session["note"] == "'@SUM(A1:A9)"
    assert (session["bond"], session["goal"], session["task"]) == ("7", "0", "9.5")
    (patient,) = csv.DictReader(io.StringIO(cli.ok("patient", "list", "-f", "csv").stdout))
    assert patient["name"] == "'=cmd|' /C calc'!A0"
    assert patient["sessions"] == "1"
    (goal,) = csv.DictReader(io.StringIO(cli.ok("goal", "list", "P2", "-f", "csv").stdout))
    assert goal["text"] == "'-5 kg by summer"


@pytest.mark.parametrize(
    "command",
    [
        ("session", "list", "P1"),
        ("goal", "list", "P1"),
        ("task", "list", "P1"),
        ("patient", "list"),
    ],
    ids=" ".join,
)
def test_csv_printed_to_a_terminal_leaks_no_control_characters(
    marked: Cli, command: tuple[str, ...]
) -> None:
    """README: typed control characters are shown as `\\x1b` instead of reaching the terminal.

    CSV goes to stdout like any listing, so it must not carry raw ESC, BEL, C1 or bidi
    overrides either (newlines inside quoted cells are legitimate CSV).
    """
    out = marked.ok(*command, "--format", "csv").stdout
    assert leaks(out, allowed="\n") == [], leaks(out, allowed="\n")


def test_errors_naming_typed_text_do_not_leak(marked: Cli) -> None:
    result = marked("patient", "show", "NOPE\x1b]0;x\x07\u202e")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert leaks(result.stderr) == []
    assert result.stdout == ""


# ----------------------------------------------------------------- the Rich path


@pytest.fixture
def rich_tables(marked: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`marked`, then Rich forced for tables, wide enough not to wrap, with ANSI styling on."""
    import alliance_cli.render.tables as tables

    monkeypatch.setattr(tables, "wants_rich", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    return marked


def without_styles(output: str) -> str:
    """Drop Rich's own SGR styling (bold headers); what remains must be plain text."""
    return ANSI_SGR.sub("", output)


def test_rich_session_table_shows_markup_literally(rich_tables: Cli) -> None:
    out = rich_tables.ok("session", "list", "P1").stdout
    assert "┃" in out  # a Rich table really was drawn
    assert "\x1b[1m" in out  # and Rich styling is on, so markup *could* have been applied
    assert_literal(without_styles(out))


def test_rich_patient_show_and_lists_show_text_literally(rich_tables: Cli) -> None:
    shown = without_styles(rich_tables.ok("patient", "show", "P1").stdout)
    assert "┃" in shown
    assert_literal(shown)
    assert SHOWN_NAME in shown
    assert "[red]Run 5 km[/] [/] \\x1b[2J" in shown
    assert "[green]Hip exercises[/green] [/]\\x07" in shown
    assert "\x1b]8;" not in shown  # no OSC 8 hyperlink from the [link=...] markup

    for command in (("goal", "list", "P1"), ("task", "list", "P1"), ("patient", "list")):
        out = without_styles(rich_tables.ok(*command).stdout)
        assert "┃" in out, command
        assert "\x1b" not in out and "\x07" not in out, command
        assert leaks(out) == [], command
    assert "[red]Run 5 km[/] [/] \\x1b[2J" in without_styles(
        rich_tables.ok("goal", "list", "P1").stdout
    )
    names = without_styles(rich_tables.ok("patient", "list").stdout)
    assert SHOWN_NAME in names


def test_rich_session_add_output_is_literal(rich_tables: Cli) -> None:
    out = rich_tables.ok(
        "session",
        "add",
        "P1",
        *("--date", "2026-02-03", "--bond", "8", "--goal", "7", "--task", "8"),
        "--note",
        SESSION_NOTE,
    ).stdout
    assert "┃" in out
    assert_literal(without_styles(out))


def test_rich_narrow_terminal_wraps_without_leaking(
    rich_tables: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    for command in (("session", "list", "P1"), ("patient", "show", "P1")):
        out = without_styles(rich_tables.ok(*command).stdout)
        assert "\x1b" not in out and "\x07" not in out, command
        assert leaks(out) == [], command


# ---------------------------------------------------- NO_COLOR and TERM=dumb


@pytest.fixture
def on_terminal(marked: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`marked`, then the runner's captured streams claim to be a terminal.

    Nothing in alliance is patched: the real `wants_rich` decides from isatty and the
    environment. (Typer's CliRunner wraps stdout in its own `_NamedTextIOWrapper`.)
    """
    monkeypatch.setattr(typer.testing._NamedTextIOWrapper, "isatty", lambda self: True)
    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setenv("TERM", "xterm-256color")
    return marked


def test_on_a_terminal_rich_draws_styled_tables(on_terminal: Cli) -> None:
    """Control for the NO_COLOR test: without it the same setup does emit ANSI codes."""
    out = on_terminal.ok("session", "list", "P1").stdout
    assert "┃" in out
    assert "\x1b[" in out
    assert_literal(without_styles(out))


TABLE_COMMANDS = (
    ("session", "list", "P1"),
    ("patient", "show", "P1"),
    ("goal", "list", "P1"),
    ("task", "list", "P1"),
    ("patient", "list"),
    ("flags",),
)


def test_dumb_terminal_gives_plain_text(on_terminal: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    for command in TABLE_COMMANDS:
        result = on_terminal.ok(*command)
        assert "\x1b[" not in result.stdout, command
        assert "\x1b" not in result.stdout, command
        assert "┃" not in result.stdout and "│" not in result.stdout, command
        assert leaks(result.stdout) == [], command
        assert "\x1b" not in result.stderr, command
    assert_literal(on_terminal.ok("session", "list", "P1").stdout)


def test_no_color_switches_off_colour_not_borders(
    on_terminal: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """no-color.org: NO_COLOR prevents ANSI colour; the table keeps its borders (and no
    ANSI code at all is written, bold included)."""
    monkeypatch.setenv("NO_COLOR", "1")
    for command in TABLE_COMMANDS:
        result = on_terminal.ok(*command)
        assert "\x1b" not in result.stdout, command
        assert "┃" in result.stdout and "│" in result.stdout, command
        assert leaks(result.stdout) == [], command
        assert "\x1b" not in result.stderr, command
    assert_literal(on_terminal.ok("session", "list", "P1").stdout)


# --------------------------------------------- property: any note, end to end


def storable(text: str) -> bool:
    """Text a note can hold: no NUL, not blank, and no lone surrogate (what Python makes of
    bytes that were not UTF-8; refused with its own message, tests/test_trust_hostile.py)."""
    return "\x00" not in text and text.strip() != "" and not SURROGATE.search(text)


@pytest.mark.slow  # a long property run through the real CLI
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(note=risky_text.filter(storable))
@example(note="[bold red]x[/] [/] \x1b]0;title\x07")
@example(note="-starts like an option")
def test_any_note_is_stored_exactly_and_printed_safely(
    p014: Cli, note: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "100000")  # the note checked whole: no table folding
    """One database for all examples: each example overwrites session 1's note."""
    p014.ok("session", "edit", "1", f"--note={note}")
    (row,) = [r for r in p014.rows("session_rating") if r[0] == 1]
    assert note in row

    table = p014.ok("session", "list", "P014").stdout
    assert leaks(table, allowed="\n") == []
    assert expected_escape(note, keep_newlines=False).rstrip() in table

    listed = p014.ok("session", "list", "P014", "--format", "json").stdout
    assert leaks(listed, allowed="\n") == []
    assert json.loads(listed)[0]["note"] == note
