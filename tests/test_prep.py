"""`alliance prep`: the brief before the next session (issue 15, part 1)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from alliance_cli.domain.flag_model import Flag
from alliance_cli.domain.instruments import QUICK
from alliance_cli.domain.prep import LastRating, focus_points, last_ratings
from alliance_cli.domain.records import SessionRecord
from alliance_cli.domain.suggestions import BUILTIN
from tests.conftest import Cli


@pytest.fixture(autouse=True)
def _room(request: pytest.FixtureRequest) -> None:
    """The SQLite file's directory exists (alliance creates only its own data directory)."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").make_room()


DAY = date(2026, 11, 30)
JSON_KEYS = [
    "patient",
    "profile",
    "last",
    "trend",
    "flags",
    "repairs",
    "goals",
    "tasks",
    "note",
    "focus",
    "gas_t",  # null before any GAS review
]


def flag(kind: str, severity: str, dimension: str | None = "total") -> Flag:
    return Flag("P1", kind, severity, dimension, DAY, f"{kind} on {dimension}", rater="patient")


def rated(day: int, rater: str, bond: float, note: str | None = None) -> SessionRecord:
    return SessionRecord(
        id=day,
        patient="P1",
        date=date(2026, 11, day),
        rater=rater,
        instrument="quick",
        bond=bond,
        goal=8.0,
        task=8.0,
        items=(bond, 8.0, 8.0),
        note=note,
        total=bond + 16.0,
    )


def test_last_ratings_compare_each_rater_with_their_own_previous_set() -> None:
    sessions = [rated(2, "patient", 8), rated(9, "patient", 5), rated(9, "therapist", 7)]
    patient, therapist = last_ratings(sessions)
    assert (patient.rater, patient.date, patient.scores["bond"]) == (
        "patient",
        date(2026, 11, 9),
        5.0,
    )
    assert patient.changes["bond"] == -3.0 and patient.since == date(2026, 11, 2)
    assert therapist.changes["bond"] is None and therapist.since is None


def test_focus_is_at_most_three_points_most_severe_and_weakest_first() -> None:
    last = [
        LastRating(
            "patient", DAY, "quick", {"bond": 3, "goal": 6, "task": 5, "total": 14}, {}, None
        )
    ]
    flags = [
        flag("decline", "watch", "total"),
        flag("drop", "alert", "goal"),
        flag("drop", "alert", "bond"),
        flag("low", "alert", "task"),
        flag("rupture", "info", "total"),  # repaired: not a focus
        flag("no-contact", "watch", None),
    ]
    points = focus_points(flags, BUILTIN, last, QUICK)
    assert [p.dimension for p in points] == ["bond", "task", "goal"]  # alerts, weakest first
    for point in points:
        assert 2 <= len(point.suggestions) <= 3
        assert point.sources and all(point.sources)
    assert points[0].suggestions[0] == BUILTIN["drop"]["bond"][0].text


def test_no_flags_no_focus() -> None:
    assert focus_points([flag("rupture", "info")], BUILTIN) == ()


@pytest.fixture
def seen(cli: Cli, fixed_today: date) -> Cli:
    """A patient with a profile, 3 goals, 3 tasks and a rupture in the last session."""
    cli.ok(
        "patient", "add", "P1", "--since", "2026-09-01",
        "--expectations", "back to running", "--social-context", "lives alone, supportive sister",
    )  # fmt: skip
    for text in ("Run 5 km without pain", "Sleep through the night", "Back to work part-time"):
        cli.ok("goal", "add", "P1", text, "--date", "2026-09-01")
    for text in ("Hip exercises, 3x a week", "Walk 20 minutes daily", "Sleep diary"):
        cli.ok(
            "task", "add", "P1", text, "--goal", "1", "--due", "2026-12-04", "--date", "2026-09-01"
        )
    cli.ok("task", "review", "1", "--adherence", "partly", "--date", "2026-11-28")
    for day in ("2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26", "2026-11-02"):
        cli.ok("session", "add", "P1", "--date", day, "--bond", "9", "--goal", "9", "--task", "8")
    cli.ok(
        "session", "add", "P1", "--date", "2026-11-30", "--bond", "4", "--goal", "7", "--task", "5",
        "--note", "felt unheard about pain",
    )  # fmt: skip
    return cli


