"""The streamed caseload path gives exactly the flags of the one-patient path."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_cli.domain.flag_scan import LATEST, Selection, scan_patient
from alliance_cli.domain.flags import (
    History,
    Rating,
    current_flags,
    ordered,
    period_flags,
    select_current,
)
from alliance_cli.domain.rules import default_rules
from tests.conftest import Cli

RULES = default_rules()
START = date(2026, 1, 5)
TODAY = date(2026, 6, 1)
scores = st.sampled_from([x / 2 for x in range(0, 21)])


@st.composite
def histories(draw: Any) -> History:
    ratings = []
    for rater in ("patient", "therapist"):
        weeks = draw(st.lists(st.integers(0, 20), max_size=14, unique=True))
        for week in sorted(weeks):
            b, g, t = draw(scores), draw(scores), draw(scores)
            ratings.append(
                Rating(START + timedelta(weeks=week), rater, "quick", b, g, t, b + g + t)
            )
    reviews = draw(
        st.lists(
            st.tuples(
                st.integers(0, 20).map(lambda w: START + timedelta(weeks=w)),
                st.sampled_from(["done", "partly", "not-done"]),
            ),
            max_size=5,
        )
    )
    return History("P1", tuple(ratings), tuple(reviews), active=True, since=START)


def raw(rating: Rating) -> tuple[Any, ...]:
    """The row as SQLite gives it: the date still text."""
    return (rating.date.isoformat(), *rating[1:])


def materialise(row: Any) -> Rating:
    return Rating(date.fromisoformat(row[0]), *row[1:7])


@settings(max_examples=150, deadline=None)
@given(histories())
def test_streamed_current_flags_equal_the_pure_path(history: History) -> None:
    rows = [raw(r) for r in ordered(history.ratings)]
    scan = scan_patient(history.patient, rows, RULES, Selection(LATEST), materialise)
    streamed = select_current(history, scan, RULES, TODAY)
    assert streamed == current_flags(history, RULES, TODAY)


@settings(max_examples=150, deadline=None)
@given(histories(), st.integers(0, 20), st.integers(0, 6))
def test_streamed_period_flags_equal_the_pure_path(history: History, start: int, span: int) -> None:
    since = START + timedelta(weeks=start)
    until = since + timedelta(weeks=span)
    rows = [raw(r) for r in ordered(history.ratings)]
    streamed = period_flags(history, RULES, since, until, rows, materialise)
    assert streamed == period_flags(history, RULES, since, until)


def test_caseload_flags_equal_each_patients_flags(fixed_today: date, cli: Cli) -> None:
    cli.make_room()
    values = {"A": [9, 9, 9, 4], "B": [8, 7.5, 7, 6, 5.5, 5], "C": [8, 8, 8, 3.5, 8]}
    today = fixed_today
    for code, series in values.items():
        cli.ok("patient", "add", code)
        for week, value in enumerate(series):
            when = (today - timedelta(weeks=len(series) - week)).isoformat()
            v = f"{value:g}"
            cli.ok("session", "add", code, "--date", when, "--bond", v, "--goal", v, "--task", v)
    everyone = json.loads(cli.ok("flags", "--format", "json").stdout)
    for code in values:
        own = json.loads(cli.ok("flags", code, "--format", "json").stdout)
        assert [f for f in everyone if f["patient"] == code] == own
    history = json.loads(cli.ok("flags", "--history", "--format", "json").stdout)
    for code in values:
        own = json.loads(cli.ok("flags", code, "--history", "--format", "json").stdout)
        assert [f for f in history if f["patient"] == code] == own
