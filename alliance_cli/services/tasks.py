"""Tasks agreed with the patient (homework, exercises) and how far they were done."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.domain.records import TaskRecord
from alliance_cli.errors import InvalidInput
from alliance_cli.services.convert import task_record
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
    db: Database, code: str, text: str, *, goal_id: int | None, due: date | None, today: date
) -> TaskRecord:
    with db.write("task.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        if goal_id is not None:
            _check_goal(session, goal_id, patient.id, code)
        task = Task(patient_id=patient.id, goal_id=goal_id, text=text, due=due, created=today)
        session.add(task)
        session.flush()
        return task_record(task, code, [])


def list_tasks(db: Database, code: str, *, include_closed: bool = False) -> list[TaskRecord]:
    with db.read() as session:
        patient = get_patient(session, code)
        query = select(Task).where(Task.patient_id == patient.id).order_by(col(Task.id))
        if not include_closed:
            query = query.where(Task.status == "active")
        tasks = session.exec(query).all()
        reviews = session.exec(
            select(TaskReview).join(Task).where(Task.patient_id == patient.id)
        ).all()
        return [task_record(t, code, [r for r in reviews if r.task_id == t.id]) for t in tasks]


def review_task(db: Database, task_id: int, adherence: str, when: date) -> TaskRecord:
    with db.write("task.review") as session:
        task = get_task(session, task_id)
        session.add(TaskReview(task_id=task_id, date=when, adherence=adherence))
        session.flush()
        return _record(session, task)


def set_task_status(db: Database, task_id: int, status: str) -> TaskRecord:
    with db.write("task.status") as session:
        task = get_task(session, task_id)
        task.status = status
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
) -> TaskRecord:
    with db.write("task.edit") as session:
        task = get_task(session, task_id)
        code = patient_code(session, task.patient_id)
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
