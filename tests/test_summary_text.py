"""The weekly summary as text: folded to the width on word boundaries, plurals right.

The demo caseload (`alliance demo`, as of FIXED_TODAY) summarised over 90 days, rendered
at 80 and 120 columns: no line is longer, no word (code, date, score) is split, a score
stays beside its name; piped (not a terminal) the command gives 80 columns.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from alliance_cli.config import load_settings
from alliance_cli.domain.summary import GoalEvent, NoContact, Period, Summary
from alliance_cli.domain.words import plural
from alliance_cli.paths import DatabaseLocation, sqlite_url
from alliance_cli.render.summary import summary_markdown, summary_text
from alliance_cli.render.wrap import cell_width, output_width, wrap
from alliance_cli.services.maintenance.demo import write_demo
from alliance_cli.services.reports.summary import period_summary
from tests.conftest import FIXED_TODAY, Cli

WIDTHS = (80, 120)


def demo_summary(folder: Path, days: int = 90) -> Summary:
    """The demo caseload's summary of the `days` up to FIXED_TODAY."""
    target = folder / "demo.db"
    location = DatabaseLocation(sqlite_url(target), target, "demo", False)
    real = DatabaseLocation(sqlite_url(folder / "real.db"), folder / "real.db", "--db", False)
    db = write_demo(location, real=real, today=FIXED_TODAY)
    try:
        period = Period(FIXED_TODAY - timedelta(days=days - 1), FIXED_TODAY)
        return period_summary(db, load_settings(folder / "absent.toml"), period)
    finally:
        db.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Summary:
    return demo_summary(tmp_path_factory.mktemp("demo"))


def test_the_demo_summary_has_every_kind_of_line(demo: Summary) -> None:
    """The caseload the width tests use shows flags, patients, repairs, goals, tasks."""
    assert demo.flags and demo.patients and demo.repaired and demo.goal_events
    assert sum(demo.adherence.values())


@pytest.mark.parametrize("width", WIDTHS)
def test_summary_text_fits_the_width_without_splitting_a_word(demo: Summary, width: int) -> None:
    text = summary_text(demo, width=width)
    lines = text.splitlines()
    assert max(cell_width(line) for line in lines) <= width
    # the same words in the same order as on lines too long to fold: none cut in two
    unfolded = summary_text(demo, width=10_000)
    assert text.split() == unfolded.split()
    assert any(len(line) > width for line in unfolded.splitlines())  # folding was needed
    for line in lines:  # a score stays beside its name, an arrow beside both values
        assert not re.search(r"\b(bond|goal|task|total|since|down|about)$|->$|^\s*->", line), line
    for p in demo.patients:
        assert any(p.patient in line and p.latest.date.isoformat() in line for line in lines)


def test_summary_text_folds_onto_indented_lines(demo: Summary) -> None:
    lines = summary_text(demo, width=80).splitlines()
    start = lines.index("Patients seen:")
    first, change = lines[start + 1], lines[start + 2]
    assert first.startswith("  D01  ") and "bond 9.0," in first
    assert change.startswith("      change: bond ")
    flags = lines[lines.index("Flags raised (alerts first):") + 1 :]
    long = next(
        i for i, line in enumerate(flags) if line.startswith("  ALERT D02 ") and "decline" in line
    )
    assert flags[long + 1].startswith("      ") and not flags[long + 1].startswith("       ")


@pytest.mark.parametrize("width", WIDTHS)
def test_user_text_is_folded_too_and_a_long_word_cut_only_when_wider_than_a_line(
    demo: Summary, width: int
) -> None:
    long_word = "x" * (width + 15)
    goal = GoalEvent(
        "D01", f"walk to the 日本語 shop {long_word} and back", FIXED_TODAY, "active", None
    )
    text = summary_text(replace(demo, goal_events=(goal,)), width=width)
    assert max(cell_width(line) for line in text.splitlines()) <= width
    assert "".join(text.split()).count(long_word) == 1  # whole once the folds are joined


def test_piped_summary_is_80_columns(fixed_today: date, tmp_path: Path) -> None:
    demo = tmp_path / "demo.db"
    assert Cli(demo)("demo", "--path", str(demo), db=False).exit_code == 0
    text = Cli(demo).ok("summary", "--days", "90").stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Patients seen:" in text


def test_output_width_is_80_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setenv("COLUMNS", "132")
    assert output_width(io.StringIO()) == 80  # a pipe, a file, cron: always the same
    assert output_width(None) == 80


def test_wrap_breaks_at_spaces_only() -> None:
    assert wrap("2026-12-01 cut-off 21.0", 12, "", "  ") == ["2026-12-01", "  cut-off", "  21.0"]
    assert wrap("a  b", 80) == ["a  b"]  # spaces inside a line kept (columns)
    assert wrap("", 80, "  ") == ["  "]
    assert wrap("abcdefghij", 6, "", "") == ["abcdef", "ghij"]  # wider than any line: cut
    assert wrap("日本語の文", 6, "", "") == ["日本語", "の文"]  # two columns each


# ------------------------------------------------------------------ plurals


def test_plural() -> None:
    assert [plural(n, "goal") for n in (0, 1, 2)] == ["0 goals", "1 goal", "2 goals"]
    assert plural(1, "rating set") == "1 rating set"
    assert plural(3, "day", "days") == "3 days"


def test_summary_counts_are_in_the_right_number(demo: Summary) -> None:
    one_day = replace(
        demo,
        period=Period(FIXED_TODAY, FIXED_TODAY),
        rating_sets=1,
        adherence={"done": 1, "partly": 0, "not-done": 0},
        no_contact=(NoContact("D09", FIXED_TODAY - timedelta(days=1), 1),),
    )
    text = summary_text(one_day)
    assert "(1 day)" in text and "(1 rating set)" in text
    assert "Task adherence (1 review):" in text and "(1 day ago)" in text
    markdown = summary_markdown(one_day)
    assert "(1 rating set)" in markdown and "(1 review)" in markdown
    assert "(90 days)" in summary_text(demo) and "reviews)" in summary_text(demo)
    for wrong in ("1 days", "1 rating sets", "1 reviews"):
        assert wrong not in text and wrong not in markdown


def test_user_text_is_shown_literally_when_folded(demo: Summary) -> None:
    nasty = "\x1b[31mred\x1b[0m \x1f glued\tnote\n- next line \u202e"
    goal = GoalEvent("D01", nasty, FIXED_TODAY, "reviewed", nasty)
    text = summary_text(replace(demo, goal_events=(goal,)), width=80)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f\u202e]", text)
    assert "\\x1b[31mred\\x1b[0m \\x1f glued\\tnote\\n- next line \\u202e" in " ".join(
        line.strip() for line in text.splitlines()
    )
