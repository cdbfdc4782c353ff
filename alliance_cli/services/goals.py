"""Goals co-created with the patient, and the reviews of their status."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.domain.dates import check_care_date
from alliance_cli.domain.records import GoalRecord
from alliance_cli.errors import Conflict, InvalidInput
from alliance_cli.services.convert import goal_record
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient
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
) -> GoalRecord:
    """Store a goal set on `on` (today, or the day it was agreed when entered later)."""
    with db.write("goal.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        check_care_date(on, today, patient.since, what="goal date")
        goal = Goal(
            patient_id=patient.id, text=text, proposed_by=proposed_by, target=target, created=on
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
    db: Database, goal_id: int, status: str, *, note: str | None, on: date, today: date
) -> GoalRecord:
    """Record a review of the goal on `on`: its new status, when, and why.

    Reviews go in order (the goal's status is its latest review's), after the goal was
    set, on a day of care: the summary lists each review in the week of its date."""
    with db.write("goal.status") as session:
        goal = get_goal(session, goal_id)
        _check_care_date(session, goal, on, today, what="review date")
        if on < goal.created:
            raise InvalidInput(
                f"review date {on.isoformat()} is before goal {goal_id} was set "
                f"({goal.created.isoformat()})",
                f"correct the goal's date first: `alliance goal edit {goal_id} --date DATE`",
            )
        latest = max((r.date for r in goal_reviews(session, [goal_id])), default=None)
        if latest is not None and on < latest:
            raise InvalidInput(
                f"review date {on.isoformat()} is before the latest review of goal {goal_id} "
                f"({latest.isoformat()})",
                "record reviews in the order they happened",
            )
        if goal.status == status and note is None:
            raise Conflict(f"goal {goal_id} is already {status}", "add --note to record a review")
        goal.status = status
        session.add(goal)
        session.add(GoalReview(goal_id=goal_id, date=on, status=status, note=note))
        session.flush()
        reviews = goal_reviews(session, [goal_id])
        return goal_record(goal, patient_code(session, goal.patient_id), reviews)


def edit_goal(
    db: Database,
    goal_id: int,
    *,
    text: str | None,
    target: date | None,
    proposed_by: str | None,
    created: date | None = None,
    today: date,
) -> GoalRecord:
    """Change what is given; `created` corrects the day the goal was set (never after
    its first review)."""
    with db.write("goal.edit") as session:
        goal = get_goal(session, goal_id)
        if created is not None:
            _check_care_date(session, goal, created, today, what="goal date")
            first = min((r.date for r in goal_reviews(session, [goal_id])), default=None)
            if first is not None and created > first:
                raise InvalidInput(
                    f"goal date {created.isoformat()} is after the first review of goal "
                    f"{goal_id} ({first.isoformat()})",
                    "a goal is set before it is reviewed",
                )
            goal.created = created
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


def _check_care_date(session: Session, goal: Goal, when: date, today: date, *, what: str) -> None:
    """`when` is a day of the goal's patient's care (see `check_care_date`)."""
    patient = session.get(Patient, goal.patient_id)
    check_care_date(when, today, None if patient is None else patient.since, what=what)
