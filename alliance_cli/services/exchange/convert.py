"""ORM rows to plain records, so nothing outside the services sees a SQLModel object."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

from alliance_cli.domain.instruments import Scores
from alliance_cli.domain.records import (
    GoalRecord,
    GoalReviewRecord,
    PatientProfile,
    SessionRecord,
    TaskRecord,
    TaskReviewRecord,
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
from alliance_cli.errors import StorageError
from alliance_cli.store.models import Goal, GoalReview, Patient, SessionRating, Task, TaskReview

Word = TypeVar("Word", bound=StrEnum)


def stored_word(kind: type[Word], value: str) -> Word:
    """A stored word (a status, a rater...) as its enum; a word the vocabulary does not
    know (a damaged or foreign file) is refused rather than passed on."""
    try:
        return kind(value)
    except ValueError:
        raise StorageError(
            f"the database holds a damaged value (not a known {kind.__name__.lower()})",
            "run `alliance doctor`, or restore a backup",
        ) from None


def optional_word(kind: type[Word], value: str | None) -> Word | None:
    return None if value is None else stored_word(kind, value)


def patient_profile(patient: Patient) -> PatientProfile:
    return PatientProfile(
        code=patient.code,
        name=patient.name,
        status=stored_word(PatientStatus, patient.status),
        since=patient.since,
        instrument=patient.instrument,
        expectations=patient.expectations,
        beliefs=patient.beliefs,
        emotional_state=patient.emotional_state,
        social_context=patient.social_context,
        note=patient.note,
        discharged_on=patient.discharged_on,
        discharge_reason=patient.discharge_reason,
        ending=optional_word(Ending, patient.ending),
    )


Review = TypeVar("Review", GoalReview, TaskReview)


def in_order(reviews: Sequence[Review]) -> list[Review]:
    """Reviews in the order they happened: by date, then as they were entered."""
    return sorted(reviews, key=lambda r: (r.date, r.id or 0))


def goal_record(goal: Goal, code: str, reviews: Sequence[GoalReview] = ()) -> GoalRecord:
    assert goal.id is not None
    return GoalRecord(
        id=goal.id,
        patient=code,
        text=goal.text,
        proposed_by=stored_word(ProposedBy, goal.proposed_by),
        status=stored_word(GoalStatus, goal.status),
        target=goal.target,
        created=goal.created,
        reviews=tuple(
            GoalReviewRecord(
                date=r.date, status=stored_word(GoalStatus, r.status), note=r.note, gas=r.gas
            )
            for r in in_order(reviews)
            if r.goal_id == goal.id
        ),
        baseline=int(goal.baseline),
        weight=float(goal.weight),
    )


def task_record(task: Task, code: str, reviews: list[TaskReview]) -> TaskRecord:
    assert task.id is not None
    return TaskRecord(
        id=task.id,
        patient=code,
        goal_id=task.goal_id,
        text=task.text,
        status=stored_word(TaskStatus, task.status),
        due=task.due,
        reviews=tuple(
            TaskReviewRecord(date=r.date, adherence=stored_word(Adherence, r.adherence))
            for r in in_order(reviews)
        ),
        created=task.created,
        status_changed=task.status_changed,
    )


def session_record(rating: SessionRating, code: str) -> SessionRecord:
    assert rating.id is not None
    return SessionRecord(
        id=rating.id,
        patient=code,
        date=rating.date,
        rater=stored_word(Rater, rating.rater),
        instrument=rating.instrument,
        bond=stored_score(rating.bond),
        goal=stored_score(rating.goal),
        task=stored_score(rating.task),
        items=tuple(float(x) for x in rating.items),
        note=rating.note,
        total=stored_score(rating.total),
        extra=dict(rating.extra or {}),
        rupture=optional_word(Marker, rating.rupture),
    )


def stored_score(value: object) -> float:
    """A score read back from the database; text there (a damaged file) is refused rather
    than passed on as if it were a score."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise StorageError(
        "the database holds a damaged score (not a number)",
        "run `alliance doctor`, or restore a backup",
    )


def scores_of(record: SessionRecord) -> Scores:
    return Scores(
        bond=record.bond,
        goal=record.goal,
        task=record.task,
        items=record.items,
        total=record.total,
        extra=record.extra,
    )
