"""Gather one patient's (or every patient's) whole history for the export renderers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.flags import current_flags, history_flags
from alliance_cli.services.care.repairs import patient_repairs
from alliance_cli.services.exchange.convert import (
    goal_record,
    patient_profile,
    session_record,
    task_record,
)
from alliance_cli.services.reports.history import load_history
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient, Task, TaskReview
from alliance_cli.store.queries import get_patient, mine, sessions_of


def _export(session: Session, patient: Patient, settings: Settings, today: date) -> PatientExport:
    assert patient.id is not None
    code = patient.code
    goals = session.exec(
        select(Goal).where(Goal.patient_id == patient.id).order_by(col(Goal.id))
    ).all()
    goal_reviews = session.exec(
        select(GoalReview).join(Goal).where(Goal.patient_id == patient.id)
    ).all()
    tasks = session.exec(
        select(Task).where(Task.patient_id == patient.id).order_by(col(Task.id))
    ).all()
    task_reviews = session.exec(
        select(TaskReview).join(Task).where(Task.patient_id == patient.id)
    ).all()
    ratings = sessions_of(session, patient.id)
    history = load_history(session, patient)
    used = sorted({r.instrument for r in ratings} | {patient.instrument})
    return PatientExport(
        profile=patient_profile(patient),
        goals=tuple(goal_record(g, code, goal_reviews) for g in goals),
        tasks=tuple(
            task_record(t, code, [r for r in task_reviews if r.task_id == t.id]) for t in tasks
        ),
        sessions=tuple(session_record(r, code) for r in ratings),
        flags=tuple(history_flags(history, settings.rules)),
        current_flags=tuple(current_flags(history, settings.rules, today)),
        instruments=tuple(settings.instrument(name) for name in used),
        generated=today,
        dimension_cutoffs={
            name: cutoff
            for name in used
            if (cutoff := settings.rules.for_instrument(name).low_dimension) is not None
        },
        repairs=patient_repairs(session, patient, history, settings),
    )


def patient_export(db: Database, code: str, settings: Settings, today: date) -> PatientExport:
    with db.read() as session:
        return _export(session, get_patient(session, code), settings, today)


def all_exports(
    db: Database,
    settings: Settings,
    today: date,
    *,
    started: Callable[[int], None] | None = None,
    advance: Callable[[int], None] | None = None,
) -> list[PatientExport]:
    """Every patient, active and discharged, in code order (one read transaction)."""
    with db.read() as session:
        patients = session.exec(
            select(Patient).where(mine(session)).order_by(col(Patient.code))
        ).all()
        if started:
            started(len(patients))
        exports = []
        for patient in patients:
            exports.append(_export(session, patient, settings, today))
            if advance:
                advance(1)
        return exports
