"""Flags that catch a weakening alliance, computed from a patient's history alone.

Pure functions over plain data: the same history always gives the same flags, whatever
order its rows arrive in. Each rater's ratings with one instrument form one series;
scores are never compared across instruments. Rules and defaults: README, "Flags".
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.rules import RuleSet, Thresholds

Day = date  # the type, where a field named `date` shadows it

SEVERITIES = ("alert", "watch", "info")
KINDS = (
    "low",
    "drop",
    "decline",
    "rupture",
    "discrepancy",
    "early-risk",
    "no-contact",
    "tasks-missed",
)
_SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Rating:
    """One rating set as the flag engine sees it."""

    date: date
    rater: str
    instrument: str
    bond: float
    goal: float
    task: float
    total: float

    def score(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True)
class History:
    """A patient's ratings and task reviews (date, adherence), in any order."""

    patient: str
    ratings: tuple[Rating, ...]
    reviews: tuple[tuple[date, str], ...] = ()
    active: bool = True
    since: date | None = None


@dataclass(frozen=True)
class Flag:
    patient: str
    kind: str
    severity: str
    dimension: str | None
    date: date
    message: str
    rater: str | None = None
    repaired_on: Day | None = None
    instrument: str | None = None  # the series a rating flag belongs to (not shown)

    def sort_key(self) -> tuple[int, str, int, str, str, str, str]:
        """A total order, so output never depends on set or hash order."""
        return (
            _SEVERITY_RANK[self.severity],
            self.patient,
            -self.date.toordinal(),
            self.kind,
            self.dimension or "",
            self.rater or "",
            self.message,
        )


def _n(value: float) -> str:
    return f"{value:.1f}"


def _who(rater: str) -> str:
    return "" if rater == "patient" else f"{rater} rating: "


def _series(history: History) -> dict[tuple[str, str], list[Rating]]:
    """Ratings grouped by (rater, instrument), each in date order."""
    groups: dict[tuple[str, str], list[Rating]] = {}
    for rating in sorted(history.ratings, key=lambda r: (r.date, r.rater, r.instrument)):
        groups.setdefault((rating.rater, rating.instrument), []).append(rating)
    return groups


def _early_dates(history: History, rater: str, count: int) -> set[date]:
    dates = sorted({r.date for r in history.ratings if r.rater == rater})
    return set(dates[:count])


def series_flags(
    patient: str, series: Sequence[Rating], rules: Thresholds, early: set[date]
) -> list[Flag]:
    """Every flag each rating of one (rater, instrument) series raises."""
    flags: list[Flag] = []
    for index, rating in enumerate(series):
        previous = series[index - 1] if index else None
        flags += _level_flags(patient, rating, rules, rating.date in early)
        if previous is not None:
            flags += _drop_flags(patient, previous, rating, rules)
        flags += _decline_flags(patient, series[: index + 1], rules)
        flags += _rupture_flags(patient, series, index, rules)
    return flags


def _flag(
    patient: str,
    rating: Rating,
    kind: str,
    severity: str,
    dimension: str | None,
    message: str,
) -> Flag:
    return Flag(
        patient=patient,
        kind=kind,
        severity=severity,
        dimension=dimension,
        date=rating.date,
        message=_who(rating.rater) + message,
        rater=rating.rater,
        instrument=rating.instrument,
    )


def _level_flags(patient: str, rating: Rating, rules: Thresholds, early: bool) -> list[Flag]:
    flags = []
    if early and rules.early_total is not None and rating.total < rules.early_total:
        flags.append(
            _flag(
                patient,
                rating,
                "early-risk",
                "alert",
                "total",
                f"low alliance early in care: total {_n(rating.total)} below "
                f"{_n(rules.early_total)} (dropout risk)",
            )
        )
    elif rules.low_total is not None and rating.total < rules.low_total:
        flags.append(
            _flag(
                patient,
                rating,
                "low",
                "alert",
                "total",
                f"total {_n(rating.total)} is below the cut-off {_n(rules.low_total)}",
            )
        )
    if rules.low_dimension is not None and not flags:  # a low total already says it
        for name in DIMENSIONS:
            if rating.score(name) < rules.low_dimension:
                flags.append(
                    _flag(
                        patient,
                        rating,
                        "low",
                        "watch",
                        name,
                        f"{name} {_n(rating.score(name))} is below the cut-off "
                        f"{_n(rules.low_dimension)}",
                    )
                )
    return flags


def _fell(name: str, previous: Rating, rating: Rating, extra: str = "") -> str:
    fall = previous.score(name) - rating.score(name)
    return (
        f"{name} fell {_n(fall)} points since {previous.date.isoformat()} "
        f"({_n(previous.score(name))} -> {_n(rating.score(name))}){extra}"
    )


