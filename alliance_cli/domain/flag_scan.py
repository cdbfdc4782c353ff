"""One pass over a patient's ratings, ordered by rater then date: every rule in O(n).

Each (rater, instrument) series is handled as lists: the totals with their running sums
find rupture candidates (a sudden fall is rare, so the full test runs on few sessions),
and only the sessions the caller selects are judged by the level, drop and decline
rules: all of them (history), those in a period (summary), or each series' last
(current flags). That is what lets a million-row caseload stream through in seconds.

Rows are `Rating`s, or plain tuples laid out like one (date, rater, instrument, bond,
goal, task, total) whose date may still be text: `materialise` turns the few rows the
rules look at into Ratings, so a caseload never pays for a million objects.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from alliance_cli.domain.flag_model import Flag, Rating
from alliance_cli.domain.flag_rules import (
    EPSILON,
    Rupture,
    decline_flags,
    discrepancy_flags,
    drop_flags,
    level_flags,
    rupture_flag,
    rupture_measure,
)
from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.rules import RuleSet, Thresholds
from alliance_cli.domain.vocabulary import Rater

ALL = "all"
LATEST = "latest"
RUPTURES = "ruptures"  # judge no session: only the ruptures every scan finds
Row = Sequence[Any]  # a Rating, or a tuple in Rating's layout
Materialise = Callable[[Row], Rating]
_DATE, _RATER, _INSTRUMENT, _TOTAL = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(6)


def as_rating(row: Row) -> Rating:
    """The default: rows already are Ratings."""
    assert isinstance(row, Rating)
    return row


@dataclass(frozen=True)
class Selection:
    """Which sessions are judged: `all`, `latest` (each series' last), `ruptures` (none:
    the scan still finds every rupture), or a period; with
    `last`, a period also judges each series' last session before it when it has none in
    it (what is still current at the period's end: one scan serves a whole report)."""

    mode: str = ALL
    since: date | None = None
    until: date | None = None
    last: bool = False


def period(since: date, until: date, *, last: bool = False) -> Selection:
    return Selection("period", since, until, last)


@dataclass
class PatientScan:
    """The flags the selected sessions raised, every rupture, and each rater's latest."""

    flags: list[Flag] = field(default_factory=list)
    latest: dict[str, Rating] = field(default_factory=dict)
    tails: dict[str, tuple[Rating, ...]] = field(default_factory=dict)  # latest series' end
    session_count: int = 0  # distinct session dates, all raters
    last_date: date | None = None


def _judged(series: Sequence[Row], selection: Selection, make: Materialise) -> range:
    if selection.mode == ALL:
        return range(len(series))
    if selection.mode == LATEST:
        return range(len(series) - 1, len(series))
    if selection.mode == RUPTURES:
        return range(0)
    assert selection.since is not None and selection.until is not None
    dates = list(map(_DATE, series))
    if not isinstance(dates[0], date):
        # Dates as the driver gave them (SQLite text): parse each distinct one once rather
        # than turn every row into a Rating (a damaged date still raises ValueError).
        dates = list(map(iso_date, dates))
    end = bisect.bisect_right(dates, selection.until)
    start = bisect.bisect_left(dates, selection.since, hi=end)
    if selection.last and start == end and end:
        return range(end - 1, end)  # no session in the period: the last one before it
    return range(start, end)


@functools.lru_cache(maxsize=8192)
def iso_date(text: str) -> date:
    """A date as SQLite gives it (ISO text), each distinct one parsed once."""
    return date.fromisoformat(text)


@dataclass(frozen=True)
class Fall:
    """A rupture in a series of totals: at index `at`, repaired at `repaired_at` (None:
    never), with the measures its flag reports."""

    at: int
    usual: float
    spread: float
    gap: float
    back_to: float
    repaired_at: int | None


def falls(totals: Sequence[float], rules: Thresholds) -> list[Fall]:
    """Every rupture of one series' totals (date order), each with its repair if any.

    A sudden fall is rare: the candidates come from one comparison per session; only
    series with one pay for running sums, and only candidates clearly below the usual
    level for sums of squares and the full test (`rupture_measure`).
    """
    minimum = rules.rupture_min_size
    if minimum is None or len(totals) < 3:
        return []
    start = max(rules.rupture_min_history, 2)
    edge = minimum - EPSILON
    # drops[k]: how far the total fell into session start + k. Loops in C (map, compress):
    # a caseload has a million sessions, and most series have few candidates or none.
    drops = map(operator.sub, totals[start - 1 : -1], totals[start:])
    candidates = list(
        itertools.compress(
            range(start, len(totals)), map(operator.ge, drops, itertools.repeat(edge))
        )
    )
    if not candidates:
        return []
    sums = list(itertools.accumulate(totals))
    squares: list[float] = []  # made for the first candidate that gets that far
    found = []
    for i in candidates:
        if sums[i - 1] / i - totals[i] < edge:
            continue  # not `minimum` below the usual level: rupture_measure would say no
        if not squares:
            squares = list(itertools.accumulate(map(operator.mul, totals, totals)))
        measured = rupture_measure(totals[i], totals[i - 1], i, sums[i - 1], squares[i - 1], rules)
        if measured is None:
            continue
        back_to = measured[3]
        repair = next(
            (j for j in range(i + 1, len(totals)) if totals[j] >= back_to - EPSILON), None
        )
        found.append(Fall(i, *measured, repair))
    return found


def _ruptures(
    patient: str, series: Sequence[Row], rules: Thresholds, make: Materialise
) -> list[Flag]:
    """Every rupture of the series, repaired (info) or not (alert)."""
    flags = []
    for fall in falls(list(map(_TOTAL, series)), rules):
        rupture = Rupture(make(series[fall.at]), fall.usual, fall.spread, fall.gap, fall.back_to)
        repair = None if fall.repaired_at is None else make(series[fall.repaired_at])
        flags.append(rupture_flag(patient, rupture, repair))
    return flags


def _series_flags(
    patient: str,
    series: Sequence[Row],
    visits: Sequence[int],
    rules: Thresholds,
    selection: Selection,
    make: Materialise,
) -> list[Flag]:
    flags = _ruptures(patient, series, rules, make)
    size = max(rules.decline_sessions, 2)
    for i in _judged(series, selection, make):
        window = [make(row) for row in series[max(0, i - size + 1) : i + 1]]
        rating = window[-1]
        flags += level_flags(patient, rating, rules, visits[i] <= rules.early_sessions)
        if i:
            flags += drop_flags(patient, window[-2], rating, rules)
        flags += decline_flags(patient, window, rules)
    return flags


def _discrepancies(
    patient: str,
    own: Sequence[Row],
    other: Sequence[Row],
    rules: RuleSet,
    selection: Selection,
    make: Materialise,
) -> list[Flag]:
    """Patient (`own`) and therapist (`other`) ratings of the same judged session, each
    compared with the dyad's usual gap: the mean of its earlier patient-minus-therapist
    gaps with the same instrument (bond, goal, task: columns 3-5 of a row)."""
    by_date = {row[0]: row for row in own}
    judged = set(_judged(other, selection, make))
    if selection.mode == LATEST and own[-1][0] != other[-1][0]:
        judged = set()
    sums: dict[str, list[float]] = {}  # instrument -> gap sums per dimension, then count
    flags = []
    for i, theirs in enumerate(other):
        mine = by_date.get(theirs[0])
        if mine is None or mine[2] != theirs[2]:
            continue
        running = sums.setdefault(mine[2], [0.0, 0.0, 0.0, 0.0])
        if i in judged:
            thresholds = rules.for_instrument(mine[2])
            if (thresholds.discrepancy, thresholds.discrepancy_patient_higher) != (None, None):
                count = running[3]
                usual = (
                    {name: running[k] / count for k, name in enumerate(DIMENSIONS)}
                    if count
                    else None
                )
                flags += discrepancy_flags(
                    patient,
                    make(mine),
                    make(theirs),
                    thresholds.discrepancy,
                    usual,
                    thresholds.discrepancy_patient_higher,
                )
        for k in range(3):
            running[k] += mine[3 + k] - theirs[3 + k]
        running[3] += 1
    return flags


def scan_patient(
    patient: str,
    rows: Iterable[Row],
    rules: RuleSet,
    selection: Selection,
    materialise: Materialise = as_rating,
) -> PatientScan:
    """Rows must come ordered by rater, then date (one per rater and date)."""
    make = materialise
    result = PatientScan()
    by_rater: dict[str, list[Row]] = {}
    for rater, group in itertools.groupby(rows, key=_RATER):
        listed = list(group)
        by_rater[rater] = listed
        result.latest[rater] = make(listed[-1])
        instruments = set(map(_INSTRUMENT, listed))
        for instrument in sorted(instruments):
            visits: Sequence[int]
            if len(instruments) == 1:
                series, visits = listed, range(1, len(listed) + 1)
            else:
                numbered = [(n, r) for n, r in enumerate(listed, 1) if r[2] == instrument]
                series = [r for _, r in numbered]
                visits = [n for n, _ in numbered]
            thresholds = rules.for_instrument(instrument)
            result.flags += _series_flags(patient, series, visits, thresholds, selection, make)
            if series[-1] is listed[-1] and selection.mode != RUPTURES:
                size = max(thresholds.decline_sessions, 2)
                result.tails[rater] = tuple(make(row) for row in series[-size:])
    own, other = by_rater.get(Rater.PATIENT), by_rater.get(Rater.THERAPIST)
    if own and other and selection.mode != RUPTURES:  # a discrepancy judges sessions
        result.flags += _discrepancies(patient, own, other, rules, selection, make)
    if len(by_rater) == 1:  # one rating set per rater and date: no set needed
        result.session_count = len(next(iter(by_rater.values())))
    else:
        result.session_count = len({row[0] for listed in by_rater.values() for row in listed})
    if result.latest:
        result.last_date = max(r.date for r in result.latest.values())
    return result