def test_the_brief_fits_one_80x24_screen(seen: Cli) -> None:
    shown = seen.ok("prep", "P1").stdout
    lines = shown.splitlines()
    assert len(lines) <= 24, shown
    assert all(len(line) <= 80 for line in lines), shown
    assert "\x1b" not in shown
    for expected in (
        "expects: back to running",
        "bond 4 (-5) goal 7 (-2) task 5 (-3) total 16 (-10)",
        "Run 5 km without pain",
        "Sleep diary",
        "last partly 2026-11-28",
        "felt unheard about pain",
        "Focus (suggestions only: you decide)",
        "rupture",
    ):
        assert expected in shown.replace("\n       ", " "), expected


def test_the_brief_as_json_has_the_documented_keys(seen: Cli) -> None:
    data = json.loads(seen.ok("prep", "P1", "--format", "json").stdout)
    assert list(data) == JSON_KEYS
    assert data["patient"] == "P1" and len(data["goals"]) == 3 and len(data["tasks"]) == 3
    assert data["note"] == {"date": "2026-11-30", "text": "felt unheard about pain"}
    assert 1 <= len(data["focus"]) <= 3
    for point in data["focus"]:
        assert list(point)[:4] == ["dimension", "severity", "kind", "reason"]
        assert 2 <= len(point["suggestions"]) <= 3 and point["sources"]


def test_the_brief_in_markdown_keeps_user_text_inert(cli: Cli, fixed_today: date) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-09-01", "--expectations", "# not a *heading*")
    cli.ok(
        "session", "add", "P1", "--date", "2026-11-30", "--bond", "3", "--goal", "3", "--task", "3"
    )
    shown = cli.ok("prep", "P1", "--format", "markdown").stdout
    assert shown.startswith("# Before the next session with P1\n")
    assert "\\*heading\\*" in shown
    assert not any(line.startswith("# not") for line in shown.splitlines())


def test_prep_without_a_code_lists_patients_with_an_alert(seen: Cli) -> None:
    seen.ok("patient", "add", "P2", "--since", "2026-11-01")
    seen.ok(
        "session", "add", "P2", "--date", "2026-11-30", "--bond", "9", "--goal", "9", "--task", "9"
    )
    lines = seen.ok("prep").stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("P1  2026-11-30  ")
    assert lines[0].endswith("->  alliance prep P1")
    listed = json.loads(seen.ok("prep", "--format", "json").stdout)
    assert [entry["patient"] for entry in listed] == ["P1"]


def test_prep_of_an_unknown_patient_is_one_line(seen: Cli) -> None:
    result = seen("prep", "P9")
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1


def test_demo_patients_fit_80x24(fixed_today: date, tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    assert Cli(path)("demo", "--path", str(path), db=False).exit_code == 0
    for code in ("D01", "D02", "D03", "D04", "D05", "D06", "D07"):
        shown = Cli(path).ok("prep", code).stdout
        assert len(shown.splitlines()) <= 24 and max(map(len, shown.splitlines())) <= 80, shown
        for line in shown.splitlines():  # a score stays beside its name, an arrow beside both
            assert not re.search(r"\b(bond|goal|task|total|down|about)$|->$|^\s*->", line), line


def test_the_brief_shows_the_latest_repair_and_its_outcome(seen: Cli) -> None:
    seen.ok("repair", "add", "P1", "--strategy", "explore", "--date", "2026-12-01")
    data = json.loads(seen.ok("prep", "P1", "--format", "json").stdout)
    (repair,) = data["repairs"]
    assert (repair["strategy"], repair["outcome"]) == ("explore", "pending")
    shown = seen.ok("prep", "P1").stdout
    assert "Repair 2026-12-01 explore after rupture of 2026-11-30: pending" in shown
    assert len(shown.splitlines()) <= 24
