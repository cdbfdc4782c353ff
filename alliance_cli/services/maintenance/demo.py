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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import exc, inspect
from sqlmodel import Session, func, select

from alliance_cli import clock
from alliance_cli.domain.flags import current_flags
from alliance_cli.domain.instruments import quick_scores
from alliance_cli.domain.repairs import flag_to_answer
from alliance_cli.domain.rules import default_rules
from alliance_cli.errors import AllianceError, Conflict, StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    create_private_temp,
    ensure_data_dir,
    remove_temp,
    sqlite_url,
)
from alliance_cli.services.reports.history import load_history
from alliance_cli.store import cipher
from alliance_cli.store.audit import AuditEntry
from alliance_cli.store.engine import Database, open_database
from alliance_cli.store.models import (
    Goal,
    GoalReview,
    Patient,
    Repair,
    SessionRating,
    Task,
    TaskReview,
)
from alliance_cli.store.queries import clinician_of

WEEKS = 12
Triple = tuple[float, float, float]


@dataclass(frozen=True)
class DemoPatient:
    code: str
    profile: dict[str, str]
    ratings: list[Triple | None]  # one per week, None = no session that week
    therapist_ratings: list[Triple | None] = field(default_factory=list)
    notes: dict[int, str] = field(default_factory=dict)
    goals: list[tuple[str, str, str]] = field(default_factory=list)  # text, by, final status
    tasks: list[tuple[str, int | None, list[str]]] = field(default_factory=list)
    # The rupture question (`session add --rupture`): asked in every session when True,
    # the answer `none` unless given here by (rater, week).
    asks_rupture: bool = False
    ruptures: dict[tuple[str, int], str] = field(default_factory=dict)
    repairs: list[tuple[int, str, str]] = field(default_factory=list)  # week, strategy, note


def _series(
    start: Triple, end: Triple, weeks: int = WEEKS, *, steady: bool = False
) -> list[Triple | None]:
    """A straight line from start to end with a small fixed wobble, rounded to .5."""
    wobble = (
        (0.0,) * WEEKS
        if steady
        else (0.0, 0.5, -0.5, 0.0, 0.5, 0.0, -0.5, 0.0, 0.5, -0.5, 0.0, 0.0)
    )
    rows: list[Triple | None] = []
    for week in range(weeks):
        share = week / (weeks - 1)
        values = [
            min(10.0, max(0.0, round((s + (e - s) * share + wobble[week]) * 2) / 2))
            for s, e in zip(start, end, strict=True)
        ]
        rows.append((values[0], values[1], values[2]))
    return rows


