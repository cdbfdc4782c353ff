"""The weekly summary: what happened in a period, computed from plain data (no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from alliance_cli.domain.flags import Flag, History, Rating, period_flags
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

    @property
    def alerts(self) -> int:
        return sum(flag.severity == "alert" for flag in self.flags)

    def adherence_share(self) -> dict[str, float]:
        total = sum(self.adherence.values())
        return {k: (self.adherence.get(k, 0) / total if total else 0.0) for k in ADHERENCE}


def _patient_in_period(history: History, period: Period) -> PatientInPeriod | None:
    inside = [r for r in history.ratings if r.date in period]
    if not inside:
        return None
    latest = max(inside, key=lambda r: (r.date, r.rater == "patient"))
    same = sorted(
        (
            r
            for r in history.ratings
            if r.rater == latest.rater and r.instrument == latest.instrument
        ),
        key=lambda r: r.date,
    )
    before = [r for r in same if r.date < period.since]
    baseline = before[-1] if before else next((r for r in same if r.date in period), None)
    if baseline is latest or baseline is None:
        changes: dict[str, float | None] = {name: None for name in SCORES}
        baseline = None
    else:
        changes = {name: round(latest.score(name) - baseline.score(name), 2) for name in SCORES}
    return PatientInPeriod(
        patient=history.patient,
        sessions=len({r.date for r in inside}),
        latest=latest,
        baseline=baseline,
        changes=changes,
    )


def build_summary(
    histories: Iterable[History],
    period: Period,
    rules: RuleSet,
    *,
    goal_events: Iterable[GoalEvent] = (),
    adherence: Iterable[str] = (),
) -> Summary:
    """Summarise `period` (inclusive) over every patient's history."""
    patients: list[PatientInPeriod] = []
    flags: list[Flag] = []
    repaired: list[Flag] = []
    no_contact: list[NoContact] = []
    rating_sets = 0
    sessions_held = 0
    for history in histories:  # streamed: never hold the whole caseload
        seen = _patient_in_period(history, period)
        in_period = [r for r in history.ratings if r.date in period]
        rating_sets += len(in_period)
        sessions_held += len({r.date for r in in_period})
        if seen is not None:
            patients.append(seen)
        elif history.active:
            last = max((r.date for r in history.ratings if r.date <= period.until), default=None)
            days = None if last is None else (period.until - last).days
            no_contact.append(NoContact(history.patient, last, days))
        for flag in period_flags(history, rules, period.since, period.until):
            if flag.kind == "rupture" and flag.repaired_on in period:
                repaired.append(flag)
            elif flag.date in period and not (flag.kind == "rupture" and flag.repaired_on):
                flags.append(flag)
    counts = Counter(level for level in adherence if level in ADHERENCE)
    return Summary(
        period=period,
        sessions_held=sessions_held,
        rating_sets=rating_sets,
        patients=tuple(sorted(patients, key=lambda p: p.patient)),
        flags=tuple(sorted(flags, key=Flag.sort_key)),
        repaired=tuple(sorted(repaired, key=Flag.sort_key)),
        goal_events=tuple(sorted(goal_events, key=lambda g: (g.date, g.patient, g.goal))),
        adherence={level: counts.get(level, 0) for level in ADHERENCE},
        no_contact=tuple(sorted(no_contact, key=lambda n: n.patient)),
    )
