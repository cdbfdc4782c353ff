"""The weekly summary's period (`--last-week`, `--as-of`) and what is still open at its end.

Pure tests of the period arithmetic and of `still_open` in domain/, then the real CLI
(SQLite and PostgreSQL) with "today" fixed: a report as of a past day is the report that
day gave, whatever was entered since.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_cli.domain.flags import (
    History,
    Rating,
    current_flags,
    in_care,
    period_flags,
    period_scan,
    rows_up_to,
    still_open,
    up_to,
)
from alliance_cli.domain.rules import default_rules
from alliance_cli.domain.summary import Period, build_summary, last_days, last_week
from alliance_cli.errors import InvalidInput
from tests.conftest import Cli, fix_today

ROOT = Path(__file__).parent.parent
RULES = default_rules()
WEDNESDAY = date(2026, 12, 2)
LAST_WEEK = Period(date(2026, 11, 23), date(2026, 11, 29))  # before WEDNESDAY's week

# -- period arithmetic ---------------------------------------------------------------


@pytest.mark.parametrize("offset", range(7))
def test_last_week_is_the_week_before_the_current_one_on_every_weekday(offset: int) -> None:
    today = date(2026, 11, 30) + timedelta(days=offset)  # Monday .. Sunday
    assert last_week(today) == LAST_WEEK


def test_last_week_on_a_monday_is_the_week_that_ended_yesterday() -> None:
    monday = date(2026, 12, 7)
    assert last_week(monday) == Period(date(2026, 11, 30), monday - timedelta(days=1))


def test_last_week_on_a_sunday_is_not_the_current_unfinished_week() -> None:
    sunday = date(2026, 12, 6)
    assert last_week(sunday).until == sunday - timedelta(days=7)


@settings(max_examples=300)
@given(st.dates(min_value=date(1, 1, 14)))
def test_last_week_is_a_whole_week_ended_within_seven_days(today: date) -> None:
    week = last_week(today)
    assert week.since.weekday() == 0 and week.until.weekday() == 6  # Monday .. Sunday
    assert week.days == 7
    assert week.until < today and (today - week.until).days <= 7


@settings(max_examples=300)
@given(st.dates(min_value=date(1, 1, 14), max_value=date(9999, 12, 1)))
def test_weekly_runs_report_every_week_once(today: date) -> None:
    """Run daily, the week reported moves on only on Mondays, by exactly one week."""
    step = last_week(today + timedelta(days=1)).since - last_week(today).since
    monday_next = (today + timedelta(days=1)).weekday() == 0
    assert step == timedelta(days=7 if monday_next else 0)


def test_last_week_before_year_one_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="no full week before"):
        last_week(date(1, 1, 3))


def test_last_days_includes_today() -> None:
    assert last_days(WEDNESDAY, 7) == Period(date(2026, 11, 26), WEDNESDAY)
    assert last_days(WEDNESDAY, 1) == Period(WEDNESDAY, WEDNESDAY)
    with pytest.raises(InvalidInput, match="before year 1"):
        last_days(WEDNESDAY, 10**9)


# -- still open, in domain/ ----------------------------------------------------------


def rating(day: date, value: float, rater: str = "patient") -> Rating:
    return Rating(day, rater, "quick", value, value, value, 3 * value)


def weekly(start: date, values: list[float], rater: str = "patient") -> tuple[Rating, ...]:
    return tuple(rating(start + timedelta(weeks=i), v, rater) for i, v in enumerate(values))


# Four steady sessions from 2026-10-05, a rupture on 2026-11-02 (three weeks before
# LAST_WEEK), then sessions too low to repair it but above the cut-off (total 21).
RUPTURE_DAY = date(2026, 11, 2)
RUPTURED = weekly(date(2026, 10, 5), [8, 8.5, 8, 8.5, 4, 7, 7, 7])


def summary_of(*histories: History, period: Period = LAST_WEEK) -> Any:
    return build_summary(histories, period, RULES)


def test_an_unrepaired_rupture_from_weeks_ago_is_still_open() -> None:
    report = summary_of(History("R", RUPTURED, since=date(2026, 10, 1)))
    assert report.flags == ()  # nothing was raised in the period itself
    assert [(f.kind, f.severity, f.date) for f in report.still_open] == [
        ("rupture", "alert", RUPTURE_DAY)
    ]
    assert report.still_open_alerts == 1 and report.alerts == 0


def test_a_rupture_repaired_in_the_period_is_no_longer_open() -> None:
    repaired = (*RUPTURED[:-1], rating(LAST_WEEK.since + timedelta(days=1), 8))
    report = summary_of(History("R", repaired))
    assert report.still_open == ()
    assert [(f.date, f.repaired_on) for f in report.repaired] == [
        (RUPTURE_DAY, LAST_WEEK.since + timedelta(days=1))
    ]


def test_a_repair_after_the_period_is_not_known_at_its_end() -> None:
    later = (*RUPTURED, rating(LAST_WEEK.until + timedelta(days=1), 8))
    report = summary_of(History("R", later))
    assert [f.kind for f in report.still_open] == ["rupture"]
    assert report == summary_of(History("R", RUPTURED))


def test_a_rupture_in_the_period_repaired_after_it_is_an_alert_of_the_period() -> None:
    day = LAST_WEEK.since
    ratings = (
        *weekly(day - timedelta(weeks=4), [8, 8.5, 8, 8.5, 4]),
        rating(day + timedelta(8), 8),
    )
    report = summary_of(History("R", ratings))
    assert "rupture" in [f.kind for f in report.flags] and report.repaired == ()


def test_a_patient_last_seen_below_the_cut_off_is_still_open() -> None:
    low = weekly(date(2026, 10, 12), [7.5, 7.5, 7, 6.5])  # total 19.5 on 2026-11-02
    open_flags = summary_of(History("L", low)).still_open
    assert [(f.kind, f.dimension, f.date) for f in open_flags] == [
        ("low", "total", date(2026, 11, 2))
    ]


def test_flags_raised_in_the_period_are_not_repeated_as_still_open() -> None:
    low = weekly(date(2026, 11, 2), [7.5, 7.5, 7, 6.5])  # low on 2026-11-23, in the period
    report = summary_of(History("L", low))
    assert [f.kind for f in report.flags] == ["low"] and report.still_open == ()


def test_no_contact_and_discharged_patients_are_not_still_open() -> None:
    quiet = weekly(date(2026, 9, 7), [8, 8, 8])  # long ago: no contact, in its own section
    report = summary_of(History("Q", quiet), History("D", RUPTURED, active=False))
    assert report.still_open == ()
    assert [n.patient for n in report.no_contact] == ["Q"]


def test_a_patient_whose_care_starts_after_the_period_has_no_contact_due() -> None:
    later = History("N", (), since=LAST_WEEK.until + timedelta(days=1))
    assert summary_of(later).no_contact == ()
    assert [n.patient for n in summary_of(History("N", ())).no_contact] == ["N"]


def test_in_care_follows_the_start_and_the_discharge() -> None:
    day = date(2026, 11, 15)
    assert in_care("active", None, None, day)
    assert not in_care("active", day + timedelta(days=1), None, day)
    assert in_care("discharged", day, day + timedelta(days=1), day)
    assert not in_care("discharged", None, day, day)  # discharged that day: out of care
    assert not in_care("discharged", None, None, day)


scores = st.sampled_from([x / 2 for x in range(0, 21)])


@st.composite
def histories(draw: Any) -> History:
    start = date(2026, 1, 5)
    ratings = []
    for rater in ("patient", "therapist"):
        for week in sorted(draw(st.lists(st.integers(0, 20), max_size=12, unique=True))):
            b, g, t = draw(scores), draw(scores), draw(scores)
            day = start + timedelta(weeks=week, days=draw(st.integers(0, 1)))
            ratings.append(Rating(day, rater, "quick", b, g, t, b + g + t))
    reviews = draw(
        st.lists(
            st.tuples(
                st.integers(0, 140).map(lambda d: start + timedelta(days=d)),
                st.sampled_from(["done", "partly", "not-done"]),
            ),
            max_size=5,
        )
    )
    return History("P1", tuple(ratings), tuple(reviews), active=True, since=start)


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(0, 150), st.integers(0, 30))
def test_still_open_is_what_flags_showed_at_the_end_less_the_period(
    history: History, start: int, span: int
) -> None:
    """One scan serves the period and what is still open: the same as `flags` on the
    period's last day, less what the period raised, info and no-contact."""
    since = date(2026, 1, 5) + timedelta(days=start)
    until = since + timedelta(days=span)
    past = up_to(history, until)
    rows = sorted(past.ratings, key=lambda r: (r.rater, r.date, r.instrument))
    scan = period_scan(past, RULES, since, until, rows)
    expected = [
        f
        for f in current_flags(history, RULES, until)
        if f.date < since and f.severity != "info" and f.kind != "no-contact"
    ]
    assert still_open(past, scan, RULES, since, until) == expected
    assert period_flags(history, RULES, since, until) == period_flags(past, RULES, since, until)


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(0, 160), st.booleans())
def test_rows_up_to_keeps_exactly_the_rows_dated_by_then(
    history: History, offset: int, as_text: bool
) -> None:
    day = date(2026, 1, 5) + timedelta(days=offset)
    rows: list[Any] = sorted(history.ratings, key=lambda r: (r.rater, r.date))
    if as_text:  # as SQLite gives them
        rows = [(r.date.isoformat(), *r[1:]) for r in rows]
    kept = rows_up_to(rows, day)
    assert list(kept) == [r for r in rows if date.fromisoformat(str(r[0])) <= day]
    if all(date.fromisoformat(str(r[0])) <= day for r in rows):
        assert kept is rows  # nothing later: no copy


