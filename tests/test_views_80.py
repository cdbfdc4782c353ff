"""The daily views at 80 and 120 columns (issue 14): nothing cut, nothing past the edge.

Each daily view of the demo caseload is rendered plain (piped) and through Rich (a
terminal), at 80 and 120 columns: no line is wider than the terminal and no value is
cut (`…` never appears). Then one event, one line: the flags a session raised are one
row of `flags`, while `--format json` keeps one object per flag.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from alliance_cli.domain.flag_groups import group_by_event
from alliance_cli.domain.flags import Flag
from alliance_cli.render.formats import FLAG_KEYS
from alliance_cli.render.tables import cell_width
from tests.conftest import Cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDTHS = (80, 120)
FORMS = ("plain", "rich")
DEMO_CODES = ("D01", "D02", "D03", "D04", "D05", "D06", "D07")


@pytest.fixture
def demo(fixed_today: date, tmp_path: Path) -> Cli:
    """The `alliance demo` caseload, as of the fixed day."""
    path = tmp_path / "demo.db"
    made = Cli(path)("demo", "--path", str(path), db=False)
    assert made.exit_code == 0, made.stderr
    return Cli(path)


@pytest.fixture(params=FORMS)
def form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Plain text (stdout is not a terminal), or Rich as on a colour terminal."""
    if request.param == "rich":
        import alliance_cli.render.tables as tables

        monkeypatch.setattr(tables, "wants_rich", lambda stream: True)
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("TERM", "xterm-256color")
    yield request.param


