"""Compact histories for the flag engine and charts: plain tuples from one query each,
never ORM objects (a caseload can hold a million ratings)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from alliance_cli.domain.flag_model import Report, Review
from alliance_cli.domain.flags import History, Rating
from alliance_cli.domain.vocabulary import PatientStatus
from alliance_cli.store.models import Patient, SessionRating, Task, TaskReview
from alliance_cli.store.queries import mine


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def load_histories(
    session: Session, patients: Iterable[Patient] | None = None, *, active_only: bool = True
) -> dict[int, History]:
    """Histories keyed by patient id: all patients (active only by default), or `patients`."""
    if patients is None:
        query = select(Patient).where(mine(session))
        if active_only:
            query = query.where(Patient.status == PatientStatus.ACTIVE)
        chosen = list(session.exec(query).all())
    else:
        chosen = list(patients)
    by_id = {p.id: p for p in chosen if p.id is not None}
    if patients is None:
        # Filter by joining on the patient table, not a list of thousands of ids.
        rating_filter = [col(SessionRating.patient_id) == Patient.id, mine(session)]
        review_filter = [col(Task.patient_id) == Patient.id, mine(session)]
        if active_only:
            rating_filter.append(col(Patient.status) == PatientStatus.ACTIVE)
            review_filter.append(col(Patient.status) == PatientStatus.ACTIVE)
    else:
        rating_filter = [col(SessionRating.patient_id).in_(list(by_id))]
        review_filter = [col(Task.patient_id).in_(list(by_id))]
    ratings: dict[int, list[Rating]] = defaultdict(list)
    reviews: dict[int, list[Review]] = defaultdict(list)
    reports: dict[int, list[Report]] = defaultdict(list)
    if by_id:
        rating_query = sql_select(
            col(SessionRating.patient_id),
            col(SessionRating.date),
            col(SessionRating.rater),
            col(SessionRating.instrument),
            col(SessionRating.bond),
            col(SessionRating.goal),
            col(SessionRating.task),
            col(SessionRating.total),
            col(SessionRating.rupture),
        )
        review_query = sql_select(
            col(Task.patient_id), col(TaskReview.date), col(TaskReview.adherence)
        ).join(Task, col(Task.id) == TaskReview.task_id)
        if patients is None:
            rating_query = rating_query.join(Patient, col(Patient.id) == SessionRating.patient_id)
            review_query = review_query.join(Patient, col(Patient.id) == Task.patient_id)
        for pid, when, rater, instrument, bond, goal, task, total, marker in session.execute(
            rating_query.where(*rating_filter)
        ).all():
            day = _day(when)
            ratings[pid].append(Rating(day, rater, instrument, bond, goal, task, total))
            if marker is not None:
                reports[pid].append((day, rater, marker))
        for pid, when, adherence in session.execute(review_query.where(*review_filter)).all():
            reviews[pid].append((_day(when), adherence))
    return {
        pid: History(
            patient=patient.code,
            ratings=tuple(ratings[pid]),
            reviews=tuple(reviews[pid]),
            active=patient.status == PatientStatus.ACTIVE,
            since=patient.since,
            reports=tuple(reports[pid]),
        )
        for pid, patient in by_id.items()
    }


def load_history(session: Session, patient: Patient) -> History:
    assert patient.id is not None
    return load_histories(session, [patient])[patient.id]
