"""The rules themselves: what one session raises, given what came before it.

Each function looks at one rating and the few facts the rule needs (the previous rating
of the series, the last N totals, the running mean and spread of the earlier totals),
so the same rules serve a single patient's history and a streamed million-row caseload.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alliance_cli.domain.flag_model import PATIENT_HIGHER, THERAPIST_HIGHER, Flag, Rating, Report
from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.rules import Thresholds
from alliance_cli.domain.vocabulary import BOTH, FlagKind, Marker, Rater, Severity

EPSILON = 1e-9  # thresholds are inclusive; scores are decimal fractions in binary floats


def number(value: float) -> str:
    return f"{value:.1f}"


def _who(rater: Rater) -> str:
    return "" if rater == Rater.PATIENT else f"{rater} rating: "


def make_flag(
    patient: str,
    rating: Rating,
    kind: FlagKind,
    severity: Severity,
    dimension: str | None,
    message: str,
    brief: str = "",
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
        brief=brief,
    )


def level_flags(patient: str, rating: Rating, rules: Thresholds, early: bool) -> list[Flag]:
    """`early-risk` (first sessions) or `low` on the total; `low` on a dimension."""
    flags = []
    if early and rules.early_total is not None and rating.total < rules.early_total:
        message = (
            f"low alliance early in care: total {number(rating.total)} below "
            f"{number(rules.early_total)} (dropout risk)"
        )
        brief = f"total {number(rating.total)} below {number(rules.early_total)} (dropout risk)"
        flags.append(
            make_flag(patient, rating, FlagKind.EARLY_RISK, Severity.ALERT, "total", message, brief)
        )
    elif rules.low_total is not None and rating.total < rules.low_total:
        message = f"total {number(rating.total)} is below the cut-off {number(rules.low_total)}"
        brief = f"total {number(rating.total)} below the cut-off {number(rules.low_total)}"
        flags.append(
            make_flag(patient, rating, FlagKind.LOW, Severity.ALERT, "total", message, brief)
        )
    if rules.low_dimension is not None and not flags:  # a low total already says it
        for name in DIMENSIONS:
            if rating.score(name) < rules.low_dimension:
                message = (
                    f"{name} {number(rating.score(name))} is below the cut-off "
                    f"{number(rules.low_dimension)}"
                )
                brief = f"{name} {number(rating.score(name))} below {number(rules.low_dimension)}"
                flags.append(
                    make_flag(patient, rating, FlagKind.LOW, Severity.WATCH, name, message, brief)
                )
    return flags


def _fell(name: str, previous: Rating, rating: Rating, extra: str = "") -> str:
    fall = previous.score(name) - rating.score(name)
    return (
        f"{name} fell {number(fall)} points since {previous.date.isoformat()} "
        f"({number(previous.score(name))} -> {number(rating.score(name))}){extra}"
    )


def _fall(name: str, previous: Rating, rating: Rating) -> str:
    return f"{name} -{number(previous.score(name) - rating.score(name))}"


def drop_flags(patient: str, previous: Rating, rating: Rating, rules: Thresholds) -> list[Flag]:
    """A fall since the previous session: per dimension, and on the total (or by RCI)."""
    flags = []
    if rules.drop_dimension is not None:
        for name in DIMENSIONS:
            if previous.score(name) - rating.score(name) >= rules.drop_dimension - EPSILON:
                message = _fell(name, previous, rating)
                brief = _fall(name, previous, rating)
                flags.append(
                    make_flag(patient, rating, FlagKind.DROP, Severity.ALERT, name, message, brief)
                )
    fall = previous.total - rating.total
    if rules.rci_sd is not None and rules.rci_reliability is not None:
        s_diff = (2**0.5) * rules.rci_sd * (1 - rules.rci_reliability) ** 0.5
        rci = -fall / s_diff
        if rci < -rules.rci_z:  # |RCI| > z is a reliable change
            message = _fell("total", previous, rating, f", a reliable change (RCI {rci:.2f})")
            brief = f"{_fall('total', previous, rating)} (RCI {rci:.2f})"
            flags.append(
                make_flag(patient, rating, FlagKind.DROP, Severity.ALERT, "total", message, brief)
            )
    elif rules.drop_total is not None and fall >= rules.drop_total - EPSILON:
        message = _fell("total", previous, rating)
        brief = _fall("total", previous, rating)
        flags.append(
            make_flag(patient, rating, FlagKind.DROP, Severity.ALERT, "total", message, brief)
        )
    return flags


def fitted_fall(values: Sequence[float]) -> float:
    """How far a least-squares line through `values` falls from first to last point."""
    n = len(values)
    mean_x, mean_y = (n - 1) / 2, statistics.fmean(values)
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread
    return -slope * (n - 1)


def decline_flags(patient: str, window: Sequence[Rating], rules: Thresholds) -> list[Flag]:
    """A sustained fall of the total over the last N sessions, not one single drop.

    `window` ends with the rating being judged. The least-squares line through the last
    N totals falls at least `decline_total`, at least two steps fall, and no single step
    accounts for the whole fall.
    """
    size = rules.decline_sessions
    if rules.decline_total is None or size < 3 or len(window) < size:
        return []
    totals = [r.total for r in window[-size:]]
    falls = [a - b for a, b in itertools.pairwise(totals) if b < a]
    fall = fitted_fall(totals)
    if fall >= rules.decline_total - EPSILON and len(falls) >= 2 and max(falls) < fall:
        first, last = window[-size], window[-1]
        message = (
            f"total declined about {number(fall)} points over the last {size} sessions "
            f"({number(first.total)} on {first.date.isoformat()} -> {number(last.total)})"
        )
        brief = (
            f"total down about {number(fall)} over {size} sessions "
            f"({number(first.total)} -> {number(last.total)})"
        )
        return [make_flag(patient, last, FlagKind.DECLINE, Severity.WATCH, "total", message, brief)]
    return []


@dataclass(frozen=True)
class Rupture:
    """A rupture found at `rating`: how far below the usual level, and what repairs it."""

    rating: Rating
    usual: float
    spread: float
    gap: float
    back_to: float  # a later total at least this high repairs it


def rupture_at(
    rating: Rating,
    previous: Rating | None,
    count: int,
    total_sum: float,
    total_squares: float,
    rules: Thresholds,
) -> Rupture | None:
    """A sudden fall to clearly below the patient's usual level (README, Flags), as
    `rupture_measure` finds it at `rating`, after `previous`."""
    if previous is None:
        return None
    found = rupture_measure(rating.total, previous.total, count, total_sum, total_squares, rules)
    return None if found is None else Rupture(rating, *found)


def rupture_measure(
    total: float,
    previous: float,
    count: int,
    total_sum: float,
    total_squares: float,
    rules: Thresholds,
) -> tuple[float, float, float, float] | None:
    """(usual, spread, gap, back_to) when a session's `total`, after one of `previous`,
    is a rupture; None when it is not. Totals alone, so a caseload report can count
    ruptures without building a Rating per session.

    Usual level: mean of the `count` earlier totals of the series (given as their sum and
    sum of squares). A rupture lies at least `rupture_sd` SDs and `rupture_min_size`
    points below it, having fallen at least `rupture_min_size` since the previous session
    (a slow slide is a decline). Repaired when a later total is back within
    max(SD, min_size / 2) of the mean (`back_to`).
    """
    minimum = rules.rupture_min_size
    if minimum is None or count < max(rules.rupture_min_history, 2):
        return None
    usual = total_sum / count
    variance = (total_squares - total_sum * total_sum / count) / (count - 1)
    spread = math.sqrt(max(variance, 0.0))
    gap = usual - total
    if (
        gap < max(rules.rupture_sd * spread, minimum) - EPSILON
        or previous - total < minimum - EPSILON
    ):
        return None
    return usual, spread, gap, usual - max(spread, minimum / 2)


def rupture_flag(patient: str, rupture: Rupture, repair: Rating | None) -> Flag:
    rating = rupture.rating
    described = (
        f"rupture: total {number(rating.total)} is {number(rupture.gap)} below the usual "
        f"{number(rupture.usual)} (SD {number(rupture.spread)})"
    )
    brief = (
        f"total {number(rating.total)} (usual {number(rupture.usual)}, SD {number(rupture.spread)})"
    )
    if repair is None:
        message = described + ", not repaired"
        return make_flag(patient, rating, FlagKind.RUPTURE, Severity.ALERT, "total", message, brief)
    message = f"{described}, repaired on {repair.date.isoformat()} (total {number(repair.total)})"
    brief += f", repaired on {repair.date.isoformat()}"
    flag = make_flag(patient, rating, FlagKind.RUPTURE, Severity.INFO, "total", message, brief)
    return Flag(**{**flag.__dict__, "repaired_on": repair.date})


def discrepancy_flags(
    patient: str,
    own: Rating,
    other: Rating,
    threshold: float | None,
    usual: dict[str, float] | None = None,
    beyond_usual: float | None = None,
) -> list[Flag]:
    """Patient (`own`) and therapist (`other`) rated the same session far apart.

    The therapist above the patient by `threshold` (None: off) is the risky case: the therapist may
    miss a strain the patient feels (`therapist-higher`). Patients usually rate higher,
    so the patient above the therapist flags only when the gap exceeds the dyad's `usual`
    one (per dimension, the mean of its earlier patient-minus-therapist gaps; None when
    there is none: 0) by `beyond_usual` (`patient-higher`; None switches it off).
    """
    flags = []
    for name in DIMENSIONS:
        mine, theirs = own.score(name), other.score(name)
        gap = mine - theirs
        typical = (usual or {}).get(name, 0.0)
        # The wording of releases before the direction was known (their listings keep it).
        message = (
            f"patient and therapist differ by {number(abs(gap))} on {name} "
            f"(patient {number(mine)}, therapist {number(theirs)})"
        )
        if threshold is not None and -gap >= threshold - EPSILON:
            direction = THERAPIST_HIGHER
        elif gap > 0 and beyond_usual is not None and gap - typical >= beyond_usual - EPSILON:
            direction = PATIENT_HIGHER
            if usual is not None:
                message += f", {number(gap - typical)} beyond their usual gap of {number(typical)}"
        else:
            continue
        flags.append(
            Flag(
                patient=patient,
                kind=FlagKind.DISCREPANCY,
                severity=Severity.WATCH,
                dimension=name,
                date=own.date,
                message=message,
                rater=BOTH,
                instrument=own.instrument,
                brief=f"{name} {number(mine)} vs {number(theirs)} ({direction})",
                direction=direction,
            )
        )
    return flags


def reported_rupture_flags(patient: str, reports: Iterable[Report]) -> list[Flag]:
    """`reported-rupture` when the patient reports a rupture (a withdrawal or a
    confrontation marker); `unnoticed-rupture` when the therapist's rating set of the same
    date says `none` (a rupture the therapist recognises loses its effect on the next
    session: Chen et al. 2018)."""
    therapist = {when: marker for when, rater, marker in reports if rater == Rater.THERAPIST}
    flags = []
    for when, rater, marker in reports:
        if rater != Rater.PATIENT or marker == Marker.NONE:
            continue
        flags.append(
            Flag(
                patient=patient,
                kind=FlagKind.REPORTED_RUPTURE,
                severity=Severity.ALERT,
                dimension=None,
                date=when,
                message=f"the patient reported a rupture ({marker})",
                rater=Rater.PATIENT,
                brief=marker,
                marker=marker,
            )
        )
        if therapist.get(when) == Marker.NONE:
            flags.append(
                Flag(
                    patient=patient,
                    kind=FlagKind.UNNOTICED_RUPTURE,
                    severity=Severity.ALERT,
                    dimension=None,
                    date=when,
                    message=(
                        f"the patient reported a rupture ({marker}) that the therapist's "
                        "rating of the same session did not"
                    ),
                    rater=BOTH,
                    brief=f"{marker}, therapist: none",
                    marker=marker,
                )
            )
    return flags
