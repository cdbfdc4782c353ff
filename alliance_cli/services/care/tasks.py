"""Tasks agreed with the patient (homework, exercises) and how far they were done."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from alliance_cli.domain.dates import check_care_date
from alliance_cli.domain.records import TaskRecord
from alliance_cli.domain.vocabulary import Adherence, TaskStatus
from alliance_cli.errors import InvalidInput
from alliance_cli.services.care.agreements import (
    TASK,
    agreements_of,
    check_new_date,
    check_next_event,
)
from alliance_cli.services.exchange.convert import task_record
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Task, TaskReview
from alliance_cli.store.queries import get_goal, get_patient, get_task, patient_code


def _record(session: Session, task: Task, code: str | None = None) -> TaskRecord:
    reviews = session.exec(select(TaskReview).where(TaskReview.task_id == task.id)).all()
    return task_record(task, code or patient_code(session, task.patient_id), list(reviews))


def _check_goal(session: Session, goal_id: int, patient_id: int, code: str) -> None:
    goal = get_goal(session, goal_id)
    if goal.patient_id != patient_id:
        raise InvalidInput(
            f"goal {goal_id} belongs to another patient, not {code}",
            f"see `alliance goal list {code}`",
        )


def add_task(
    db: Database,
    code: str,
    text: str,
    *,
    goal_id: int | None,
    due: date | None,
    on: date,
    today: date,
) -> TaskRecord:
    """Store a task agreed on `on` (today, or the day it was agreed when entered later)."""
    with db.write("task.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        check_care_date(on, today, patient.since, what="task date")
        if goal_id is not None:
            _check_goal(session, goal_id, patient.id, code)
        task = Task(patient_id=patient.id, goal_id=goal_id, text=text, due=due, created=on)
        session.add(task)
        session.flush()
        return task_record(task, code, [])


def list_tasks(db: Database, code: str, *, include_closed: bool = False) -> list[TaskRecord]:
    with db.read() as session:
        patient = get_patient(session, code)
        only = None if include_closed else TaskStatus.ACTIVE
        tasks = agreements_of(session, Task, patient.id, only=only)
        reviews = session.exec(
            select(TaskReview).join(Task).where(Task.patient_id == patient.id)
        ).all()
        return [task_record(t, code, [r for r in reviews if r.task_id == t.id]) for t in tasks]


def review_task(db: Database, task_id: int, adherence: Adherence, when: date) -> TaskRecord:
    with db.write("task.review") as session:
        task = get_task(session, task_id)
        session.add(TaskReview(task_id=task_id, date=when, adherence=adherence))
        session.flush()
        return _record(session, task)


def set_task_status(
    db: Database, task_id: int, status: TaskStatus, *, on: date, today: date
) -> TaskRecord:
    """Close or reopen the task on `on`, kept as the day of its last status change: after
    the task was agreed and after its previous change, on a day of care."""
    with db.write("task.status") as session:
        task = get_task(session, task_id)
        check_next_event(session, TASK, task, on, today, task.status_changed)
        task.status = status
        task.status_changed = on
        session.add(task)
        session.flush()
        return _record(session, task)


def edit_task(
    db: Database,
    task_id: int,
    *,
    text: str | None,
    due: date | None,
    goal_id: int | None,
    created: date | None = None,
    today: date,
) -> TaskRecord:
    """Change what is given; `created` corrects the day the task was agreed (never after
    its first review or status change)."""
    with db.write("task.edit") as session:
        task = get_task(session, task_id)
        code = patient_code(session, task.patient_id)
        if created is not None:
            reviews = session.exec(select(TaskReview).where(TaskReview.task_id == task_id))
            later = [r.date for r in reviews]
            if task.status_changed is not None:
                later.append(task.status_changed)
            check_new_date(session, TASK, task, created, today, min(later, default=None))
            task.created = created
        if goal_id is not None:
            _check_goal(session, goal_id, task.patient_id, code)
            task.goal_id = goal_id
        if text is not None:
            task.text = text
        if due is not None:
            task.due = due
        session.add(task)
        session.flush()
        return _record(session, task, code)