def _caseload() -> list[DemoPatient]:
    rupture = _series((8.0, 8.0, 7.5), (8.5, 8.5, 8.0))
    rupture[5] = (4.5, 5.0, 4.0)
    rupture[6] = (7.5, 7.5, 7.0)
    stopped = _series((7.5, 7.0, 7.0), (6.0, 5.5, 5.0))[:5] + [None] * (WEEKS - 5)
    return [
        DemoPatient(
            code="D01",
            profile={
                "expectations": "fewer panic attacks at work",
                "beliefs": "anxiety is a weakness",
                "emotional_state": "tense but hopeful",
                "social_context": "married, two children, supportive partner",
            },
            ratings=_series((8.0, 8.0, 7.5), (9.0, 8.5, 8.5)),
            goals=[
                ("Take the train to work alone", "joint", "achieved"),
                ("Use breathing exercise when panic starts", "patient", "active"),
            ],
            tasks=[("Exposure diary, daily", 1, ["done", "done", "partly"])],
        ),
        DemoPatient(
            code="D02",
            profile={
                "expectations": "wants quick advice, not talking",
                "beliefs": "low mood is caused by the job only",
                "emotional_state": "low, irritable",
                "social_context": "recently separated, lives alone",
            },
            ratings=_series((8.5, 8.0, 8.0), (5.0, 5.0, 4.5), steady=True),
            notes={8: "missed homework again, seemed disengaged", 11: "asked to space sessions"},
            goals=[("Return to a regular sleep routine", "therapist", "active")],
            tasks=[
                ("Activity scheduling, 3 pleasant activities a week", 1, ["partly", "not-done"]),
                ("Sleep diary", 1, ["partly", "not-done", "not-done"]),
            ],
        ),
        DemoPatient(
            code="D03",
            profile={
                "expectations": "understand recurring conflicts",
                "emotional_state": "guarded",
                "social_context": "close to parents, few friends",
            },
            ratings=rupture,
            notes={
                5: "rupture: confrontation about homework load",
                6: "talked the rupture through, agreed a lighter plan",
            },
            repairs=[(5, "explore", "invited the complaint, owned the heavy homework plan")],
            goals=[("Name feelings before conflicts escalate", "joint", "active")],
            tasks=[("Conflict log, twice a week", 1, ["not-done", "partly", "done"])],
        ),
        DemoPatient(
            code="D04",
            profile={
                "expectations": "get the doctor off their back",
                "beliefs": "therapy is for other people",
                "social_context": "sent by GP, partner pushed for it",
            },
            ratings=_series((9.0, 9.0, 9.0), (9.5, 9.0, 9.0)),
            therapist_ratings=_series((6.0, 5.5, 6.0), (6.5, 5.5, 5.5)),
            notes={3: "patient rates very high; therapist senses polite compliance"},
            goals=[("Cut down drinking to weekends", "therapist", "active")],
            tasks=[("Drink-free days log", 1, ["partly", "partly"])],
        ),
        DemoPatient(
            code="D05",
            profile={
                "expectations": "stop the worrying",
                "emotional_state": "anxious, exhausted",
                "social_context": "carer for an ill parent",
            },
            ratings=stopped,
            notes={4: "cancelled the next two appointments"},
            goals=[("Worry time, 20 minutes a day", "joint", "active")],
            tasks=[("Worry postponement", 1, ["partly"])],
        ),
        DemoPatient(
            code="D06",
            profile={
                "expectations": "back to running",
                "beliefs": "pain means damage",
                "emotional_state": "frustrated",
                "social_context": "lives alone, supportive sister",
            },
            ratings=_series((5.0, 5.5, 4.5), (8.5, 8.5, 8.0)),
            goals=[("Run 5 km without pain", "joint", "active")],
            tasks=[("Hip exercises, 3x a week", 1, ["partly", "done", "done", "done"])],
        ),
        DemoPatient(
            code="D07",
            profile={
                "expectations": "cope with grief after a parent's death",
                "beliefs": "should be over it by now",
                "emotional_state": "sad, very polite",
                "social_context": "works full time, sister abroad",
            },
            ratings=[*_series((8.0, 8.0, 7.5), (8.5, 8.0, 8.0))[:-1], (7.5, 7.5, 7.5)],
            therapist_ratings=_series((7.5, 7.5, 7.5), (8.5, 8.0, 8.0)),
            notes={11: "good session, planned the anniversary visit"},
            goals=[("Talk about the loss with a friend", "joint", "active")],
            tasks=[("Write a letter to the parent, not to send", 1, ["done", "done"])],
            asks_rupture=True,
            ruptures={("patient", 11): "withdrawal"},
        ),
    ]


@dataclass(frozen=True)
class PastPatient:
    """A discharged demo patient: weekly sessions from `start` to `end` (quick), care
    ended `ago` weeks before today, two goals rated on GAS at discharge."""

    code: str
    weeks: int
    ago: int
    start: Triple
    end: Triple
    ending: str
    gas: tuple[int, int]
    dip: int | None = None  # a rupture: this week falls 2 points on each dimension
    dip_weeks: int = 1  # ... for this many weeks (past the end: never repaired)


