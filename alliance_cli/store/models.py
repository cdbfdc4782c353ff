"""SQLModel tables. Every child row belongs to one patient and goes when it goes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlalchemy import text as sql_text  # `text` is also a field name below
from sqlmodel import Field, SQLModel

Day = date  # the type, in a class whose field named `date` shadows it


def utcnow() -> datetime:
    return datetime.now(UTC)


class Patient(SQLModel, table=True):
    __tablename__ = "patient"
    # Codes are unique per clinician (two clinicians may each have a P001).
    __table_args__ = (Index("uq_patient_clinician_code", "clinician", "code", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    clinician: str  # whose caseload: a role on PostgreSQL, see alliance_cli/clinician.py
    code: str = Field(index=True)
    name: str | None = None
    status: str = "active"
    since: date | None = None
    instrument: str = "quick"
    expectations: str | None = None
    beliefs: str | None = None
    emotional_state: str | None = None
    social_context: str | None = None
    note: str | None = None
    discharged_on: date | None = None
    discharge_reason: str | None = None
    # mutual | dropout | referred | moved | other; NULL before schema 0009 (`unknown`)
    ending: str | None = None
    created: datetime = Field(default_factory=utcnow)


class Goal(SQLModel, table=True):
    __tablename__ = "goal"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", index=True)
    text: str
    proposed_by: str = "joint"
    status: str = "active"
    target: date | None = None
    created: date
    # Goal Attainment Scaling (schema 0009): where the patient started (-1 or -2) and
    # the goal's weight in the T-score.
    baseline: int = Field(default=-1, sa_column_kwargs={"server_default": sql_text("-1")})
    weight: float = Field(default=1.0, sa_column_kwargs={"server_default": sql_text("1")})


class GoalReview(SQLModel, table=True):
    """A review of a goal, with the date and an optional note: a change of its status, or
    (`gas` set, schema 0009) its GAS level, the status then staying what it was."""

    __tablename__ = "goal_review"

    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE", index=True)
    date: date
    status: str
    note: str | None = None
    gas: int | None = None  # -2..2


class Task(SQLModel, table=True):
    __tablename__ = "task"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", index=True)
    goal_id: int | None = Field(
        default=None, foreign_key="goal.id", ondelete="SET NULL", index=True
    )
    text: str
    status: str = "active"
    due: date | None = None
    created: date
    status_changed: date | None = None  # the day of the last status change (schema 0006)


class TaskReview(SQLModel, table=True):
    """How far an agreed task was carried out, as reviewed in a session."""

    __tablename__ = "task_review"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", ondelete="CASCADE", index=True)
    date: date
    adherence: str


class SessionRating(SQLModel, table=True):
    """One rater's bond/goal/task rating set for one session date."""

    __tablename__ = "session_rating"
    __table_args__ = (
        UniqueConstraint(
            "patient_id", "date", "rater", name="uq_session_rating_patient_date_rater"
        ),
        Index("ix_session_rating_patient_date", "patient_id", "date"),
        # The flag engine reads series in this order; covering, so no table lookups.
        # The few rating sets that answered the rupture question (schema 0008).
        Index(
            "ix_session_rating_rupture",
            "patient_id",
            sqlite_where=text("rupture IS NOT NULL"),
            postgresql_where=text("rupture IS NOT NULL"),
        ),
        Index(
            "ix_session_rating_series",
            "patient_id",
            "rater",
            "date",
            "instrument",
            "bond",
            "goal",
            "task",
            "total",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE")
    date: date
    rater: str = "patient"
    instrument: str = "quick"
    bond: float
    goal: float
    task: float
    total: float
    items: list[float] = Field(sa_column=Column(JSON, nullable=False))
    extra: dict[str, float] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    note: str | None = None
    # none | withdrawal | confrontation: the rater's answer; None when not asked (0008)
    rupture: str | None = None
    created: datetime = Field(default_factory=utcnow)


class Repair(SQLModel, table=True):
    """A repair attempt after a flag: the strategy tried, and the flag it answered.

    Flags are computed, never stored: the link is the flag's identity (kind, dimension,
    date, rater, instrument), all None when no flag was current.
    """

    __tablename__ = "repair"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", ondelete="CASCADE", index=True)
    date: date
    strategy: str
    note: str | None = None
    flag_kind: str | None = None
    flag_dimension: str | None = None
    flag_date: Day | None = None
    flag_rater: str | None = None
    flag_instrument: str | None = None
    created: datetime = Field(default_factory=utcnow)
