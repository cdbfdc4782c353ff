"""`alliance` typed alone: the caseload at a glance, like `git status` (exit 0)."""

from __future__ import annotations

from datetime import date

import pytest

from alliance_cli.domain.flag_model import Flag
from alliance_cli.domain.glance import caseload_glance
from alliance_cli.render.glance import glance_lines
from tests.conftest import Cli


@pytest.fixture(autouse=True)
def _room(request: pytest.FixtureRequest) -> None:
    """The SQLite file's directory exists (alliance creates only its own data directory)."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").make_room()


DAY = date(2026, 12, 2)


def flag(patient: str, kind: str, severity: str, rater: str | None = "patient") -> Flag:
    return Flag(patient, kind, severity, "total", DAY, f"{kind} of {patient}", rater=rater)


def test_each_patient_once_in_its_most_severe_group() -> None:
    flags = [
        flag("A1", "drop", "alert"),
        flag("A1", "rupture", "alert"),
        flag("A1", "decline", "watch"),  # A1 has an alert: not listed again under watch
        flag("B2", "discrepancy", "watch"),
        flag("C3", "no-contact", "watch", rater=None),
        flag("D4", "rupture", "info"),  # repaired: not something to act on
    ]
    glance = caseload_glance(flags, as_of=DAY, in_care=5, seen=3)
    assert [(a.patient, a.kinds) for a in glance.alerts] == [("A1", ("rupture", "drop"))]
    assert [(a.patient, a.kinds) for a in glance.watch] == [("B2", ("discrepancy",))]
    assert [a.patient for a in glance.no_contact] == ["C3"]
    assert not glance.quiet


def test_a_flag_from_the_therapist_s_ratings_says_so() -> None:
    flags = [
        flag("A1", "low", "alert", rater="therapist"),
        flag("B2", "low", "alert"),
        flag("B2", "low", "alert", rater="therapist"),
        flag("C3", "discrepancy", "watch", rater="both"),
    ]
    glance = caseload_glance(flags, as_of=DAY, in_care=3, seen=3)
    assert [(a.patient, a.kinds) for a in glance.alerts] == [
        ("A1", ("therapist low",)),
        ("B2", ("low", "therapist low")),
    ]
    assert [(a.patient, a.kinds) for a in glance.watch] == [("C3", ("discrepancy",))]
    text = [line for _, line in glance_lines(glance)]
    assert "alert       A1 (therapist low), B2 (low, therapist low)" in text


def test_an_empty_caseload_is_never_all_clear() -> None:
    empty = caseload_glance([], as_of=DAY, in_care=0, seen=0)
    assert not empty.quiet
    text = "\n".join(line for _, line in glance_lines(empty))
    assert "No patients in care" in text and "Nothing needs attention" not in text
    quiet = caseload_glance([], as_of=DAY, in_care=2, seen=2)
    assert quiet.quiet
    assert "Nothing needs attention" in "\n".join(line for _, line in glance_lines(quiet))


def test_long_lists_wrap_at_the_width_without_splitting_a_code() -> None:
    flags = [flag(f"PATIENT-{n:03}", "low", "alert") for n in range(40)]
    lines = [
        line for _, line in glance_lines(caseload_glance(flags, as_of=DAY, in_care=40, seen=0))
    ]
    assert all(len(line) <= 80 for line in lines)
    shown = " ".join(lines)
    assert all(f"PATIENT-{n:03} (low)" in shown for n in range(40))


def test_alliance_alone_shows_the_caseload(cli: Cli, fixed_today: date) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-10-01")
    cli.ok("patient", "add", "P2", "--since", "2026-10-01")
    cli.ok(
        "session", "add", "P1", "--date", "2026-11-30", "--bond", "3", "--goal", "3", "--task", "3"
    )
    result = cli.ok()
    lines = result.stdout.splitlines()
    assert lines[0] == "Caseload on 2026-12-02: 2 patients in care, 1 seen in the last 7 days."
    # a low total in the first sessions is early-risk (shown instead of low)
    assert any(line.startswith("alert") and "P1 (early-risk)" in line for line in lines)
    assert any(line.startswith("no contact") and "P2" in line for line in lines)  # never seen
    assert "\x1b" not in result.stdout


@pytest.mark.sqlite_only
def test_alliance_alone_on_a_missing_database_is_exit_4(cli: Cli) -> None:
    result = cli()
    assert result.exit_code == 4 and "there is no database" in result.stderr
    assert not cli.db_path.exists()


def test_help_still_lists_the_commands(cli: Cli) -> None:
    shown = cli.ok("--help").stdout
    assert "Commands:" in shown and "session" in shown


def test_an_entry_wider_than_a_line_breaks_only_after_its_commas() -> None:
    """One patient with more kinds than a line holds: never cut inside a kind (nor
    between "therapist" and its kind), and no line wider than the terminal."""
    kinds = ("low", "drop", "rupture")
    flags = [flag("D02", kind, "alert", rater=rater) for kind in kinds for rater in RATERS]
    flags.append(flag("D03", "low", "alert"))
    glance = caseload_glance(flags, as_of=DAY, in_care=2, seen=2)
    lines = [line for label, line in glance_lines(glance, width=40) if label == "alert"]
    assert len(lines) > 1 and all(len(line) <= 40 for line in lines)
    assert all(line.rstrip().endswith((",", ")")) for line in lines), lines
    words = " ".join(" ".join(lines).split())
    assert words == (
        "alert D02 (rupture, drop, low, therapist rupture, therapist drop, therapist low), "
        "D03 (low)"
    )
    # an entry that fits stays whole on one line
    short = [line for _, line in glance_lines(glance, width=120)]
    assert any(line.endswith("D03 (low)") and "D02 (rupture," in line for line in short)


RATERS = ("patient", "therapist")
