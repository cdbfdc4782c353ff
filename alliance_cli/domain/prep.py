"""The brief to read before the next session (`alliance prep CODE`): plain data, no I/O.

What changed (the last rating of each rater and its change, the trend in words), why it
matters (the current flags, one event a line), and what to try: at most three focus
points, weakest first, each with two or three suggestions from the library and their
sources. Supportive, never prescriptive: the clinician decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flag_groups import KIND_ORDER, FlagEvent, group_by_event
from alliance_cli.domain.flag_model import SEVERITY_RANK, Flag
from alliance_cli.domain.gas import patient_t_score
from alliance_cli.domain.instruments import Instrument
from alliance_cli.domain.records import (
    GoalRecord,
    PatientOverview,
    PatientProfile,
    SessionRecord,
    TaskRecord,
)
from alliance_cli.domain.repairs import RepairRecord
from alliance_cli.domain.suggestions import Library, suggestions_for
from alliance_cli.domain.vocabulary import (
    FlagKind,
    GoalStatus,
    Marker,
    Rater,
    Severity,
    TaskStatus,
)

Day = date  # the type, where a field named `date` shadows it
SCORES = ("bond", "goal", "task", "total")
MAX_FOCUS = 3
SUGGESTIONS_PER_POINT = 3
# What a flag that is not about one dimension is about, for the focus.
TOPIC_OF_KIND = {FlagKind.NO_CONTACT: "contact", FlagKind.TASKS_MISSED: "tasks"}
TREND_WORDS = {
    "down": "falling",
    "up": "rising",
    "flat": "steady",
    "": "too few sessions to tell",
}


@dataclass(frozen=True)
class LastRating:
    """A rater's latest rating set and its change since that rater's previous one."""

    rater: str
    date: Day
    instrument: str
    scores: dict[str, float]
    changes: dict[str, float | None]  # None: no earlier set with the same instrument
    since: Day | None


@dataclass(frozen=True)
class FocusPoint:
    dimension: str  # bond, goal, task, total, contact or tasks
    severity: str
    kind: str
    reason: str  # what was seen, with its numbers
    suggestions: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Brief:
    profile: PatientProfile
    last: tuple[LastRating, ...]
    trend: str  # in words: falling, rising, steady, too few sessions to tell
    events: tuple[FlagEvent, ...]
    flags: tuple[Flag, ...]  # one per flag, for JSON
    goals: tuple[GoalRecord, ...]  # active ones
    tasks: tuple[TaskRecord, ...]  # open (active) ones
    note: tuple[date, str] | None  # the latest session note, with its date
    focus: tuple[FocusPoint, ...]
    session_count: int
    repairs: tuple[RepairRecord, ...] = ()  # oldest first, each with its outcome so far
    gas_t: float | None = None  # the GAS T-score over every goal rated (domain/gas.py)


@dataclass(frozen=True)
class Waiting:
    """A patient with a current alert (`prep` without a code): their worst event."""

    patient: str
    event: FlagEvent
    alerts: int


def last_ratings(sessions: Sequence[SessionRecord]) -> tuple[LastRating, ...]:
    """Each rater's latest set (patient first), compared with their previous set on the
    same instrument."""
    found = []
    for rater in Rater:
        own = sorted((s for s in sessions if s.rater == rater), key=lambda s: s.date)
        if not own:
            continue
        latest = own[-1]
        earlier = [s for s in own[:-1] if s.instrument == latest.instrument]
        previous = earlier[-1] if earlier else None
        scores = {name: float(getattr(latest, name)) for name in SCORES}
        changes: dict[str, float | None] = {
            name: None if previous is None else round(scores[name] - getattr(previous, name), 4)
            for name in SCORES
        }
        found.append(
            LastRating(
                rater,
                latest.date,
                latest.instrument,
                scores,
                changes,
                None if previous is None else previous.date,
            )
        )
    return tuple(found)


def _topic(flag: Flag) -> str:
    if flag.kind in TOPIC_OF_KIND:
        return TOPIC_OF_KIND[flag.kind]
    return flag.dimension if flag.dimension in SCORES else "total"


def _weakness(topic: str, last: Sequence[LastRating], instrument: Instrument | None) -> float:
    """The patient's latest score on `topic` as a share of its range (lower is weaker);
    1.0 when there is none to compare."""
    if instrument is None or topic not in SCORES:
        return 1.0
    for rating in last:
        if rating.rater == Rater.PATIENT and rating.instrument == instrument.name:
            low, high = instrument.dimension_range(topic)
            return (rating.scores[topic] - low) / (high - low) if high > low else 1.0
    return 1.0


def _marker(flag: Flag, reported: Mapping[tuple[Day, str], str]) -> str | None:
    """The rupture a flag is about: its own marker (a reported rupture), else the one a
    rater reported for the flagged session (the flag's rater first, then the patient)."""
    if flag.marker is not None:
        return flag.marker
    for rater in (flag.rater, *Rater):
        found = reported.get((flag.date, rater or ""))
        if found is not None:
            return found
    return None


def focus_points(
    flags: Sequence[Flag],
    library: Library,
    last: Sequence[LastRating] = (),
    instrument: Instrument | None = None,
    reports: Iterable[tuple[Day, str, str]] = (),
) -> tuple[FocusPoint, ...]:
    """At most three points, one per topic: the most severe flag on it decides; the most
    severe first, then the weakest score. Info flags (a repaired rupture) are no focus.

    `reports` are the (date, rater, marker) answers to the rupture question: a flag on a
    session where a rupture was reported gets that marker's suggestions (withdrawal or
    confrontation) before its dimension's."""
    reported = {(when, rater): marker for when, rater, marker in reports if marker != Marker.NONE}
    kind_rank = {kind: rank for rank, kind in enumerate(KIND_ORDER)}
    chosen: dict[str, Flag] = {}
    for flag in sorted(
        (f for f in flags if f.severity != Severity.INFO),
        key=lambda f: (SEVERITY_RANK[f.severity], kind_rank.get(f.kind, 99), -f.date.toordinal()),
    ):
        chosen.setdefault(_topic(flag), flag)
    ordered = sorted(
        chosen.items(),
        key=lambda item: (
            SEVERITY_RANK[item[1].severity],
            _weakness(item[0], last, instrument),
            kind_rank.get(item[1].kind, 99),
            item[0],
        ),
    )
    points = []
    for topic, flag in ordered[:MAX_FOCUS]:
        dimension = flag.dimension if flag.dimension in SCORES else None
        marker = _marker(flag, reported)
        items = suggestions_for(library, flag.kind, dimension, marker)[:SUGGESTIONS_PER_POINT]
        points.append(
            FocusPoint(
                dimension=topic,
                severity=flag.severity,
                kind=flag.kind,
                reason=flag.message,
                suggestions=tuple(item.text for item in items),
                sources=tuple(dict.fromkeys(item.source for item in items)),
            )
        )
    return tuple(points)


def build_brief(overview: PatientOverview, library: Library, trend: str) -> Brief:
    """The brief from what `patient show` reads; `trend` is `direction()`'s word."""
    instrument = overview.trend.instrument if overview.trend is not None else None
    last = last_ratings(overview.sessions)
    noted = [s for s in overview.sessions if s.note]
    latest_note = max(noted, key=lambda s: (s.date, s.rater == Rater.PATIENT), default=None)
    reports = [(s.date, s.rater, s.rupture) for s in overview.sessions if s.rupture is not None]
    return Brief(
        profile=overview.profile,
        last=last,
        trend=TREND_WORDS.get(trend, trend),
        events=tuple(group_by_event(overview.flags)),
        flags=overview.flags,
        goals=tuple(g for g in overview.goals if g.status == GoalStatus.ACTIVE),
        tasks=tuple(t for t in overview.tasks if t.status == TaskStatus.ACTIVE),
        note=None if latest_note is None else (latest_note.date, latest_note.note or ""),
        focus=focus_points(overview.flags, library, last, instrument, reports),
        session_count=overview.session_count,
        repairs=overview.repairs,
        gas_t=patient_t_score(overview.goals),
    )