def shown(cli: Cli, width: int, *args: str) -> str:
    """What a command prints on a terminal `width` columns wide (ANSI styling removed)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COLUMNS", str(width))
        return ANSI.sub("", cli.ok(*args).stdout)


def assert_fits(text: str, width: int, what: tuple[str, ...]) -> None:
    assert text.strip(), what
    for line in text.splitlines():
        assert cell_width(line.rstrip()) <= width, (what, width, line)
    assert "…" not in text, (what, text)


DAILY = [
    ("patient", "list"),
    ("patient", "list", "--all"),
    ("flags",),
    ("flags", "--history"),
    *[("patient", "show", code) for code in DEMO_CODES],
    *[("session", "list", code) for code in DEMO_CODES],
    *[(noun, "list", code, "--all") for noun in ("goal", "task") for code in DEMO_CODES],
    *[("trend", code) for code in DEMO_CODES],
    ("trend", "D02", "--dimension", "total"),
    ("summary",),
    ("summary", "--days", "90"),
    (),
    ("prep",),
    *[("prep", code) for code in DEMO_CODES],
]


@pytest.mark.parametrize("width", WIDTHS)
def test_every_daily_view_fits_the_terminal_without_cutting_a_value(
    demo: Cli, form: str, width: int
) -> None:
    for command in DAILY:
        assert_fits(shown(demo, width, *command), width, (form, *command))


def test_at_80_columns_patient_list_keeps_every_value_and_names_the_scale(
    demo: Cli, form: str
) -> None:
    listed = json.loads(demo.ok("patient", "list", "--format", "json").stdout)
    text = shown(demo, 80, "patient", "list")
    assert "sta…" not in text and "total (%)" in text
    for row in listed:
        latest = row["latest"]
        line = next(line for line in text.splitlines() if row["code"] in line)
        for value in (row["last_session"], *(f"{latest[k]:.1f}" for k in ("bond", "total"))):
            assert value in line, (value, line)
        assert "%" in line  # the total as a share of its scale


def test_scores_of_different_instruments_compare_as_a_share_of_their_scale(
    fixed_today: date, cli: Cli
) -> None:
    """A WAI-SR total of 48 (12-60: 75 %) against a perfect quick 30 (100 %)."""
    cli.make_room()
    cli.ok("patient", "add", "Q1")
    cli.ok("patient", "add", "W1", "--instrument", "wai-sr")
    day = fixed_today.isoformat()
    cli.ok("session", "add", "Q1", "--date", day, "--bond", "10", "--goal", "10", "--task", "10")
    cli.ok("session", "add", "W1", "--date", day, "--items", ",".join(["4"] * 12))
    text = shown(cli, 80, "patient", "list")
    q1 = next(line for line in text.splitlines() if line.startswith("Q1"))
    w1 = next(line for line in text.splitlines() if line.startswith("W1"))
    assert "30.0 100%" in q1 and "quick" in q1
    assert "48.0  75%" in w1 and "wai-sr" in w1


def test_patient_show_does_not_repeat_the_code_in_its_flags(demo: Cli) -> None:
    text = shown(demo, 80, "patient", "show", "D02")
    attention = text.split("Needs attention", 1)[1].split("\n\n", 1)[0]
    assert "patient" not in attention.splitlines()[1]  # the header row
    assert "D02" not in attention


# ------------------------------------------------------------ one event, one line

WEEKS = 5


@pytest.fixture
def rupture(fixed_today: date, cli: Cli) -> Cli:
    """Steady at 9, then 4 on every dimension: a rupture, three drops and a low total."""
    cli.make_room()
    cli.ok("patient", "add", "R1")
    for week, value in enumerate([9, 9, 9, 9, 4]):
        when = (fixed_today - timedelta(weeks=WEEKS - 1 - week)).isoformat()
        scores = ("--bond", str(value), "--goal", str(value), "--task", str(value))
        cli.ok("session", "add", "R1", "--date", when, *scores)
    return cli


def test_a_rupture_is_one_line_of_flags_and_five_objects_in_json(rupture: Cli) -> None:
    found = json.loads(rupture.ok("flags", "--format", "json").stdout)
    kinds = sorted((f["kind"], f["dimension"]) for f in found)
    assert kinds == [
        ("drop", "bond"),
        ("drop", "goal"),
        ("drop", "task"),
        ("low", "total"),
        ("rupture", "total"),
    ]
    assert all(tuple(f) == FLAG_KEYS for f in found)  # one object per flag, the stable keys
    text = shown(rupture, 120, "flags")
    assert sum("R1" in line for line in text.splitlines()) == 1, text
    event = " ".join(text.split("R1", 1)[1].split())  # the row, its folds joined
    assert "rupture: total 12.0 (usual 27.0, SD 0.0)" in event
    assert "drop: bond -5.0, goal -5.0, task -5.0" in event
    assert "low: total 12.0 below the cut-off 21.0" in event
    assert event.index("rupture:") < event.index("drop:") < event.index("low:")
    csv_rows = rupture.ok("flags", "--format", "csv").stdout.strip().splitlines()
    assert len(csv_rows) == 1 + 5


def test_at_80_columns_an_event_folds_but_never_splits_a_value(rupture: Cli, form: str) -> None:
    text = shown(rupture, 80, "flags")
    assert sum("R1" in line for line in text.splitlines()) == 1
    flat = " ".join(text.split())
    for value in ("total 12.0 (usual 27.0, SD 0.0)", "bond -5.0", "cut-off 21.0"):
        assert value in flat
    joined = [line for line in text.splitlines() if "cut-off" in line]
    assert all("cut-off 21.0" in line for line in joined), text


def _flag(kind: str, severity: str, day: date, rater: str | None, **more: str) -> Flag:
    return Flag(
        patient=more.get("patient", "P"),
        kind=kind,
        severity=severity,
        dimension=more.get("dimension"),
        date=day,
        message=more.get("message", f"{kind} message"),
        rater=rater,
        brief=more.get("brief", ""),
    )


def test_group_by_event_keeps_raters_apart_and_patients_together() -> None:
    day = date(2026, 11, 30)
    flags = [
        _flag("low", "watch", day, "patient", dimension="bond", brief="bond 5.0 below 6.0"),
        _flag("drop", "alert", day, "patient", dimension="goal", brief="goal -3.0"),
        _flag("drop", "alert", day, "patient", dimension="bond", brief="bond -4.0"),
        _flag("low", "alert", day, "therapist", dimension="total", brief="total 15.0"),
        _flag("no-contact", "watch", day, None),
        _flag("tasks-missed", "watch", day, None),
        _flag("decline", "watch", day, "patient", patient="A"),
        _flag("rupture", "alert", day - timedelta(days=7), "patient", patient="Z", brief="x"),
    ]
    events = group_by_event(reversed(flags))
    assert group_by_event(flags) == events  # any order, the same events
    assert [(e.patient, e.severity, e.rater) for e in events] == [
        ("P", "alert", "patient"),
        ("P", "alert", "therapist"),
        ("P", "watch", None),
        ("P", "watch", None),
        ("Z", "alert", "patient"),
        ("A", "watch", "patient"),
    ]
    assert events[0].text == "drop: bond -4.0, goal -3.0; low: bond 5.0 below 6.0"
    assert events[0].kinds == ("drop", "low")
    assert events[1].text == "therapist rating: low: total 15.0"
    assert {events[2].text, events[3].text} == {
        "no-contact: no-contact message",
        "tasks-missed: tasks-missed message",
    }
