"""Gather a period's data in one read transaction and summarise it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.summary import (
    GoalEvent,
    PatientRows,
    Period,
    Summary,
    build_summary,
    clinician_lines,
    ending_counts,
)
from alliance_cli.services.care.repairs import period_repairs
from alliance_cli.services.reports.caseload import stream_patients
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient, Task, TaskReview
from alliance_cli.store.queries import mine


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _gas_before(session: Session, reviews: Sequence[Any]) -> dict[int, int]:
    """For each GAS review (rows ending in goal id, review id), the goal's GAS level just
    before it, when it had one: the summary shows the change (`GAS -1 -> +1`)."""
    goals = sorted({row[-2] for row in reviews})
    if not goals:
        return {}
    history = session.execute(
        sql_select(
            col(GoalReview.goal_id), col(GoalReview.date), col(GoalReview.id), col(GoalReview.gas)
        )
        .where(col(GoalReview.goal_id).in_(goals), col(GoalReview.gas).is_not(None))
        .order_by(col(GoalReview.goal_id), col(GoalReview.date), col(GoalReview.id))
    ).all()
    before: dict[int, int] = {}
    last: dict[int, int] = {}
    for goal_id, _, review_id, gas in history:
        if goal_id in last:
            before[review_id] = last[goal_id]
        last[goal_id] = gas
    return before


def period_summary(
    db: Database, settings: Settings, period: Period, *, all_clinicians: bool = False
) -> Summary:
    """The period's summary of your caseload, from what had happened by its end; with
    `all_clinicians` the clinic's (each patient labelled `clinician/code`), with one line
    per clinician."""
    with db.read() as session:
        scope = [] if all_clinicians else [mine(session)]
        goal_rows = session.execute(
            sql_select(
                col(Patient.clinician),
                col(Patient.code),
                col(Goal.text),
                col(GoalReview.date),
                col(GoalReview.status),
                col(GoalReview.note),
                col(GoalReview.gas),
                col(GoalReview.goal_id),
                col(GoalReview.id),
            )
            .join(Goal, col(Goal.id) == GoalReview.goal_id)
            .join(Patient, col(Patient.id) == Goal.patient_id)
            .where(
                col(GoalReview.date) >= period.since, col(GoalReview.date) <= period.until, *scope
            )
        ).all()
        earlier = _gas_before(session, [row for row in goal_rows if row[6] is not None])
        adherence = session.exec(
            select(TaskReview.adherence)
            .join(Task, col(Task.id) == TaskReview.task_id)
            .join(Patient, col(Patient.id) == Task.patient_id)
            .where(
                col(TaskReview.date) >= period.since, col(TaskReview.date) <= period.until, *scope
            )
        ).all()
        owner: dict[str, str] = {}

        def label(code: str, clinician: str) -> str:
            if not all_clinicians:
                return code
            owner[f"{clinician}/{code}"] = clinician
            return f"{clinician}/{code}"

        def rows() -> Iterator[PatientRows]:
            for p in stream_patients(
                session, active_only=False, all_clinicians=all_clinicians, as_of=period.until
            ):
                history = p.history
                if all_clinicians:
                    name = label(p.meta.code, p.meta.clinician)
                    history = replace(history, patient=name)
                yield PatientRows(history, p.rows, p.materialise)

        summary = build_summary(
            rows(),
            period,
            settings.rules,
            goal_events=[
                GoalEvent(
                    patient=code if not all_clinicians else f"{clinician}/{code}",
                    goal=text,
                    date=_day(when),
                    status=status,
                    note=note,
                    gas=gas,
                    gas_before=earlier.get(review_id),
                )
                for clinician, code, text, when, status, note, gas, _, review_id in goal_rows
            ],
            adherence=list(adherence),
        )
        if all_clinicians:
            summary = replace(summary, clinicians=clinician_lines(summary, owner))
        endings = session.exec(
            select(Patient.ending).where(
                Patient.status == "discharged",
                col(Patient.discharged_on) >= period.since,
                col(Patient.discharged_on) <= period.until,
                *scope,
            )
        ).all()
        found = period_repairs(session, settings, period, scope, labelled=all_clinicians)
        return replace(summary, repairs=found, discharged=ending_counts(endings))
