"""The weekly summary: what happened in a period, computed from plain data (no I/O)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from operator import itemgetter
from typing import Any

from alliance_cli.domain.flag_scan import Materialise, Row, as_rating
from alliance_cli.domain.flags import (
    Flag,
    History,
    Rating,
    ordered,
    period_scan,
    raised_in_period,
    rows_up_to,
    still_open,
    up_to,
)
from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.repairs import RepairRecord
from alliance_cli.domain.rules import RuleSet
from alliance_cli.domain.vocabulary import (
    UNKNOWN_ENDING,
    Adherence,
    Ending,
    FlagKind,
    Rater,
    Severity,
)
from alliance_cli.errors import InvalidInput

ADHERENCE = tuple(Adherence)
WEEK = 7
# How care ended (records.ENDINGS), then discharges recorded without it (before 0009).
DISCHARGE_ENDINGS = (*Ending, UNKNOWN_ENDING)


def ending_counts(endings: Iterable[str | None]) -> dict[str, int]:
    """Discharges by how care ended, every ending a key (None counts as `unknown`)."""
    counts = Counter(ending or "unknown" for ending in endings)
    return {ending: counts.get(ending, 0) for ending in DISCHARGE_ENDINGS}


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.since <= day <= self.until

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1


def last_days(today: date, days: int) -> Period:
    """The last `days` days, `today` included (`--days`)."""
    try:
        return Period(today - timedelta(days=days - 1), today)
    except OverflowError:
        raise InvalidInput(f"{days} days back from {today.isoformat()} is before year 1") from None


def last_week(today: date) -> Period:
    """The last full Monday-Sunday week that has ended before `today`, whatever day that
    is: on a Monday the week that ended yesterday, on a Sunday the week before the current
    one (which has not ended). A Monday cron job thus reports whole weeks, none twice."""
    try:
        monday = today - timedelta(days=today.weekday() + WEEK)
    except OverflowError:
        raise InvalidInput(f"there is no full week before {today.isoformat()}") from None
    return Period(monday, monday + timedelta(days=WEEK - 1))


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
    gas: int | None = None  # the GAS level of a `goal review`; None for a status review
    gas_before: int | None = None  # the goal's GAS level before this review (None: first)


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
            alerts=count((f.patient for f in summary.flags if f.severity == Severity.ALERT), name),
            watch=count((f.patient for f in summary.flags if f.severity == Severity.WATCH), name),
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
    # Alerts and watch flags raised before the period, still current at its end.
    still_open: tuple[Flag, ...] = ()
    repairs: tuple[RepairRecord, ...] = ()  # attempts in the period, judged at its end
    # Patients discharged in the period, by how care ended (`ending_counts`).
    discharged: dict[str, int] = field(default_factory=lambda: ending_counts(()))

    @property
    def alerts(self) -> int:
        """Alerts raised in the period."""
        return sum(flag.severity == Severity.ALERT for flag in self.flags)

    @property
    def still_open_alerts(self) -> int:
        """Alerts raised before the period and still open at its end."""
        return sum(flag.severity == Severity.ALERT for flag in self.still_open)

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


def _start(rows: Sequence[Row], period: Period) -> Any:
    """The period's start in the rows' own date type (dates, or ISO text from SQLite)."""
    if rows and not isinstance(rows[0][0], date):
        return period.since.isoformat()
    return period.since


def _patient_in_period(
    patient: str, rows: Sequence[Row], make: Materialise, period: Period
) -> PatientInPeriod | None:
    """`rows` hold nothing dated after the period."""
    low = _start(rows, period)
    inside = [r for r in rows if r[0] >= low]
    if not inside:
        return None
    last = max(inside, key=lambda r: (r[0], r[1] == Rater.PATIENT))
    same = [r for r in rows if r[1] == last[1] and r[2] == last[2]]  # date order already
    before = [r for r in same if r[0] < low]
    first = before[-1] if before else next(r for r in same if r[0] >= low)
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
    """Summarise `period` (inclusive) over every patient (streamed, never all held), from
    what had happened by its end: anything dated later is left out, so a past period's
    summary is the one its last day would have given. `active` means in care at the end.
    """
    seen_patients: list[PatientInPeriod] = []
    flags: list[Flag] = []
    repaired: list[Flag] = []
    no_contact: list[NoContact] = []
    open_flags: list[Flag] = []
    rating_sets = 0
    sessions_held = 0
    since, until = period.since, period.until
    for item in patients:
        if isinstance(item, History):
            item = PatientRows(item, ordered(item.ratings), as_rating)
        history, make = up_to(item.history, until), item.materialise
        rows = rows_up_to(item.rows, until)
        if history.since is not None and history.since > until:
            history = replace(history, active=False)  # care had not started yet
        seen = _patient_in_period(history.patient, rows, make, period)
        if seen is not None:
            seen_patients.append(seen)
            rating_sets += seen.rating_sets
            sessions_held += seen.sessions
        elif history.active:
            last_row = max(rows, key=itemgetter(0), default=None)
            last = None if last_row is None else make(last_row).date
            days = None if last is None else (until - last).days
            no_contact.append(NoContact(history.patient, last, days))
        scan = period_scan(history, rules, since, until, rows, make)
        for flag in raised_in_period(history, scan, since, until):
            if flag.kind == FlagKind.RUPTURE and flag.repaired_on in period:
                repaired.append(flag)
            elif flag.date in period and not (flag.kind == FlagKind.RUPTURE and flag.repaired_on):
                flags.append(flag)
        open_flags += still_open(history, scan, rules, since, until)
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
        still_open=tuple(sorted(open_flags, key=Flag.sort_key)),
    )
