"""Goals co-created with the patient, and their reviews: of their status, or their
Goal Attainment Scaling level (`goal review --gas`)."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.domain.dates import check_care_date
from alliance_cli.domain.gas import DEFAULT_BASELINE, DEFAULT_WEIGHT, LEVELS
from alliance_cli.domain.records import GoalRecord
from alliance_cli.domain.vocabulary import GoalStatus
from alliance_cli.errors import Conflict, InvalidInput
from alliance_cli.services.care.agreements import (
    GOAL,
    agreements_of,
    check_new_date,
    check_next_event,
)
from alliance_cli.services.exchange.convert import goal_record
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview
from alliance_cli.store.queries import get_goal, get_patient, patient_code


def add_goal(
    db: Database,
    code: str,
    text: str,
    *,
    proposed_by: str,
    target: date | None,
    on: date,
    today: date,
    baseline: int = DEFAULT_BASELINE,
    weight: float = DEFAULT_WEIGHT,
) -> GoalRecord:
    """Store a goal set on `on` (today, or the day it was agreed when entered later), with
    its GAS baseline and weight (checked by the caller: `domain.gas`)."""
    with db.write("goal.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        check_care_date(on, today, patient.since, what="goal date")
        goal = Goal(
            patient_id=patient.id,
            text=text,
            proposed_by=proposed_by,
            target=target,
            created=on,
            baseline=baseline,
            weight=weight,
        )
        session.add(goal)
        session.flush()
        return goal_record(goal, code)


def list_goals(db: Database, code: str, *, include_closed: bool = False) -> list[GoalRecord]:
    """Active goals; with `include_closed`, achieved and dropped ones too."""
    with db.read() as session:
        patient = get_patient(session, code)
        only = None if include_closed else GoalStatus.ACTIVE
        goals = agreements_of(session, Goal, patient.id, only=only)
        reviews = goal_reviews(session, [g.id for g in goals if g.id is not None])
        return [goal_record(g, code, reviews) for g in goals]


def goal_reviews(session: Session, goal_ids: list[int]) -> list[GoalReview]:
    if not goal_ids:
        return []
    return list(session.exec(select(GoalReview).where(col(GoalReview.goal_id).in_(goal_ids))).all())


def _record(session: Session, goal: Goal) -> GoalRecord:
    assert goal.id is not None
    reviews = goal_reviews(session, [goal.id])
    return goal_record(goal, patient_code(session, goal.patient_id), reviews)


def set_goal_status(
    db: Database, goal_id: int, status: GoalStatus, *, note: str | None, on: date, today: date
) -> GoalRecord:
    """Record a review of the goal on `on`: its new status, when, and why.

    Reviews go in order (the goal's status is its latest review's), after the goal was
    set, on a day of care: the summary lists each review in the week of its date."""
    with db.write("goal.status") as session:
        goal = get_goal(session, goal_id)
        _check_review_date(session, goal, on, today)
        if goal.status == status and note is None:
            raise Conflict(f"goal {goal_id} is already {status}", "add --note to record a review")
        goal.status = status
        session.add(goal)
        session.add(GoalReview(goal_id=goal_id, date=on, status=status, note=note))
        session.flush()
        return _record(session, goal)


def review_goal(
    db: Database, goal_id: int, level: int, *, note: str | None, on: date, today: date
) -> GoalRecord:
    """Rate the goal on the GAS scale on `on` (`level` -2..2, checked by the caller).

    A review of its own, kept with the others (the latest level counts for the T-score);
    the goal's status stays what it is, so `goal status` still closes it."""
    if level not in LEVELS:
        raise InvalidInput(f"GAS level {level} must be one of -2, -1, 0, 1, 2")
    with db.write("goal.review") as session:
        goal = get_goal(session, goal_id)
        _check_review_date(session, goal, on, today)
        session.add(GoalReview(goal_id=goal_id, date=on, status=goal.status, note=note, gas=level))
        session.flush()
        return _record(session, goal)


def _check_review_date(session: Session, goal: Goal, on: date, today: date) -> None:
    """Reviews go in order, after the goal was set, on a day of care."""
    assert goal.id is not None
    latest = max((r.date for r in goal_reviews(session, [goal.id])), default=None)
    check_next_event(session, GOAL, goal, on, today, latest)


def edit_goal(
    db: Database,
    goal_id: int,
    *,
    text: str | None,
    target: date | None,
    proposed_by: str | None,
    created: date | None = None,
    today: date,
    baseline: int | None = None,
    weight: float | None = None,
) -> GoalRecord:
    """Change what is given; `created` corrects the day the goal was set (never after
    its first review); `baseline` and `weight` are the goal's GAS settings."""
    with db.write("goal.edit") as session:
        goal = get_goal(session, goal_id)
        if created is not None:
            first = min((r.date for r in goal_reviews(session, [goal_id])), default=None)
            check_new_date(session, GOAL, goal, created, today, first)
            goal.created = created
        if text is not None:
            goal.text = text
        if target is not None:
            goal.target = target
        if proposed_by is not None:
            goal.proposed_by = proposed_by
        if baseline is not None:
            goal.baseline = baseline
        if weight is not None:
            goal.weight = weight
        session.add(goal)
        session.flush()
        return _record(session, goal)