def _drop_flags(patient: str, previous: Rating, rating: Rating, rules: Thresholds) -> list[Flag]:
    flags = []
    if rules.drop_dimension is not None:
        for name in DIMENSIONS:
            if previous.score(name) - rating.score(name) >= rules.drop_dimension - 1e-9:
                message = _fell(name, previous, rating)
                flags.append(_flag(patient, rating, "drop", "alert", name, message))
    fall = previous.total - rating.total
    reliable = rules.rci_threshold()
    if reliable is not None:
        assert rules.rci_sd is not None and rules.rci_reliability is not None
        s_diff = (2**0.5) * rules.rci_sd * (1 - rules.rci_reliability) ** 0.5
        rci = -fall / s_diff
        if rci < -rules.rci_z:  # |RCI| > z is a reliable change
            extra = f", a reliable change (RCI {rci:.2f})"
            message = _fell("total", previous, rating, extra)
            flags.append(_flag(patient, rating, "drop", "alert", "total", message))
    elif rules.drop_total is not None and fall >= rules.drop_total - 1e-9:
        message = _fell("total", previous, rating)
        flags.append(_flag(patient, rating, "drop", "alert", "total", message))
    return flags


def fitted_fall(values: Sequence[float]) -> float:
    """How far a least-squares line through `values` falls from first to last point."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, statistics.fmean(values)
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread
    return -slope * (n - 1)


def _decline_flags(patient: str, upto: Sequence[Rating], rules: Thresholds) -> list[Flag]:
    """A sustained fall of the total over the last N sessions, not one single drop.

    The least-squares line through the last N totals falls at least `decline_total`, at
    least two steps fall, and no single step accounts for the whole fall.
    """
    size = rules.decline_sessions
    if rules.decline_total is None or size < 3 or len(upto) < size:
        return []
    window = [r.total for r in upto[-size:]]
    falls = [a - b for a, b in itertools.pairwise(window) if b < a]
    fall = fitted_fall(window)
    if fall >= rules.decline_total - 1e-9 and len(falls) >= 2 and max(falls) < fall:
        first, last = upto[-size], upto[-1]
        message = (
            f"total declined about {_n(fall)} points over the last {size} sessions "
            f"({_n(first.total)} on {first.date.isoformat()} -> {_n(last.total)})"
        )
        return [_flag(patient, last, "decline", "watch", "total", message)]
    return []


def _rupture_flags(
    patient: str, series: Sequence[Rating], index: int, rules: Thresholds
) -> list[Flag]:
    """A sudden fall to clearly below the patient's usual level; repaired if a later one returns.

    Usual level = mean of the earlier sessions of the series. A rupture lies at least
    `rupture_sd` SDs and `rupture_min_size` points below it, having fallen at least
    `rupture_min_size` since the previous session (a slow slide is a `decline`, not a
    rupture). Repaired: a later session is back within max(SD, min_size / 2) of the mean.
    """
    if rules.rupture_min_size is None or index < max(rules.rupture_min_history, 2):
        return []
    earlier = [r.total for r in series[:index]]
    usual = statistics.fmean(earlier)
    spread = statistics.stdev(earlier)
    rating = series[index]
    gap = usual - rating.total
    sudden = series[index - 1].total - rating.total
    if (
        gap < max(rules.rupture_sd * spread, rules.rupture_min_size) - 1e-9
        or sudden < rules.rupture_min_size - 1e-9
    ):
        return []
    back_to = usual - max(spread, rules.rupture_min_size / 2)
    repair = next((r for r in series[index + 1 :] if r.total >= back_to - 1e-9), None)
    described = (
        f"rupture: total {_n(rating.total)} is {_n(gap)} below the usual "
        f"{_n(usual)} (SD {_n(spread)})"
    )
    if repair is None:
        return [_flag(patient, rating, "rupture", "alert", "total", described + ", not repaired")]
    flag = _flag(
        patient,
        rating,
        "rupture",
        "info",
        "total",
        f"{described}, repaired on {repair.date.isoformat()} (total {_n(repair.total)})",
    )
    return [replace(flag, repaired_on=repair.date)]


def discrepancy_flags(history: History, rules: RuleSet) -> list[Flag]:
    """Patient and therapist rated the same session far apart on a dimension."""
    by_key: dict[tuple[date, str], dict[str, Rating]] = {}
    for rating in history.ratings:
        by_key.setdefault((rating.date, rating.instrument), {})[rating.rater] = rating
    flags = []
    for (when, instrument), raters in sorted(by_key.items()):
        patient, therapist = raters.get("patient"), raters.get("therapist")
        threshold = rules.for_instrument(instrument).discrepancy
        if patient is None or therapist is None or threshold is None:
            continue
        for name in DIMENSIONS:
            gap = patient.score(name) - therapist.score(name)
            if abs(gap) >= threshold - 1e-9:
                flags.append(
                    Flag(
                        patient=history.patient,
                        kind="discrepancy",
                        severity="watch",
                        dimension=name,
                        date=when,
                        message=(
                            f"patient and therapist differ by {_n(abs(gap))} on {name} "
                            f"(patient {_n(patient.score(name))}, "
                            f"therapist {_n(therapist.score(name))})"
                        ),
                        rater="both",
                    )
                )
    return flags


def tasks_missed_flags(history: History) -> list[Flag]:
    """Two `not-done` reviews in a row, by date.

    Reviews of several tasks on one date have no order, so a date counts as missed only
    when every review on it was `not-done`: a flag is raised on a date with two or more
    such reviews, or on one that follows a missed date.
    """
    by_date: dict[date, list[str]] = {}
    for when, adherence in history.reviews:
        by_date.setdefault(when, []).append(adherence)
    flags = []
    previous_missed = False
    for when in sorted(by_date):
        levels = by_date[when]
        missed = all(level == "not-done" for level in levels)
        if missed and (len(levels) >= 2 or previous_missed):
            flags.append(
                Flag(
                    patient=history.patient,
                    kind="tasks-missed",
                    severity="watch",
                    dimension=None,
                    date=when,
                    message="the last two task reviews were not done",
                )
            )
        previous_missed = missed
    return flags


def history_flags(history: History, rules: RuleSet) -> list[Flag]:
    """Every flag every session ever raised (no-contact excepted: it depends on today)."""
    flags: list[Flag] = []
    for (rater, instrument), series in _series(history).items():
        thresholds = rules.for_instrument(instrument)
        early = _early_dates(history, rater, thresholds.early_sessions)
        flags += series_flags(history.patient, series, thresholds, early)
    flags += discrepancy_flags(history, rules)
    flags += tasks_missed_flags(history)
    return sorted(set(flags), key=Flag.sort_key)


def no_contact_flag(history: History, rules: RuleSet, today: date) -> Flag | None:
    if not history.active:
        return None
    last = max((r.date for r in history.ratings), default=None)
    reference = last or history.since
    if reference is None:
        return None
    days = (today - reference).days
    if days <= rules.general.no_contact_days:
        return None
    what = f"last session on {reference.isoformat()}" if last else "no session since start of care"
    return Flag(
        patient=history.patient,
        kind="no-contact",
        severity="watch",
        dimension=None,
        date=reference,
        message=f"no contact for {days} days ({what})",
    )


def current_flags(history: History, rules: RuleSet, today: date) -> list[Flag]:
    """What needs attention now (see README): latest sessions, open ruptures, recent
    repairs, no-contact and missed tasks, most severe first."""
    everything = history_flags(history, rules)
    latest_by_rater: dict[str, date] = {}
    current_instrument: dict[str, str] = {}
    for rating in sorted(history.ratings, key=lambda r: (r.date, r.instrument)):
        latest_by_rater[rating.rater] = rating.date
        current_instrument[rating.rater] = rating.instrument
    latest_date = max(latest_by_rater.values(), default=None)
    last_review = max((when for when, _ in history.reviews), default=None)
    repaired_since = today - timedelta(weeks=rules.general.repaired_visible_weeks)
    keep: set[Flag] = set()
    for flag in everything:
        if flag.kind == "rupture":
            in_use = (
                flag.rater is not None and current_instrument.get(flag.rater) == flag.instrument
            )
            if (flag.repaired_on is None and in_use) or (
                flag.repaired_on is not None and flag.repaired_on >= repaired_since
            ):
                keep.add(flag)
        elif flag.kind == "tasks-missed":
            if flag.date == last_review:
                keep.add(flag)
        elif flag.kind == "discrepancy":
            if flag.date == latest_date:
                keep.add(flag)
        elif flag.rater is not None and latest_by_rater.get(flag.rater) == flag.date:
            keep.add(flag)
    contact = no_contact_flag(history, rules, today)
    if contact is not None:
        keep.add(contact)
    return sorted(keep, key=Flag.sort_key)


def flags_of_session(history: History, rules: RuleSet, when: date, rater: str) -> list[Flag]:
    """The flags one session raised (shown right after `session add`)."""
    return [
        flag
        for flag in history_flags(history, rules)
        if flag.date == when and flag.rater in (rater, "both") and flag.kind != "tasks-missed"
    ]


def filter_severity(flags: Iterable[Flag], severity: str | None) -> list[Flag]:
    """Flags at `severity` or more severe (alert > watch > info)."""
    if severity is None:
        return list(flags)
    limit = _SEVERITY_RANK[severity]
    return [flag for flag in flags if _SEVERITY_RANK[flag.severity] <= limit]
