"""`alliance demo`: a synthetic caseload in a separate database, never the real one.

Six invented patients over twelve weekly sessions show what the tool is for: a stable
alliance, a clear decline, a rupture that is repaired, a patient-therapist discrepancy,
a patient who stopped coming, and a physiotherapy patient whose alliance grows.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlmodel import Session

from alliance_cli import clock
from alliance_cli.domain.instruments import quick_scores
from alliance_cli.errors import Conflict
from alliance_cli.paths import DatabaseLocation, sqlite_url
from alliance_cli.store.engine import Database, open_database
from alliance_cli.store.models import Goal, GoalReview, Patient, SessionRating, Task, TaskReview
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
    ]


def write_demo(
    location: DatabaseLocation, *, real: DatabaseLocation, today: date | None = None
) -> Database:
    """Write the demo caseload to a fresh database at `location` and return it open.

    Refuses to write where the real database lives, or over a file other than a
    previous demo at the default place.
    """
    target = location.path
    assert target is not None
    if real.path is not None and target.resolve() == real.path.resolve():
        raise Conflict("the demo database cannot be your real database", "choose another --path")
    if target.exists() and not location.is_default:
        raise Conflict(f"{target} already exists", "choose a new --path, or delete the file first")
    day = today or clock.today()
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    _remove_sqlite_files(tmp)
    staging = DatabaseLocation(sqlite_url(tmp), tmp, "demo", location.is_default)
    db = open_database(staging)
    try:
        with db.write() as session:
            for index, demo in enumerate(_caseload()):
                _write_patient(session, demo, day, index)
    finally:
        db.close()
    _remove_sqlite_files(target)
    os.replace(tmp, target)
    return open_database(location)


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
                )
            )
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
