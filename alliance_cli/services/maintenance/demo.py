"""`alliance demo`: a synthetic caseload in a separate database, never the real one.

Seven invented patients over twelve weekly sessions show what the tool is for: a stable
alliance, a clear decline, a rupture with a repair attempt that worked, a
patient-therapist discrepancy, a patient who stopped coming, a physiotherapy patient
whose alliance grows, and a rupture the patient reported that the therapist missed.
Twelve more were discharged over the past year, each with how care ended and its goals
rated on Goal Attainment Scaling, so `alliance outcomes` has something to say: those
who started with a weaker alliance dropped out more and reached their goals less.
"""

from __future__ import annotations

import contextlib
import os
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import exc, inspect
from sqlmodel import Session, func, select

from alliance_cli import clock
from alliance_cli.domain.instruments import quick_scores
from alliance_cli.domain.rules import default_rules
from alliance_cli.domain.vocabulary import GoalStatus, Marker, PatientStatus, ProposedBy, Rater
from alliance_cli.errors import AllianceError, Conflict, StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    create_private_temp,
    ensure_data_dir,
    remove_temp,
    sqlite_url,
)
from alliance_cli.services.care.repairs import answering_repair
from alliance_cli.services.maintenance.demo_caseload import (
    PAST,
    PAST_GOALS,
    WEEKS,
    DemoPatient,
    PastPatient,
    Triple,
    caseload,
    past_ratings,
)
from alliance_cli.services.reports.history import load_history
from alliance_cli.store import cipher
from alliance_cli.store.audit import AuditEntry
from alliance_cli.store.engine import Database, clinician_of, open_database
from alliance_cli.store.models import (
    Goal,
    GoalReview,
    Patient,
    Repair,
    SessionRating,
    Task,
    TaskReview,
)


def _write_past(session: Session, past: PastPatient, today: date) -> None:
    left = today - timedelta(weeks=past.ago)
    first = left - timedelta(weeks=past.weeks)
    patient = Patient(
        code=past.code,
        clinician=clinician_of(session),
        since=first - timedelta(days=7),
        status=PatientStatus.DISCHARGED,
        discharged_on=left,
        ending=past.ending,
    )
    session.add(patient)
    session.flush()
    assert patient.id is not None
    for week, triple in enumerate(past_ratings(past)):
        session.add(_rating(patient.id, first + timedelta(weeks=week), Rater.PATIENT, triple))
    for text, level in zip(PAST_GOALS, past.gas, strict=True):
        goal = Goal(patient_id=patient.id, text=text, proposed_by=ProposedBy.JOINT, created=first)
        session.add(goal)
        session.flush()
        assert goal.id is not None
        session.add(GoalReview(goal_id=goal.id, date=left, status=GoalStatus.ACTIVE, gas=level))


def write_demo(
    location: DatabaseLocation,
    *,
    real: DatabaseLocation,
    today: date | None = None,
    force: bool = False,
) -> Database:
    """Write the demo caseload to a fresh database at `location` and return it open.

    Refuses to write where the real database lives; over an existing file only when it
    holds nothing but an untouched demo caseload (`_check_only_demo`), unless `force`:
    people follow the demo's own `export ALLIANCE_DB=...` hint and add real patients.
    """
    target = location.path
    assert target is not None
    if real.path is not None and target.resolve() == real.path.resolve():
        raise Conflict("the demo database cannot be your real database", "choose another --path")
    day = today or clock.today()
    tmp = _staging_file(target, default=location.is_default)
    staging = DatabaseLocation(sqlite_url(tmp), tmp, "demo", False)
    try:
        db = open_database(staging, create=True)
        try:
            with db.write() as session:
                for index, demo in enumerate(caseload()):
                    _write_patient(session, demo, day, index)
                for past in PAST:
                    _write_past(session, past, day)
            with db.read() as session:
                written = _content(session)
        finally:
            db.close()
        if target.exists() and not force:
            _check_only_demo(target, written)
    except BaseException:
        remove_temp(tmp)
        raise
    _remove_sqlite_files(target)
    os.replace(tmp, target)
    return open_database(location)


def _staging_file(target: Path, *, default: bool) -> Path:
    """A new temp file beside `target` to write the demo into (one left by a killed
    command is removed by the next: `paths.clean_stale_temps`)."""
    if default:
        ensure_data_dir(target.parent)
    try:
        return create_private_temp(target.parent, target.name)
    except FileNotFoundError:
        raise StorageError(
            f"directory {target.parent} does not exist", "create it first, or fix --path"
        ) from None
    except OSError as error:
        raise StorageError(f"cannot create a file in {target.parent}: {error.strerror}") from None