@pytest.mark.sqlite_only
def test_a_report_as_of_a_day_still_streams_in_index_order(cli: Cli, fixed_today: date) -> None:
    """As of a day, patients discharged after it are in care: chosen in SQL, still in one
    ordered read (no sort of every row); later ratings are left out in Python."""
    from alliance_cli.paths import resolve_database
    from alliance_cli.services.reports.caseload import SOME_SERIES_SQL, _series, stream_patients
    from alliance_cli.store.engine import open_database

    cli.make_room()
    cli.ok("patient", "add", "A")
    cli.ok("patient", "add", "B")
    rate(cli, "A", date(2026, 11, 20), 8)
    rate(cli, "B", date(2026, 11, 21), 8)
    rate(cli, "A", date(2026, 11, 27), 8)
    cli.ok("patient", "discharge", "B", "--date", "2026-11-25", "--ending", "mutual")
    db = open_database(resolve_database(cli.db))
    try:
        with db.read() as session:
            day = date(2026, 11, 21)
            rows = _series(session, active_only=True, clinician=None, as_of=day)
            assert sorted(str(row[0]) for row in rows) == ["2026-11-20", "2026-11-21", "2026-11-27"]
            streamed = {p.meta.code: p for p in stream_patients(session, as_of=day)}
            assert {code: [r[0] for r in p.rows] for code, p in streamed.items()} == {
                "A": ["2026-11-20"],
                "B": ["2026-11-21"],
            }
            assert streamed["B"].history.active
            assert [p.meta.code for p in stream_patients(session)] == ["A"]
            where = "(p.status = 'active' OR p.discharged_on > ?) AND p.clinician = ?"
            plan = session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + SOME_SERIES_SQL.format(where=where), ("2026-11-21", "x")
            )
            assert "TEMP B-TREE" not in " ".join(str(row[-1]) for row in plan)
    finally:
        db.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("command", [["flags"], ["summary", "--last-week"]])
