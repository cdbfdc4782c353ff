"""Gather a period's data in one read transaction and summarise it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select as sql_select
from sqlmodel import col, select

from alliance_cli.config import Settings
from alliance_cli.domain.summary import GoalEvent, PatientRows, Period, Summary, build_summary
from alliance_cli.services.caseload import stream_patients
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient, Task, TaskReview


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def period_summary(db: Database, settings: Settings, period: Period) -> Summary:
    with db.read() as session:
        goal_rows = session.execute(
            sql_select(
                col(Patient.code),
                col(Goal.text),
                col(GoalReview.date),
                col(GoalReview.status),
                col(GoalReview.note),
            )
            .join(Goal, col(Goal.id) == GoalReview.goal_id)
            .join(Patient, col(Patient.id) == Goal.patient_id)
            .where(col(GoalReview.date) >= period.since, col(GoalReview.date) <= period.until)
        ).all()
        adherence = session.exec(
            select(TaskReview.adherence)
            .join(Task, col(Task.id) == TaskReview.task_id)
            .where(col(TaskReview.date) >= period.since, col(TaskReview.date) <= period.until)
        ).all()
        return build_summary(
            (
                PatientRows(p.history, p.rows, p.materialise)
                for p in stream_patients(session, active_only=False)
            ),
            period,
            settings.rules,
            goal_events=[
                GoalEvent(patient=code, goal=text, date=_day(when), status=status, note=note)
                for code, text, when, status, note in goal_rows
            ],
            adherence=list(adherence),
        )
