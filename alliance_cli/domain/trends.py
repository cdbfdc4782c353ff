"""Trends over sessions: what a chart shows, and which way a patient's alliance is going."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flags import Flag, Rating
from alliance_cli.domain.instruments import DIMENSIONS, Instrument


@dataclass(frozen=True)
class TrendData:
    patient: str
    instrument: Instrument
    rater: str
    ratings: tuple[Rating, ...]  # this rater, current instrument, date order, last N
    flags: tuple[Flag, ...]  # flags these ratings raised
    cutoff_total: float | None
    cutoff_dimension: float | None
    other_instruments: tuple[str, ...]  # used earlier, left out of the chart


def chart_dimensions(choice: str) -> tuple[str, ...]:
    """`all` means the three Bordin dimensions (they share a scale; total has its own)."""
    return DIMENSIONS if choice == "all" else (choice,)


def flagged_points(data: TrendData, shown: tuple[str, ...]) -> tuple[tuple[date, float], ...]:
    """Where to mark flags: the flagged dimension's point, else the lowest shown point."""
    by_date = {r.date: r for r in data.ratings}
    points = set()
    for flag in data.flags:
        rating = by_date.get(flag.date)
        if rating is None:
            continue
        if flag.dimension in shown:
            points.add((flag.date, rating.score(flag.dimension)))
        else:
            points.add((flag.date, min(rating.score(name) for name in shown)))
    return tuple(sorted(points))


def direction(ratings: Sequence[Rating], instrument_scale: float, *, rater: str = "patient") -> str:
    """`up`, `down` or `flat`: the latest total against the one before (same rater and
    instrument); a change under 5 % of the total scale counts as flat. `` without two."""
    own = sorted((r for r in ratings if r.rater == rater), key=lambda r: r.date)
    if len(own) < 2 or own[-1].instrument != own[-2].instrument:
        return ""
    change = own[-1].total - own[-2].total
    if abs(change) < 0.05 * instrument_scale:
        return "flat"
    return "up" if change > 0 else "down"
