"""Look-ups shared by the services; each raises NotFound with a helpful hint."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any, TypeVar

from sqlalchemy import inspect
from sqlmodel import Session, col, func, select

from alliance_cli.clinician import CLINICIAN_COLUMN
from alliance_cli.errors import InvalidInput, NotFound
from alliance_cli.store.engine import clinician_of
from alliance_cli.store.models import Goal, Patient, SessionRating, Task


def mine(session: Session) -> Any:
    """The condition "the patient is in the current clinician's caseload" (defined in
    alliance_cli/clinician.py, with its SQL for code that reads without the ORM)."""
    return inspect(Patient).columns[CLINICIAN_COLUMN] == clinician_of(session)


def in_caseload(session: Session, patient_id: int) -> bool:
    found = session.exec(select(Patient.id).where(Patient.id == patient_id, mine(session)))
    return found.first() is not None


def get_patient(session: Session, code: str) -> Patient:
    if not code.isprintable() and any("\ud800" <= char <= "\udfff" for char in code):
        raise InvalidInput("patient code is not valid UTF-8 text", "check the terminal's encoding")
    patient = session.exec(select(Patient).where(Patient.code == code, mine(session))).first()
    if patient is not None:
        return patient
    codes = list(session.exec(select(Patient.code).where(mine(session))).all())
    close = get_close_matches(code, codes, n=1)
    hint = f"did you mean {close[0]}?" if close else "see `alliance patient list --all`"
    raise NotFound(f"unknown patient {code!r}", hint)


# The largest id a database can hold (SQLite's INTEGER PRIMARY KEY, PostgreSQL's bigint).
LARGEST_ID = 2**63 - 1


def storable_id(record_id: int) -> bool:
    """Whether a typed id can name a stored record at all. One that cannot is unknown,
    and is never handed to the driver: SQLite raises OverflowError beyond 64 bits."""
    return 0 < record_id <= LARGEST_ID


# What a patient has in the caseload, looked up by its id.
Owned = TypeVar("Owned", Goal, Task, SessionRating)


def _in_caseload(session: Session, model: type[Owned], row_id: int, noun: str, list_: str) -> Owned:
    """The row `row_id` if its patient is in the caseload; NotFound (hint: `list_`) if not."""
    row = session.get(model, row_id) if storable_id(row_id) else None
    if row is None or not in_caseload(session, row.patient_id):
        raise NotFound(f"unknown {noun} {row_id}", f"see `alliance {list_}`")
    return row


def get_goal(session: Session, goal_id: int) -> Goal:
    return _in_caseload(session, Goal, goal_id, "goal", "goal list CODE --all")


def get_task(session: Session, task_id: int) -> Task:
    return _in_caseload(session, Task, task_id, "task", "task list CODE --all")


def get_session_rating(session: Session, session_id: int) -> SessionRating:
    return _in_caseload(session, SessionRating, session_id, "session", "session list CODE")


def patient_code(session: Session, patient_id: int) -> str:
    return session.exec(select(Patient.code).where(Patient.id == patient_id)).one()


def count_rows(session: Session, model: type[Patient] | type[SessionRating]) -> int:
    """Patients or rating sets in the current clinician's caseload."""
    query = select(func.count()).select_from(model)
    if model is SessionRating:
        query = query.join(Patient, col(Patient.id) == SessionRating.patient_id)
    return session.exec(query.where(mine(session))).one()


def sessions_of(session: Session, patient_id: int) -> list[SessionRating]:
    """A patient's ratings in date order (patient rater before therapist on a day)."""
    query = (
        select(SessionRating)
        .where(SessionRating.patient_id == patient_id)
        .order_by(col(SessionRating.date), col(SessionRating.rater), col(SessionRating.id))
    )
    return list(session.exec(query).all())