def test_a_damaged_date_fails_a_report_as_of_a_past_day_too(
    cli: Cli, fixed_today: date, command: list[str]
) -> None:
    """A date that is not a date is never left out unseen (as later than the day)."""
    cli.make_room()
    cli.ok("patient", "add", "A")
    rate(cli, "A", date(2026, 11, 20), 8)
    rate(cli, "A", date(2026, 11, 27), 8)
    cli.sql("UPDATE session_rating SET date = 'zz-damaged' WHERE id = 2")
    result = cli(*command, "--as-of", "2026-11-22")
    assert result.exit_code in (4, 5) and "zz-damaged" not in result.stderr + result.stdout


# -- through the CLI -----------------------------------------------------------------


def rate(cli: Cli, code: str, when: date, value: float, rater: str = "patient") -> None:
    v = f"{value:g}"
    cli.ok(
        "session", "add", code, "--date", when.isoformat(), "--rater", rater,
        "--bond", v, "--goal", v, "--task", v,
    )  # fmt: skip


def as_json(cli: Cli, *args: str) -> Any:
    return json.loads(cli.ok(*args, "--format", "json").stdout)


@pytest.fixture
def ruptured(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """R had a rupture on 2026-11-02, not repaired by the end of last week; S is steady."""
    fix_today(monkeypatch, WEDNESDAY)
    cli.make_room()
    cli.ok("patient", "add", "R", "--since", "2026-10-01")
    cli.ok("patient", "add", "S", "--since", "2026-10-01")
    for r in RUPTURED:
        rate(cli, "R", r.date, r.bond)
        rate(cli, "S", r.date, 8)
    return cli


def test_summary_lists_a_rupture_from_three_weeks_ago_until_it_is_repaired(
    ruptured: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = as_json(ruptured, "summary", "--last-week")
    assert (report["since"], report["until"]) == ("2026-11-23", "2026-11-29")
    assert report["flags"] == [] and report["alerts"] == 0
    assert [(f["patient"], f["kind"], f["date"]) for f in report["still_open"]] == [
        ("R", "rupture", "2026-11-02")
    ]
    assert report["still_open_alerts"] == 1
    # Same keys per item as `flags --format json`, same content as `flags` that day.
    flags = as_json(ruptured, "flags", "--as-of", "2026-11-29")
    assert report["still_open"] == [f for f in flags if f["kind"] == "rupture"]
    text = ruptured.ok("summary", "--last-week").stdout
    assert (
        "Still open from before the period (alerts first):\n  ALERT R 2026-11-02 rupture: total"
        in text
    )
    assert "Alerts: 0 raised in the period, 1 still open from before" in text
    markdown = ruptured.ok("summary", "--last-week", "--format", "markdown").stdout
    assert "## Still open from before the period\n\n| severity |" in markdown
    assert "| alert | R | 2026-11-02 | rupture: total " in markdown

    rate(ruptured, "R", date(2026, 11, 30), 8)  # repaired this week: not in last week's report
    assert as_json(ruptured, "summary", "--last-week") == report
    fix_today(monkeypatch, date(2026, 12, 7))  # a week later, the repair is in the period
    later = as_json(ruptured, "summary", "--last-week")
    assert later["still_open"] == [] and later["still_open_alerts"] == 0
    assert [(f["patient"], f["repaired_on"]) for f in later["ruptures_repaired"]] == [
        ("R", "2026-11-30")
    ]
    text = ruptured.ok("summary", "--last-week").stdout
    assert "Still open from before the period: none" in text
    markdown = ruptured.ok("summary", "--last-week", "-f", "markdown").stdout
    assert "None: nothing raised before the period is still open." in markdown


def test_fail_on_flags_counts_alerts_still_open(
    ruptured: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_alert = ruptured("summary", "--last-week", "--fail-on-flags")
    assert open_alert.exit_code == 3, open_alert.stderr  # nothing raised, a rupture open
    rate(ruptured, "R", date(2026, 11, 30), 8)
    fix_today(monkeypatch, date(2026, 12, 7))
    clear = ruptured("summary", "--last-week", "--fail-on-flags")
    assert clear.exit_code == 0, clear.stderr
    # A still-open watch flag alone (tasks missed before the period) is not an alert.
    ruptured.ok("task", "add", "S", "Walk daily")
    for day in ("2026-12-01", "2026-12-02"):
        ruptured.ok("task", "review", "1", "--adherence", "not-done", "--date", day)
    watch = as_json(ruptured, "summary", "--since", "2026-12-06", "--until", "2026-12-06")
    assert [(f["kind"], f["severity"]) for f in watch["still_open"]] == [("tasks-missed", "watch")]
    quiet = ruptured("summary", "--since", "2026-12-06", "--until", "2026-12-06", "--fail-on-flags")
    assert quiet.exit_code == 0, quiet.stderr


def test_last_week_is_the_previous_monday_to_sunday_week(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    fix_today(monkeypatch, date(2026, 12, 6))
    cli.make_room()
    cli.ok("patient", "add", "W", "--since", "2026-11-01")
    for day in (date(2026, 11, 22), date(2026, 11, 23), date(2026, 11, 29), date(2026, 11, 30)):
        rate(cli, "W", day, 8)
    for today in (date(2026, 11, 30), WEDNESDAY, date(2026, 12, 6)):  # Monday .. Sunday
        fix_today(monkeypatch, today)
        report = as_json(cli, "summary", "--last-week")
        assert (report["since"], report["until"]) == ("2026-11-23", "2026-11-29")
        assert report["sessions_held"] == 2  # Sunday the 22nd and Monday the 30th left out
        assert report["patients"][0]["latest"]["date"] == "2026-11-29"
    text = cli.ok("summary", "--last-week").stdout
    assert text.startswith("Alliance summary 2026-11-23 to 2026-11-29 (7 days)\n")


def test_as_of_makes_an_earlier_report_again_exactly(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reports made on a day equal, byte for byte, those made later `--as-of` that day,
    after more sessions, reviews, a repair, a discharge and a new patient."""
    day = date(2026, 11, 25)
    fix_today(monkeypatch, day)
    cli.make_room()
    for code in ("R", "S", "Q"):
        cli.ok("patient", "add", code, "--since", "2026-09-01")
    for r in RUPTURED[:-1]:  # up to 2026-11-16
        rate(cli, "R", r.date, r.bond)
        rate(cli, "S", r.date, 8)
    rate(cli, "Q", date(2026, 9, 14), 7)  # no contact since
    rate(cli, "S", date(2026, 11, 23), 6, rater="therapist")
    cli.ok("task", "add", "R", "Walk daily")
    cli.ok("task", "review", "1", "--adherence", "not-done", "--date", "2026-11-20")
    cli.ok("task", "review", "1", "--adherence", "not-done", "--date", "2026-11-24")
    reports = [
        ["summary"],
        ["summary", "--last-week"],
        ["summary", "--days", "30", "--format", "markdown"],
        ["summary", "--since", "yesterday", "--format", "json"],
        ["summary", "--since", "2026-11-01", "--format", "json", "--fail-on-flags"],
        ["flags"],
        ["flags", "--format", "csv"],
        ["flags", "--history", "--format", "json"],
        ["flags", "R", "--format", "json"],
        ["flags", "Q"],
    ]
    before = [cli(*argv) for argv in reports]
    assert (
        "ALERT R 2026-11-02 rupture" in before[0].stdout and "Q  last session" in before[0].stdout
    )
    assert "no-contact" in before[-1].stdout

    fix_today(monkeypatch, date(2026, 12, 9))
    rate(cli, "R", date(2026, 11, 26), 8)  # the rupture repaired the next day
    rate(cli, "S", date(2026, 11, 30), 4)
    cli.ok("task", "review", "1", "--adherence", "done", "--date", "2026-12-01")
    cli.ok("patient", "discharge", "Q", "--date", "2026-12-01", "--ending", "dropout")
    cli.ok("patient", "add", "NEW", "--since", "2026-12-02")
    cli.ok("goal", "add", "R", "Run again")
    cli.ok("goal", "status", "1", "achieved")
    for argv, then in zip(reports, before, strict=True):
        again = cli(*argv, "--as-of", day.isoformat())
        assert (again.exit_code, again.stdout) == (then.exit_code, then.stdout), argv
    assert cli.ok("flags").stdout != before[5].stdout  # today's report has moved on
    now = as_json(cli, "summary")
    assert [f for f in now["still_open"] if f["patient"] == "R"] == []  # repaired
    assert "NEW" in [n["patient"] for n in now["no_contact"]]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["summary", "--last-week", "--days", "7"], "give --last-week or --days, not both"),
        (["summary", "--last-week", "--since", "2026-11-01"], "--last-week or --since"),
        (["summary", "--last-week", "--until", "2026-11-01"], "--last-week or --until"),
        (["summary", "--days", "7", "--since", "2026-11-01"], "give --days or --since"),
        (["summary", "--as-of", "2026-11-01", "--until", "2026-11-01"], "--as-of or --until"),
        (["summary", "--as-of", "2026-12-03"], "--as-of 2026-12-03 is in the future"),
        (["summary", "--last-week", "--as-of", "tomorrow"], "is not a date"),
        (["flags", "--as-of", "2026-12-03"], "--as-of 2026-12-03 is in the future"),
        (["flags", "P1", "--as-of", "2027-01-01"], "in the future"),
        (["summary", "--as-of", "2026-11-01", "--since", "2026-11-02"], "after --as-of 2026-11-01"),
        (["summary", "--since", "2026-12-03"], "--since 2026-12-03 is after today 2026-12-02"),
        (["summary", "--days", "999999999"], "before year 1"),
    ],
)
def test_period_options_that_contradict_are_one_line_errors(
    cli: Cli, fixed_today: date, argv: list[str], words: str
) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")
    result = cli(*argv)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert words in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_as_of_moves_today_for_every_relative_option(cli: Cli, fixed_today: date) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")
    as_of = ["--as-of", "2026-11-18"]
    periods = {
        (): ("2026-11-12", "2026-11-18"),
        ("--days", "3"): ("2026-11-16", "2026-11-18"),
        ("--last-week",): ("2026-11-09", "2026-11-15"),
        ("--since", "yesterday"): ("2026-11-17", "2026-11-18"),
        ("--as-of", "today"): ("2026-11-26", "2026-12-02"),
    }
    for extra, expected in periods.items():
        argv = ["summary", *extra, *(as_of if "--as-of" not in extra else [])]
        report = as_json(cli, *argv)
        assert (report["since"], report["until"]) == expected, argv
    assert cli.ok("flags", "--as-of", "2026-11-18").stderr.startswith(
        "No flags: nothing needed attention on 2026-11-18."
    )


def test_cron_script_reports_last_week_and_fails_on_an_open_rupture(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """examples/weekly_summary.sh in cron's bare environment, re-run for a past Monday
    (DATE argument): last week's file, exit 3 for the rupture still open."""
    fix_today(monkeypatch, date(2025, 6, 4))  # a past day, whatever the real clock says
    cli.make_room()
    cli.ok("patient", "add", "R", "--since", "2025-03-01")
    for r in weekly(date(2025, 4, 7), [8, 8.5, 8, 8.5, 4, 7, 7, 7]):  # rupture 2025-05-05
        rate(cli, "R", r.date, r.bond)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "alliance"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m alliance_cli "$@"\n')
    shim.chmod(0o755)
    out_dir = tmp_path / "summaries"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "ALLIANCE_DB": cli.db}
    script = str(ROOT / "examples" / "weekly_summary.sh")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), "sh", script]
        return subprocess.run([*command, *args], capture_output=True, text=True, cwd=ROOT)

    result = run(str(out_dir), "2025-06-02")  # a Monday: the week of 26 May to 1 June
    assert result.returncode == 3, result.stderr
    written = out_dir / "alliance-summary-2025-06-02.md"
    assert result.stdout == f"alliance: alerts raised last week or still open, see {written}\n"
    body = written.read_text()
    assert body.startswith("# Alliance summary 2025-05-26 to 2025-06-01\n")
    assert "| alert | R | 2025-05-05 | rupture: total " in body and "\x1b" not in body
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert "Traceback" not in result.stderr
    before = run(str(out_dir), "2025-05-05")  # the week before the rupture: all clear
    assert before.returncode == 0, before.stderr
    assert (out_dir / "alliance-summary-2025-05-05.md").exists()
    usage = run()
    assert usage.returncode != 0 and "usage: weekly_summary.sh DIR [DATE]" in usage.stderr
