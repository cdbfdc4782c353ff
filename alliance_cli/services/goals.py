"""Goals co-created with the patient, and the reviews of their status."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.domain.records import GoalRecord
from alliance_cli.errors import Conflict
from alliance_cli.services.convert import goal_record
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview
from alliance_cli.store.queries import get_goal, get_patient, patient_code


def add_goal(
    db: Database, code: str, text: str, *, proposed_by: str, target: date | None, today: date
) -> GoalRecord:
    with db.write("goal.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        goal = Goal(
            patient_id=patient.id, text=text, proposed_by=proposed_by, target=target, created=today
        )
        session.add(goal)
        session.flush()
        return goal_record(goal, code)


def list_goals(db: Database, code: str, *, include_closed: bool = False) -> list[GoalRecord]:
    """Active goals; with `include_closed`, achieved and dropped ones too."""
    with db.read() as session:
        patient = get_patient(session, code)
        query = select(Goal).where(Goal.patient_id == patient.id).order_by(col(Goal.id))
        if not include_closed:
            query = query.where(Goal.status == "active")
        goals = session.exec(query).all()
        reviews = goal_reviews(session, [g.id for g in goals if g.id is not None])
        return [goal_record(g, code, reviews) for g in goals]


def goal_reviews(session: Session, goal_ids: list[int]) -> list[GoalReview]:
    if not goal_ids:
        return []
    return list(session.exec(select(GoalReview).where(col(GoalReview.goal_id).in_(goal_ids))).all())


def set_goal_status(
    db: Database, goal_id: int, status: str, *, note: str | None, today: date
) -> GoalRecord:
    """Record a review of the goal: its new status, when, and why."""
    with db.write("goal.status") as session:
        goal = get_goal(session, goal_id)
        if goal.status == status and note is None:
            raise Conflict(f"goal {goal_id} is already {status}", "add --note to record a review")
        goal.status = status
        session.add(goal)
        session.add(GoalReview(goal_id=goal_id, date=today, status=status, note=note))
        session.flush()
        reviews = goal_reviews(session, [goal_id])
        return goal_record(goal, patient_code(session, goal.patient_id), reviews)


def edit_goal(
    db: Database, goal_id: int, *, text: str | None, target: date | None, proposed_by: str | None
) -> GoalRecord:
    with db.write("goal.edit") as session:
        goal = get_goal(session, goal_id)
        if text is not None:
            goal.text = text
        if target is not None:
            goal.target = target
        if proposed_by is not None:
            goal.proposed_by = proposed_by
        session.add(goal)
        session.flush()
        reviews = goal_reviews(session, [goal_id])
        return goal_record(goal, patient_code(session, goal.patient_id), reviews)