def _check_only_demo(target: Path, demo: list[str]) -> None:
    """Refuse to overwrite `target` unless it holds nothing, or a demo caseload that no
    command has changed since it was written.

    Its place proves nothing (the demo's hint makes it someone's working database), so
    the content decides: the same rows as the demo just written (`_content`: dates
    counted from the start of care, so a demo written on another day matches) and an
    empty audit trail. The demo writes none, while every change made through alliance
    leaves a row there, even one undone or erased since. The file is only read, never
    upgraded: an older schema, another program's file or an encrypted one is refused.
    """
    refused = Conflict(
        f"{target} holds data other than the demo caseload",
        "pass --force to overwrite it, or choose another --path",
    )
    if target.is_file() and target.stat().st_size == 0:
        return
    if not target.is_file() or cipher.looks_encrypted(target):
        raise refused
    read_only = f"{sqlite_url(target)}?mode=ro&uri=true"  # a look, never a write
    location = DatabaseLocation(read_only, target, "demo", is_default=False, read_only_url=True)
    try:
        db = open_database(location, migrate=False)
        try:
            with db.read() as session:
                audited = session.exec(select(func.count()).select_from(AuditEntry)).one()
                found = _content(session)
        finally:
            db.close()
    except (AllianceError, exc.SQLAlchemyError):
        raise refused from None
    if audited or (found and found != demo):
        raise refused


def _content(session: Session) -> list[str]:
    """Every stored row in a comparable form: ids replaced by what they point at (a
    patient's code, a goal's or task's patient and text), dates as days since the
    earliest start of care, creation times and the clinician left out."""
    patients = session.exec(select(Patient)).all()
    anchor = min((p.since for p in patients if p.since is not None), default=None)
    codes = {p.id: p.code for p in patients}
    goals = {g.id: (codes.get(g.patient_id), g.text) for g in session.exec(select(Goal))}
    tasks = {t.id: (codes.get(t.patient_id), t.text) for t in session.exec(select(Task))}
    parents: dict[str, dict[int | None, object]] = {
        "patient_id": dict(codes),
        "goal_id": dict(goals),
        "task_id": dict(tasks),
    }
    rows = []
    for model in (Patient, Goal, GoalReview, Task, TaskReview, SessionRating, Repair):
        for row in session.exec(select(model)):
            values: list[tuple[str, object]] = []
            for attribute in inspect(model).column_attrs:
                name = attribute.key
                value = getattr(row, name)
                if name in ("id", "clinician") or isinstance(value, datetime):
                    continue
                if name in parents:
                    value = parents[name].get(value)
                elif isinstance(value, date) and anchor is not None:
                    value = (value - anchor).days
                values.append((name, value))
            rows.append(repr((model.__tablename__, values)))
    return sorted(rows)


def _remove_sqlite_files(path: os.PathLike[str]) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{os.fspath(path)}{suffix}")


def _rating(patient_id: int, on: date, rater: Rater, triple: Triple) -> SessionRating:
    """A rating set on the quick instrument (bond, goal, task 0-10)."""
    scores = quick_scores(*triple)
    return SessionRating(
        patient_id=patient_id,
        date=on,
        rater=rater,
        instrument="quick",
        bond=scores.bond,
        goal=scores.goal,
        task=scores.task,
        total=scores.total,
        items=list(scores.items),
    )


def _write_patient(session: Session, demo: DemoPatient, today: date, index: int) -> None:
    first = today - timedelta(weeks=WEEKS - 1, days=index % 3)
    patient = Patient(
        code=demo.code, clinician=clinician_of(session), since=first - timedelta(days=7)
    )
    for field_name, value in demo.profile.items():
        setattr(patient, field_name, value)
    session.add(patient)
    session.flush()
    assert patient.id is not None
    for rater, series in ((Rater.PATIENT, demo.ratings), (Rater.THERAPIST, demo.therapist_ratings)):
        for week, triple in enumerate(series):
            if triple is None:
                continue
            rating = _rating(patient.id, first + timedelta(weeks=week), rater, triple)
            rating.note = demo.notes.get(week) if rater == Rater.PATIENT else None
            if demo.asks_rupture:
                rating.rupture = demo.ruptures.get((rater, week), Marker.NONE)
            session.add(rating)
    if demo.repairs:
        _write_repairs(session, demo, patient, first)
    goal_ids: list[int] = []
    for text, by, status in demo.goals:
        goal = Goal(patient_id=patient.id, text=text, proposed_by=by, status=status, created=first)
        session.add(goal)
        session.flush()
        assert goal.id is not None
        goal_ids.append(goal.id)
        if status != GoalStatus.ACTIVE:
            session.add(GoalReview(goal_id=goal.id, date=today - timedelta(weeks=1), status=status))
    for text, goal_number, adherence in demo.tasks:
        task = Task(
            patient_id=patient.id,
            goal_id=goal_ids[goal_number - 1] if goal_number else None,
            text=text,
            due=first + timedelta(weeks=2),
            created=first + timedelta(weeks=1),
        )
        session.add(task)
        session.flush()
        assert task.id is not None
        last_week = max(w for w, t in enumerate(demo.ratings) if t is not None)
        for number, level in enumerate(adherence):
            week = last_week - len(adherence) + 1 + number
            session.add(
                TaskReview(task_id=task.id, date=first + timedelta(weeks=week), adherence=level)
            )


def _write_repairs(session: Session, demo: DemoPatient, patient: Patient, first: date) -> None:
    """Each repair attempt linked as `repair add` links it: to the flag current that day
    (default rules: the demo's config is the user's, its flags are recomputed)."""
    assert patient.id is not None
    session.flush()
    history = load_history(session, patient)
    for week, strategy, note in demo.repairs:
        on = first + timedelta(weeks=week)
        session.add(answering_repair(patient.id, history, default_rules(), on, strategy, note))
