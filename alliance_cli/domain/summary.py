"""The weekly summary: what happened in a period, computed from plain data (no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from alliance_cli.domain.flag_scan import Materialise, Row, as_rating
from alliance_cli.domain.flags import Flag, History, Rating, ordered, period_flags
from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.rules import RuleSet

ADHERENCE = ("done", "partly", "not-done")


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.since <= day <= self.until

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


@dataclass(frozen=True)
class PatientInPeriod:
    patient: str
    sessions: int
    latest: Rating
    baseline: Rating | None  # the rating the change is measured from
    changes: dict[str, float | None]
    rating_sets: int = 0  # in the period, all raters


@dataclass(frozen=True)
class GoalEvent:
    patient: str
    goal: str
    date: date
    status: str
    note: str | None


@dataclass(frozen=True)
class NoContact:
    patient: str
    last_session: date | None
    days: int | None


@dataclass(frozen=True)
class ClinicianLine:
    """One clinician's share of a clinic-wide summary."""

    clinician: str
    patients_seen: int
    sessions: int
    alerts: int
    watch: int
    no_contact: int


def clinician_lines(summary: Summary, owner: Mapping[str, str]) -> tuple[ClinicianLine, ...]:
    """Per clinician (every one owning a patient in `owner`, label -> clinician): patients
    seen, sessions held, alerts and watch flags raised, active patients with no contact."""

    def count(labels: Iterable[str], clinician: str) -> int:
        return sum(owner.get(label) == clinician for label in labels)

    return tuple(
        ClinicianLine(
            clinician=name,
            patients_seen=count((p.patient for p in summary.patients), name),
            sessions=sum(p.sessions for p in summary.patients if owner.get(p.patient) == name),
            alerts=count((f.patient for f in summary.flags if f.severity == "alert"), name),
            watch=count((f.patient for f in summary.flags if f.severity == "watch"), name),
            no_contact=count((n.patient for n in summary.no_contact), name),
        )
        for name in sorted(set(owner.values()))
    )


@dataclass(frozen=True)
class Summary:
    period: Period
    sessions_held: int  # distinct patient-days with a rating
    rating_sets: int
    patients: tuple[PatientInPeriod, ...]
    flags: tuple[Flag, ...]  # raised by sessions in the period, alerts first
    repaired: tuple[Flag, ...]  # ruptures repaired within the period
    goal_events: tuple[GoalEvent, ...]
    adherence: dict[str, int] = field(default_factory=dict)
    no_contact: tuple[NoContact, ...] = ()
    clinicians: tuple[ClinicianLine, ...] = ()  # a clinic-wide summary: one line each

    @property
    def alerts(self) -> int:
        return sum(flag.severity == "alert" for flag in self.flags)

    def adherence_share(self) -> dict[str, float]:
        total = sum(self.adherence.values())
        return {k: (self.adherence.get(k, 0) / total if total else 0.0) for k in ADHERENCE}


@dataclass(frozen=True)
class PatientRows:
    """A patient streamed from a caseload: its history (reviews, status; ratings may be
    left empty) and its rows in Rating layout, ordered by rater then date."""

    history: History
    rows: Sequence[Row]
    materialise: Materialise


def _bounds(rows: Sequence[Row], period: Period) -> tuple[Any, Any]:
    """The period in the rows' own date type (dates, or ISO text straight from SQLite)."""
    if rows and not isinstance(rows[0][0], date):
        return period.since.isoformat(), period.until.isoformat()
    return period.since, period.until


def _patient_in_period(
    patient: str, rows: Sequence[Row], make: Materialise, period: Period
) -> PatientInPeriod | None:
    low, high = _bounds(rows, period)
    inside = [r for r in rows if low <= r[0] <= high]
    if not inside:
        return None
    last = max(inside, key=lambda r: (r[0], r[1] == "patient"))
    same = [r for r in rows if r[1] == last[1] and r[2] == last[2]]  # date order already
    before = [r for r in same if r[0] < low]
    first = before[-1] if before else next(r for r in same if low <= r[0] <= high)
    latest = make(last)
    if first is last:
        changes: dict[str, float | None] = {name: None for name in SCORES}
        baseline = None
    else:
        baseline = make(first)
        changes = {name: round(latest.score(name) - baseline.score(name), 2) for name in SCORES}
    return PatientInPeriod(
        patient=patient,
        sessions=len({r[0] for r in inside}),
        latest=latest,
        baseline=baseline,
        changes=changes,
        rating_sets=len(inside),
    )


def build_summary(
    patients: Iterable[History | PatientRows],
    period: Period,
    rules: RuleSet,
    *,
    goal_events: Iterable[GoalEvent] = (),
    adherence: Iterable[str] = (),
) -> Summary:
    """Summarise `period` (inclusive) over every patient (streamed, never all held)."""
    seen_patients: list[PatientInPeriod] = []
    flags: list[Flag] = []
    repaired: list[Flag] = []
    no_contact: list[NoContact] = []
    rating_sets = 0
    sessions_held = 0
    for item in patients:
        if isinstance(item, History):
            item = PatientRows(item, ordered(item.ratings), as_rating)
        history, rows, make = item.history, item.rows, item.materialise
        seen = _patient_in_period(history.patient, rows, make, period)
        if seen is not None:
            seen_patients.append(seen)
            rating_sets += seen.rating_sets
            sessions_held += seen.sessions
        elif history.active:
            _, high = _bounds(rows, period)
            last_row = max((r for r in rows if r[0] <= high), key=lambda r: r[0], default=None)
            last = None if last_row is None else make(last_row).date
            days = None if last is None else (period.until - last).days
            no_contact.append(NoContact(history.patient, last, days))
        for flag in period_flags(history, rules, period.since, period.until, rows, make):
            if flag.kind == "rupture" and flag.repaired_on in period:
                repaired.append(flag)
            elif flag.date in period and not (flag.kind == "rupture" and flag.repaired_on):
                flags.append(flag)
    counts = Counter(level for level in adherence if level in ADHERENCE)
    return Summary(
        period=period,
        sessions_held=sessions_held,
        rating_sets=rating_sets,
        patients=tuple(sorted(seen_patients, key=lambda p: p.patient)),
        flags=tuple(sorted(flags, key=Flag.sort_key)),
        repaired=tuple(sorted(repaired, key=Flag.sort_key)),
        goal_events=tuple(sorted(goal_events, key=lambda g: (g.date, g.patient, g.goal))),
        adherence={level: counts.get(level, 0) for level in ADHERENCE},
        no_contact=tuple(sorted(no_contact, key=lambda n: n.patient)),
    )
