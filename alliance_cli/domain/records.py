"""Plain records handed from the services to the renderers (no ORM objects escape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.repairs import RepairRecord
from alliance_cli.domain.trends import TrendData
from alliance_cli.domain.vocabulary import (
    UNKNOWN_ENDING as UNKNOWN_ENDING,
)
from alliance_cli.domain.vocabulary import (
    Adherence,
    Ending,
    GoalStatus,
    Marker,
    PatientStatus,
    ProposedBy,
    Rater,
    TaskStatus,
)

PATIENT_STATUSES = tuple(PatientStatus)
GOAL_STATUSES = tuple(GoalStatus)
GOAL_PROPOSERS = tuple(ProposedBy)
TASK_STATUSES = tuple(TaskStatus)
ADHERENCE_LEVELS = tuple(Adherence)
RATERS = tuple(Rater)
# How care ended (`patient discharge --ending`); a discharge stored before schema 0009
# has none and reads as UNKNOWN_ENDING.
ENDINGS = tuple(Ending)


def shown_ending(status: str, ending: str | None) -> str | None:
    """How a patient's care ended, as shown and exported: None while in care, `unknown`
    for a discharge recorded without one."""
    if status != PatientStatus.DISCHARGED:
        return None
    return ending or UNKNOWN_ENDING


@dataclass(frozen=True)
class PatientRow:
    """One line of `patient list`."""

    code: str
    name: str | None
    status: PatientStatus
    since: date | None
    sessions: int
    last_session: date | None
    instrument: str = "quick"
    latest: LatestScores | None = None
    trend: str = ""  # up, down, flat, or "" with fewer than two comparable ratings
    alerts: int = 0
    watch: int = 0
    clinician: str = ""
    ending: Ending | None = None  # as stored: None in care, or for a discharge before 0009


@dataclass(frozen=True)
class LatestScores:
    """A patient's most recent rating set (the patient's own rating when there is one)."""

    date: date
    rater: Rater
    instrument: str
    bond: float
    goal: float
    task: float
    total: float
    total_range: tuple[float, float] | None = None  # the instrument's (lowest, highest) total


@dataclass(frozen=True)
class PatientProfile:
    code: str
    name: str | None
    status: PatientStatus
    since: date | None
    instrument: str
    expectations: str | None
    beliefs: str | None
    emotional_state: str | None
    social_context: str | None
    note: str | None
    discharged_on: date | None
    discharge_reason: str | None
    ending: Ending | None = None  # as stored (see `shown_ending`)

    @property
    def shown_ending(self) -> str | None:
        return shown_ending(self.status, self.ending)


@dataclass(frozen=True)
class GoalReviewRecord:
    date: date
    status: GoalStatus
    note: str | None
    gas: int | None = None  # the GAS level (-2..2) of a `goal review`; None: status only


@dataclass(frozen=True)
class GoalRecord:
    id: int
    patient: str
    text: str
    proposed_by: ProposedBy
    status: GoalStatus
    target: date | None
    created: date
    reviews: tuple[GoalReviewRecord, ...] = ()  # in date order
    baseline: int = -1  # the GAS level where the patient started: -1 or -2
    weight: float = 1.0  # the goal's weight in the GAS T-score

    @property
    def gas_history(self) -> tuple[GoalReviewRecord, ...]:
        """The reviews that rated the goal on the GAS scale, oldest first."""
        return tuple(r for r in self.reviews if r.gas is not None)

    @property
    def gas(self) -> int | None:
        """The latest GAS level; None before the first GAS review."""
        rated = self.gas_history
        return rated[-1].gas if rated else None


@dataclass(frozen=True)
class TaskReviewRecord:
    date: date
    adherence: Adherence


@dataclass(frozen=True)
class TaskRecord:
    id: int
    patient: str
    goal_id: int | None
    text: str
    status: TaskStatus
    due: date | None
    reviews: tuple[TaskReviewRecord, ...] = field(default_factory=tuple)
    created: date | None = None
    status_changed: date | None = None  # None: never changed, or before schema 0006


@dataclass(frozen=True)
class SessionRecord:
    id: int
    patient: str
    date: date
    rater: Rater
    instrument: str
    bond: float
    goal: float
    task: float
    items: tuple[float, ...]
    note: str | None
    total: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
    rupture: Marker | None = None  # none | withdrawal | confrontation; None: not asked


@dataclass(frozen=True)
class StoredSession:
    """What `session add` reports: the stored set, the change since the previous one,
    and the flags this session raised."""

    session: SessionRecord
    previous: SessionRecord | None
    changes: dict[str, float | None]
    flags: tuple[Flag, ...] = ()


@dataclass(frozen=True)
class PatientOverview:
    """Everything `patient show` prints."""

    profile: PatientProfile
    goals: tuple[GoalRecord, ...]
    tasks: tuple[TaskRecord, ...]
    sessions: tuple[SessionRecord, ...]
    session_count: int
    flags: tuple[Flag, ...] = ()
    trend: TrendData | None = None
    repairs: tuple[RepairRecord, ...] = ()


@dataclass(frozen=True)
class DatabaseInfo:
    """What `alliance where` reports."""

    location: str
    source: str
    schema_version: str | None
    patients: int
    sessions: int
    config: str
    config_exists: bool
    exists: bool  # False: no database there yet (`where` says so and creates nothing)
