"""One pass over a patient's ratings, ordered by rater then date: every rule in O(n).

Each (rater, instrument) series is handled as lists: the totals with their running sums
find rupture candidates (a sudden fall is rare, so the full test runs on few sessions),
and only the sessions the caller selects are judged by the level, drop and decline
rules: all of them (history), those in a period (summary), or each series' last
(current flags). That is what lets a million-row caseload stream through in seconds.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import attrgetter

from alliance_cli.domain.flag_model import Flag, Rating
from alliance_cli.domain.flag_rules import (
    EPSILON,
    decline_flags,
    discrepancy_flags,
    drop_flags,
    level_flags,
    rupture_at,
    rupture_flag,
)
from alliance_cli.domain.rules import RuleSet, Thresholds

ALL = "all"
LATEST = "latest"


@dataclass(frozen=True)
class Selection:
    """Which sessions are judged: `all`, `latest` (each series' last), or a period."""

    mode: str = ALL
    since: date | None = None
    until: date | None = None


def period(since: date, until: date) -> Selection:
    return Selection("period", since, until)


@dataclass
class PatientScan:
    """The flags the selected sessions raised, every rupture, and each rater's latest."""

    flags: list[Flag] = field(default_factory=list)
    latest: dict[str, Rating] = field(default_factory=dict)
    tails: dict[str, tuple[Rating, ...]] = field(default_factory=dict)  # latest series' end
    dates: set[date] = field(default_factory=set)  # every session date, all raters


def _judged(series: Sequence[Rating], selection: Selection) -> range:
    if selection.mode == ALL:
        return range(len(series))
    if selection.mode == LATEST:
        return range(len(series) - 1, len(series))
    assert selection.since is not None and selection.until is not None
    dates = [r.date for r in series]
    return range(
        bisect.bisect_left(dates, selection.since), bisect.bisect_right(dates, selection.until)
    )


def _ruptures(patient: str, series: Sequence[Rating], rules: Thresholds) -> list[Flag]:
    """Every rupture of the series, repaired (info) or not (alert)."""
    minimum = rules.rupture_min_size
    if minimum is None or len(series) < 3:
        return []
    totals = [r.total for r in series]
    start = max(rules.rupture_min_history, 2)
    candidates = [
        i for i in range(start, len(totals)) if totals[i - 1] - totals[i] >= minimum - EPSILON
    ]
    if not candidates:
        return []
    sums = list(itertools.accumulate(totals))
    squares = list(itertools.accumulate(t * t for t in totals))
    flags = []
    for i in candidates:
        found = rupture_at(series[i], series[i - 1], i, sums[i - 1], squares[i - 1], rules)
        if found is None:
            continue
        repair = next((r for r in series[i + 1 :] if r.total >= found.back_to - EPSILON), None)
        flags.append(rupture_flag(patient, found, repair))
    return flags


def _series_flags(
    patient: str,
    series: Sequence[Rating],
    visits: Sequence[int],
    rules: Thresholds,
    selection: Selection,
) -> list[Flag]:
    flags = _ruptures(patient, series, rules)
    window = max(rules.decline_sessions, 2)
    for i in _judged(series, selection):
        rating = series[i]
        flags += level_flags(patient, rating, rules, visits[i] <= rules.early_sessions)
        if i:
            flags += drop_flags(patient, series[i - 1], rating, rules)
        flags += decline_flags(patient, series[max(0, i - window + 1) : i + 1], rules)
    return flags


def _discrepancies(
    patient: str,
    own: Sequence[Rating],
    other: Sequence[Rating],
    rules: RuleSet,
    selection: Selection,
) -> list[Flag]:
    """Patient (`own`) and therapist (`other`) ratings of the same judged session."""
    if selection.mode == LATEST:
        pairs = [(own[-1], other[-1])] if own[-1].date == other[-1].date else []
    else:
        by_date = {r.date: r for r in own}
        judged = [other[i] for i in _judged(other, selection)]
        pairs = [(by_date[t.date], t) for t in judged if t.date in by_date]
    flags = []
    for mine, theirs in pairs:
        threshold = rules.for_instrument(mine.instrument).discrepancy
        if mine.instrument == theirs.instrument and threshold is not None:
            flags += discrepancy_flags(patient, mine, theirs, threshold)
    return flags


def scan_patient(
    patient: str, ratings: Iterable[Rating], rules: RuleSet, selection: Selection
) -> PatientScan:
    """Ratings must come ordered by rater, then date (one per rater and date)."""
    result = PatientScan()
    by_rater: dict[str, list[Rating]] = {}
    for rater, group in itertools.groupby(ratings, key=attrgetter("rater")):
        rows = list(group)
        by_rater[rater] = rows
        result.latest[rater] = rows[-1]
        result.dates.update(map(attrgetter("date"), rows))
        instruments = set(map(attrgetter("instrument"), rows))
        for instrument in sorted(instruments):
            visits: Sequence[int]
            if len(instruments) == 1:
                series, visits = rows, range(1, len(rows) + 1)
            else:
                numbered = [(n, r) for n, r in enumerate(rows, 1) if r.instrument == instrument]
                series = [r for _, r in numbered]
                visits = [n for n, _ in numbered]
            thresholds = rules.for_instrument(instrument)
            result.flags += _series_flags(patient, series, visits, thresholds, selection)
            if series[-1] is rows[-1]:
                window = max(thresholds.decline_sessions, 2)
                result.tails[rater] = tuple(series[-window:])
    own, other = by_rater.get("patient"), by_rater.get("therapist")
    if own and other:
        result.flags += _discrepancies(patient, own, other, rules, selection)
    return result
