"""`alliance import`: CSV rows or a JSON export, all or nothing, idempotent.

Every row is checked before anything is written; one bad row aborts the whole import
and each bad row is reported by line (CSV) or position (JSON). Rows already stored with
the same values are skipped, so importing a file twice adds its rows once.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.import_rows import (
    CSV_COLUMNS,
    CSV_IGNORED,
    SessionRow,
    check_row,
    listed,
)
from alliance_cli.domain.text import optional_text
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.render.json_export import EXPORT_FORMAT, EXPORT_SCHEMA_VERSION
from alliance_cli.store.audit import recorder_of
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Goal, GoalReview, Patient, SessionRating, Task, TaskReview


class ImportRejected(InvalidInput):
    """The file holds bad rows; nothing was imported."""


class _DryRun(Exception):
    """Raised at the end of a dry run so the transaction rolls back."""


@dataclass
class ImportReport:
    dry_run: bool
    patients_added: int = 0
    sessions_added: int = 0
    sessions_skipped: int = 0
    goals_added: int = 0
    tasks_added: int = 0
    reviews_added: int = 0


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"no file {path}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}") from None


def csv_rows(text: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(first line number, values) per data row; checks the header."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "patient" not in header or "date" not in header:
        raise InvalidInput(
            "the CSV header needs at least the columns patient and date",
            f"columns: {', '.join(CSV_COLUMNS)}",
        )
    unknown = [n for n in header if n not in CSV_COLUMNS and n not in CSV_IGNORED]
    if unknown:
        raise InvalidInput(f"unknown CSV column {unknown[0]!r}", f"use {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    line = reader.line_num + 1
    try:
        for values in reader:
            yield line, {k: v for k, v in values.items() if k is not None}
            line = reader.line_num + 1
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: malformed CSV ({error})") from None


class _Store:
    """What is stored already, loaded once per import."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.patients = {p.code: p for p in session.exec(select(Patient)).all()}
        self.sessions: dict[tuple[str, date, str], tuple[str, tuple[float, ...], str | None]] = {}
        by_id = {p.id: p.code for p in self.patients.values()}
        for pid, when, rater, instrument, items, note in session.execute(
            sql_select(
                col(SessionRating.patient_id),
                col(SessionRating.date),
                col(SessionRating.rater),
                col(SessionRating.instrument),
                col(SessionRating.items),
                col(SessionRating.note),
            )
        ).all():
            day = when if isinstance(when, date) else date.fromisoformat(when)
            key = (by_id[pid], day, rater)
            self.sessions[key] = (instrument, tuple(float(x) for x in items), note)


def _plan_sessions(
    rows: list[SessionRow], store: _Store, problems: list[str], report: ImportReport
) -> list[SessionRow]:
    """Rows to insert: new ones; identical ones skipped; clashes reported."""
    new: dict[tuple[str, date, str], SessionRow] = {}
    for row in rows:
        stored = store.sessions.get(row.key)
        if stored is not None:
            if row.same_as(*stored):
                report.sessions_skipped += 1
            else:
                problems.append(
                    f"{row.where}: {row.patient} already has a different {row.rater} "
                    f"rating on {row.date.isoformat()}"
                )
            continue
        earlier = new.get(row.key)
        if earlier is not None:
            if row.same_as(earlier.instrument, earlier.scores.items, earlier.note):
                report.sessions_skipped += 1
            else:
                problems.append(
                    f"{row.where}: a second, different rating for {row.key[0]} "
                    f"on {row.date.isoformat()} ({earlier.where})"
                )
            continue
        new[row.key] = row
    return list(new.values())


def _insert_sessions(session: Session, rows: list[SessionRow], ids: dict[str, int]) -> None:
    recorder = recorder_of(session)
    if recorder is not None:
        for patient_id in sorted({ids[r.patient] for r in rows}):
            recorder.note("session_rating", None, patient_id)
    if rows:
        session.execute(
            insert(SessionRating),
            [
                {
                    "patient_id": ids[r.patient],
                    "date": r.date,
                    "rater": r.rater,
                    "instrument": r.instrument,
                    "bond": r.scores.bond,
                    "goal": r.scores.goal,
                    "task": r.scores.task,
                    "total": r.scores.total,
                    "items": list(r.scores.items),
                    "extra": dict(r.scores.extra) or None,
                    "note": r.note,
                }
                for r in rows
            ],
        )


def _reject(problems: list[str]) -> None:
    if problems:
        count = len(problems)
        raise ImportRejected(
            f"{count} bad row{'s' if count > 1 else ''}; nothing was imported",
            details=listed(problems),
        )


Callback = Callable[[int], None]


def _ignore(_count: int) -> None:
    return None


def import_csv(
    db: Database,
    path: Path,
    settings: Settings,
    today: date,
    *,
    dry_run: bool = False,
    started: Callback = _ignore,
    advance: Callback = _ignore,
) -> ImportReport:
    text = read_text(path)
    report = ImportReport(dry_run=dry_run)
    started(max(text.count("\n"), 1))
    with contextlib.suppress(_DryRun):
        _import_csv(db, text, settings, today, report, advance)
    return report


def _import_csv(
    db: Database,
    text: str,
    settings: Settings,
    today: date,
    report: ImportReport,
    advance: Callback,
) -> None:
    with db.write("import", undoable=False) as session:
        store = _Store(session)
        instruments = settings.instruments
        default_instrument = {code: p.instrument for code, p in store.patients.items()}
        since = {code: p.since for code, p in store.patients.items()}
        problems: list[str] = []
        rows: list[SessionRow] = []
        for line, values in csv_rows(text):
            try:
                rows.append(
                    check_row(
                        f"line {line}",
                        values,
                        instruments=instruments,
                        default_instrument=default_instrument,
                        since=since,
                        today=today,
                    )
                )
            except AllianceError as error:
                problems.append(f"line {line}: {error}")
            advance(1)
        _reject(problems)
        planned = _plan_sessions(rows, store, problems, report)
        _reject(problems)
        ids = {code: p.id for code, p in store.patients.items() if p.id is not None}
        latest: dict[str, SessionRow] = {}
        for row in planned:
            if row.patient not in ids and (
                row.patient not in latest or row.date >= latest[row.patient].date
            ):
                latest[row.patient] = row
        for code, row in sorted(latest.items()):
            patient = Patient(code=code, instrument=row.instrument)
            session.add(patient)
            session.flush()
            assert patient.id is not None
            ids[code] = patient.id
        report.patients_added = len(latest)
        _insert_sessions(session, planned, ids)
        report.sessions_added = len(planned)
        if report.dry_run:
            raise _DryRun


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
    started: Callback = _ignore,
    advance: Callback = _ignore,
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
    with contextlib.suppress(_DryRun):
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
        store = _Store(session)
        problems: list[str] = []
        rows: list[SessionRow] = []
        for index, data in enumerate(patients):
            where = f"patients[{index}]"
            if not isinstance(data, dict):
                problems.append(f"{where}: not an object")
                continue
            _json_patient(session, store, data, where, settings, today, problems, rows, report)
            advance(1)
        _reject(problems)
        planned = _plan_sessions(rows, store, problems, report)
        _reject(problems)
        ids = {code: p.id for code, p in store.patients.items() if p.id is not None}
        _insert_sessions(session, planned, ids)
        report.sessions_added = len(planned)
        if report.dry_run:
            raise _DryRun


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
    store: _Store,
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
