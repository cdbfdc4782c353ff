"""Trends over sessions: what a chart shows, and which way a patient's alliance is going."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flag_rules import EPSILON, fitted_fall
from alliance_cli.domain.flags import Flag, Rating
from alliance_cli.domain.instruments import DIMENSIONS, Instrument
from alliance_cli.domain.rules import Thresholds
from alliance_cli.domain.vocabulary import Rater

# The share of the total range a trend must move when the `decline` rule is switched off
# (what a clinic's own instrument gets as its decline threshold).
FALLBACK_TREND_SHARE = 0.1


@dataclass(frozen=True)
class TrendData:
    patient: str
    instrument: Instrument
    rater: Rater
    ratings: tuple[Rating, ...]  # this rater, current instrument, date order, last N
    flags: tuple[Flag, ...]  # flags raised on these sessions (this rater's, discrepancies)
    cutoff_total: float | None
    cutoff_dimension: float | None
    other_instruments: tuple[str, ...]  # used earlier, left out of the chart


def chart_dimensions(choice: str) -> tuple[str, ...]:
    """`all` means the three Bordin dimensions (one axis for them: `chart_range`)."""
    return DIMENSIONS if choice == "all" else (choice,)


def chart_range(instrument: Instrument, shown: tuple[str, ...]) -> tuple[float, float]:
    """The y axis: every possible score of each shown series (a sum-scored dimension's
    range grows with its item count, so bond and task may differ)."""
    ranges = [instrument.dimension_range(name) for name in shown]
    return min(low for low, _ in ranges), max(high for _, high in ranges)


def flagged_points(data: TrendData, shown: tuple[str, ...]) -> tuple[tuple[date, float], ...]:
    """Where to mark flags: the flagged dimension's point, else the lowest shown point.
    Only the charted rater's own flags: a discrepancy or the other rater's low is not a
    fact about these points."""
    by_date = {r.date: r for r in data.ratings}
    points = set()
    for flag in data.flags:
        rating = by_date.get(flag.date)
        if rating is None or flag.rater != data.rater:
            continue
        if flag.dimension in shown:
            points.add((flag.date, rating.score(flag.dimension)))
        else:
            points.add((flag.date, min(rating.score(name) for name in shown)))
    return tuple(sorted(points))


def trend_threshold(rules: Thresholds, total_span: float) -> float:
    """How far the fitted line must move to count as a trend: the `decline` threshold, or
    a tenth of the total range when that rule is off."""
    if rules.decline_total is not None:
        return rules.decline_total
    return FALLBACK_TREND_SHARE * total_span


def direction(
    ratings: Sequence[Rating], rules: Thresholds, total_span: float, *, rater: Rater = Rater.PATIENT
) -> str:
    """`up`, `down` or `flat`, by the `decline` rule's own measure: the least-squares line
    through the rater's last N totals (N = `decline_sessions`, fewer when there are fewer,
    one instrument) moves at least `trend_threshold`; a single last step does not decide.
    `` without two comparable ratings."""
    own = sorted((r for r in ratings if r.rater == rater), key=lambda r: r.date)
    if not own:
        return ""
    series = [r for r in own if r.instrument == own[-1].instrument]
    totals = [r.total for r in series[-max(rules.decline_sessions, 2) :]]
    if len(totals) < 2:
        return ""
    change = -fitted_fall(totals)
    if abs(change) < trend_threshold(rules, total_span) - EPSILON:
        return "flat"
    return "up" if change > 0 else "down"