PAST = (
    PastPatient("D08", 10, 30, (8.5, 8.5, 8.0), (9.0, 9.0, 8.5), "mutual", (1, 0)),
    PastPatient("D09", 8, 26, (8.0, 7.5, 7.5), (8.5, 8.5, 8.0), "mutual", (0, 0)),
    PastPatient("D10", 3, 40, (5.0, 4.5, 4.5), (4.5, 4.0, 4.0), "dropout", (-1, -1)),
    PastPatient("D11", 9, 20, (7.0, 7.0, 6.5), (8.5, 8.0, 8.0), "mutual", (1, 1)),
    PastPatient("D12", 4, 35, (6.0, 5.5, 5.0), (5.5, 5.0, 5.0), "dropout", (-1, -2)),
    PastPatient("D13", 12, 44, (7.5, 7.5, 7.0), (8.0, 8.0, 8.0), "mutual", (0, 1), dip=6),
    PastPatient(
        "D14", 6, 16, (6.5, 6.5, 6.0), (6.0, 6.0, 5.5), "dropout", (-1, -1), dip=4, dip_weeks=9
    ),
    PastPatient("D15", 8, 24, (7.5, 7.0, 7.0), (8.0, 7.5, 7.5), "referred", (0, -1)),
    PastPatient("D16", 7, 12, (8.0, 8.0, 8.0), (8.5, 8.5, 8.5), "moved", (0, 0)),
    PastPatient("D17", 10, 50, (6.5, 6.0, 6.0), (8.0, 7.5, 7.5), "mutual", (0, 1)),
    PastPatient("D18", 11, 8, (9.0, 8.5, 8.5), (9.0, 9.0, 9.0), "mutual", (2, 1)),
    PastPatient("D19", 5, 30, (5.5, 5.5, 5.0), (6.0, 6.0, 5.5), "other", (-1, 0)),
)
PAST_GOALS = ("Agreed goal 1", "Agreed goal 2")


def _past_ratings(past: PastPatient) -> list[Triple]:
    rows = [r for r in _series(past.start, past.end, past.weeks) if r is not None]
    if past.dip is not None:
        for week in range(past.dip, min(past.dip + past.dip_weeks, len(rows))):
            b, g, t = rows[week]
            rows[week] = (max(0.0, b - 2.0), max(0.0, g - 2.0), max(0.0, t - 2.0))
    return rows


def _write_past(session: Session, past: PastPatient, today: date) -> None:
    left = today - timedelta(weeks=past.ago)
    first = left - timedelta(weeks=past.weeks)
    patient = Patient(
        code=past.code,
        clinician=clinician_of(session),
        since=first - timedelta(days=7),
        status="discharged",
        discharged_on=left,
        ending=past.ending,
    )
    session.add(patient)
    session.flush()
    assert patient.id is not None
    for week, triple in enumerate(_past_ratings(past)):
        scores = quick_scores(*triple)
        session.add(
            SessionRating(
                patient_id=patient.id,
                date=first + timedelta(weeks=week),
                rater="patient",
                instrument="quick",
                bond=scores.bond,
                goal=scores.goal,
                task=scores.task,
                total=scores.total,
                items=list(scores.items),
            )
        )
    for text, level in zip(PAST_GOALS, past.gas, strict=True):
        goal = Goal(patient_id=patient.id, text=text, proposed_by="joint", created=first)
        session.add(goal)
        session.flush()
        assert goal.id is not None
        session.add(GoalReview(goal_id=goal.id, date=left, status="active", gas=level))


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
                for index, demo in enumerate(_caseload()):
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
    for rater, series in (("patient", demo.ratings), ("therapist", demo.therapist_ratings)):
        for week, triple in enumerate(series):
            if triple is None:
                continue
            scores = quick_scores(*triple)
            session.add(
                SessionRating(
                    patient_id=patient.id,
                    date=first + timedelta(weeks=week),
                    rater=rater,
                    instrument="quick",
                    bond=scores.bond,
                    goal=scores.goal,
                    task=scores.task,
                    total=scores.total,
                    items=list(scores.items),
                    note=demo.notes.get(week) if rater == "patient" else None,
                    rupture=demo.ruptures.get((rater, week), "none") if demo.asks_rupture else None,
                )
            )
    if demo.repairs:
        _write_repairs(session, demo, patient, first)
    goal_ids: list[int] = []
    for text, by, status in demo.goals:
        goal = Goal(patient_id=patient.id, text=text, proposed_by=by, status=status, created=first)
        session.add(goal)
        session.flush()
        assert goal.id is not None
        goal_ids.append(goal.id)
        if status != "active":
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
        link = flag_to_answer(current_flags(history, default_rules(), on))
        session.add(
            Repair(
                patient_id=patient.id,
                date=on,
                strategy=strategy,
                note=note,
                flag_kind=link.kind if link else None,
                flag_dimension=link.dimension if link else None,
                flag_date=link.date if link else None,
                flag_rater=link.rater if link else None,
                flag_instrument=link.instrument if link else None,
            )
        )
