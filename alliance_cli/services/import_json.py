"""`alliance import` of a JSON export (schema_version 1): patients, goals, tasks, reviews
and sessions, matched against what is stored so that a second import adds nothing."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from alliance_cli.config import Settings
from alliance_cli.domain.import_rows import SessionRow, check_row
from alliance_cli.domain.text import optional_text
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.render.json_export import EXPORT_FORMAT, EXPORT_SCHEMA_VERSION
from alliance_cli.services.importer import (
    Callback,
    DryRun,
    ImportReport,
    StoredSessions,
    insert_sessions,
    no_progress,
    plan_sessions,
    read_text,
    reject,
)
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient, Task, TaskReview
from alliance_cli.store.queries import clinician_of


def _day(value: Any, where: str, problems: list[str], *, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a YYYY-MM-DD date")
        return None


def import_json(
    db: Database,
    path: Path,
    settings: Settings,
    today: date,
    *,
    dry_run: bool = False,
    started: Callback = no_progress,
    advance: Callback = no_progress,
) -> ImportReport:
    """A JSON export (schema_version 1) into this database."""
    try:
        document = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"{path} is not an alliance JSON export")
    if document.get("schema_version") != EXPORT_SCHEMA_VERSION:
        raise InvalidInput(
            f"export schema_version {document.get('schema_version')!r} is not supported",
            f"this alliance reads schema_version {EXPORT_SCHEMA_VERSION}",
        )
    patients = document.get("patients")
    if not isinstance(patients, list):
        raise InvalidInput("the export has no patients list")
    report = ImportReport(dry_run=dry_run)
    started(len(patients))
    with contextlib.suppress(DryRun):
        _import_json(db, patients, settings, today, report, advance)
    return report


def _import_json(
    db: Database,
    patients: list[Any],
    settings: Settings,
    today: date,
    report: ImportReport,
    advance: Callback,
) -> None:
    with db.write("import", undoable=False) as session:
        store = StoredSessions(session)
        problems: list[str] = []
        rows: list[SessionRow] = []
        for index, data in enumerate(patients):
            where = f"patients[{index}]"
            if not isinstance(data, dict):
                problems.append(f"{where}: not an object")
                continue
            _json_patient(session, store, data, where, settings, today, problems, rows, report)
            advance(1)
        reject(problems)
        planned = plan_sessions(rows, store, problems, report)
        reject(problems)
        ids = {code: p.id for code, p in store.patients.items() if p.id is not None}
        insert_sessions(session, planned, ids)
        report.sessions_added = len(planned)
        if report.dry_run:
            raise DryRun


PROFILE_TEXT = (
    "name",
    "expectations",
    "beliefs",
    "emotional_state",
    "social_context",
    "note",
    "discharge_reason",
)


def _json_patient(
    session: Session,
    store: StoredSessions,
    data: dict[str, Any],
    where: str,
    settings: Settings,
    today: date,
    problems: list[str],
    rows: list[SessionRow],
    report: ImportReport,
) -> None:
    code = data.get("code")
    if not isinstance(code, str):
        problems.append(f"{where}: code is missing")
        return
    try:
        patient = store.patients.get(code)
        if patient is None:
            instrument = settings.instrument(str(data.get("instrument") or "quick")).name
            patient = Patient(
                code=code,
                clinician=clinician_of(store.session),
                instrument=instrument,
                status="discharged" if data.get("status") == "discharged" else "active",
                since=_day(data.get("since"), f"{where}.since", problems, required=False),
                discharged_on=_day(
                    data.get("discharged_on"), f"{where}.discharged_on", problems, required=False
                ),
            )
            for key in PROFILE_TEXT:
                value = data.get(key)
                setattr(patient, key, None if value is None else optional_text(str(value), key))
            session.add(patient)
            session.flush()
            store.patients[code] = patient
            report.patients_added += 1
    except AllianceError as error:
        problems.append(f"{where}: {error}")
        return
    assert patient.id is not None
    goal_ids = _json_goals(session, patient.id, data.get("goals") or [], where, problems, report)
    _json_tasks(session, patient.id, goal_ids, data.get("tasks") or [], where, problems, report)
    for number, values in enumerate(data.get("sessions") or []):
        here = f"{where}.sessions[{number}]"
        if not isinstance(values, dict):
            problems.append(f"{here}: not an object")
            continue
        cells = {k: None if v is None else _cell(v) for k, v in values.items()}
        cells["patient"] = code
        try:
            rows.append(
                check_row(
                    here,
                    cells,
                    instruments=settings.instruments,
                    default_instrument={code: patient.instrument},
                    since={code: patient.since},
                    today=today,
                )
            )
        except AllianceError as error:
            problems.append(f"{here}: {error}")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _json_goals(
    session: Session,
    patient_id: int,
    goals: list[Any],
    where: str,
    problems: list[str],
    report: ImportReport,
) -> dict[int, int]:
    """Goals by their position in the file -> database id (existing ones are matched)."""
    existing = {
        (g.text, g.created): g
        for g in session.exec(select(Goal).where(Goal.patient_id == patient_id))
    }
    ids: dict[int, int] = {}
    for number, data in enumerate(goals, 1):
        here = f"{where}.goals[{number - 1}]"
        created = _day(data.get("created"), f"{here}.created", problems)
        text = data.get("text")
        if created is None or not isinstance(text, str):
            problems.append(f"{here}: needs text and created")
            continue
        goal = existing.get((text, created))
        if goal is None:
            goal = Goal(
                patient_id=patient_id,
                text=text,
                proposed_by=str(data.get("proposed_by") or "joint"),
                status=str(data.get("status") or "active"),
                target=_day(data.get("target"), f"{here}.target", problems, required=False),
                created=created,
            )
            session.add(goal)
            session.flush()
            report.goals_added += 1
        assert goal.id is not None
        ids[int(data.get("id") or number)] = goal.id
        known = {
            (r.date, r.status, r.note)
            for r in session.exec(select(GoalReview).where(GoalReview.goal_id == goal.id))
        }
        for review in data.get("reviews") or []:
            when = _day(review.get("date"), f"{here}.reviews", problems)
            if when is None or (when, review.get("status"), review.get("note")) in known:
                continue
            session.add(
                GoalReview(
                    goal_id=goal.id,
                    date=when,
                    status=str(review.get("status")),
                    note=review.get("note"),
                )
            )
            report.reviews_added += 1
    return ids


def _json_tasks(
    session: Session,
    patient_id: int,
    goal_ids: dict[int, int],
    tasks: list[Any],
    where: str,
    problems: list[str],
    report: ImportReport,
) -> None:
    existing = {
        (t.text, t.created): t
        for t in session.exec(select(Task).where(Task.patient_id == patient_id))
    }
    for number, data in enumerate(tasks):
        here = f"{where}.tasks[{number}]"
        created = _day(data.get("created"), f"{here}.created", problems)
        text = data.get("text")
        if created is None or not isinstance(text, str):
            problems.append(f"{here}: needs text and created")
            continue
        goal_ref = data.get("goal")
        if goal_ref is not None and goal_ref not in goal_ids:
            problems.append(f"{here}: goal {goal_ref} is not in this patient's goals")
            continue
        task = existing.get((text, created))
        if task is None:
            task = Task(
                patient_id=patient_id,
                goal_id=None if goal_ref is None else goal_ids[goal_ref],
                text=text,
                status=str(data.get("status") or "active"),
                due=_day(data.get("due"), f"{here}.due", problems, required=False),
                created=created,
            )
            session.add(task)
            session.flush()
            report.tasks_added += 1
        assert task.id is not None
        known = {
            (r.date, r.adherence)
            for r in session.exec(select(TaskReview).where(TaskReview.task_id == task.id))
        }
        for review in data.get("reviews") or []:
            when = _day(review.get("date"), f"{here}.reviews", problems)
            if when is None or (when, review.get("adherence")) in known:
                continue
            session.add(
                TaskReview(task_id=task.id, date=when, adherence=str(review.get("adherence")))
            )
            report.reviews_added += 1
