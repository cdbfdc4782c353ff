"""Session ratings: one set per rater per session date, with the change since last time
and the flags the session raised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.dates import check_session_date
from alliance_cli.domain.flag_model import MARKERS
from alliance_cli.domain.flags import flags_of_session
from alliance_cli.domain.instruments import Instrument, Scores, score_changes
from alliance_cli.domain.records import SessionRecord, StoredSession
from alliance_cli.domain.scoring_input import RawRating, check_entry, scores_from_input
from alliance_cli.domain.vocabulary import Marker, Rater
from alliance_cli.errors import Conflict, InvalidInput
from alliance_cli.services.exchange.convert import scores_of, session_record
from alliance_cli.services.reports.history import load_history
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Patient, SessionRating
from alliance_cli.store.queries import get_patient, get_session_rating, patient_code, sessions_of


@dataclass(frozen=True)
class NewRating:
    date: date
    rater: Rater
    instrument: str
    scores: Scores
    note: str | None
    rupture: Marker | None = None  # None: not asked


@dataclass(frozen=True)
class RatingContext:
    """What the CLI needs before asking for ratings: the instrument and last time's set."""

    instrument: str
    previous: SessionRecord | None


def _previous(session: Session, patient_id: int, rater: str, before: date) -> SessionRating | None:
    query = (
        select(SessionRating)
        .where(
            SessionRating.patient_id == patient_id,
            SessionRating.rater == rater,
            SessionRating.date < before,
        )
        .order_by(col(SessionRating.date).desc())
        .limit(1)
    )
    return session.exec(query).first()


def _check_free(session: Session, patient: Patient, when: date, rater: str) -> None:
    existing = session.exec(
        select(SessionRating.id).where(
            SessionRating.patient_id == patient.id,
            SessionRating.date == when,
            SessionRating.rater == rater,
        )
    ).first()
    if existing is not None:
        raise Conflict(
            f"{patient.code} already has a {rater} rating on {when.isoformat()} "
            f"(session {existing})",
            f"change it with `alliance session edit {existing}`",
        )


def _check_marker(marker: str | None, hint: str | None = None) -> None:
    if marker is not None and marker not in MARKERS:
        raise InvalidInput(f"rupture {marker!r} is not one of {', '.join(MARKERS)}", hint)


def _check_date(patient: Patient, when: date, today: date) -> None:
    check_session_date(when, today, patient.since)
    if patient.discharged_on is not None and when > patient.discharged_on:
        raise InvalidInput(
            f"{patient.code} was discharged on {patient.discharged_on.isoformat()}",
            "use `alliance patient reactivate` to resume care",
        )


def rating_context(db: Database, code: str, when: date, rater: str, today: date) -> RatingContext:
    """Check that a rating could be stored, and give what prompting needs."""
    with db.read() as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        _check_date(patient, when, today)
        _check_free(session, patient, when, rater)
        previous = _previous(session, patient.id, rater, when)
        return RatingContext(
            instrument=patient.instrument,
            previous=None if previous is None else session_record(previous, code),
        )


def add_session(
    db: Database, code: str, new: NewRating, settings: Settings, *, today: date
) -> StoredSession:
    """Store one rating set scored by the caller (after prompting, say)."""
    with db.write("session.add") as session:
        patient = get_patient(session, code)
        if new.instrument != patient.instrument:
            raise Conflict(
                f"{code} is now rated with {patient.instrument}, not {new.instrument}",
                "run the command again",
            )
        return _store(session, patient, new, settings, today)


def record_session(
    db: Database,
    code: str,
    raw: RawRating,
    *,
    when: date,
    rater: Rater,
    note: str | None,
    settings: Settings,
    today: date,
    rupture: Marker | None = None,
) -> StoredSession:
    """Score what was typed with the patient's instrument and store it: one transaction."""
    with db.write("session.add") as session:
        patient = get_patient(session, code)
        instrument = settings.instrument(patient.instrument)
        check_entry(instrument, raw, code)
        scores = scores_from_input(instrument, raw)
        new = NewRating(
            date=when,
            rater=rater,
            instrument=instrument.name,
            scores=scores,
            note=note,
            rupture=rupture,
        )
        return _store(session, patient, new, settings, today)


def _store(
    session: Session, patient: Patient, new: NewRating, settings: Settings, today: date
) -> StoredSession:
    """Check, insert, and report the change and the flags this session raised."""
    assert patient.id is not None
    code = patient.code
    _check_date(patient, new.date, today)
    _check_free(session, patient, new.date, new.rater)
    _check_marker(new.rupture)
    previous = _previous(session, patient.id, new.rater, new.date)
    rating = SessionRating(
        patient_id=patient.id,
        date=new.date,
        rater=new.rater,
        instrument=new.instrument,
        bond=new.scores.bond,
        goal=new.scores.goal,
        task=new.scores.task,
        total=new.scores.total,
        items=list(new.scores.items),
        extra=dict(new.scores.extra) or None,
        note=new.note,
        rupture=new.rupture,
    )
    session.add(rating)
    session.flush()
    previous_record = None
    if previous is not None and previous.instrument == new.instrument:
        previous_record = session_record(previous, code)
    raised = flags_of_session(load_history(session, patient), settings.rules, new.date, new.rater)
    return StoredSession(
        session=session_record(rating, code),
        previous=previous_record,
        changes=score_changes(
            new.scores, None if previous_record is None else scores_of(previous_record)
        ),
        flags=tuple(raised),
    )


def list_sessions(db: Database, code: str) -> list[SessionRecord]:
    with db.read() as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        return [session_record(r, code) for r in sessions_of(session, patient.id)]


def get_session(db: Database, session_id: int) -> SessionRecord:
    with db.read() as session:
        rating = get_session_rating(session, session_id)
        return session_record(rating, patient_code(session, rating.patient_id))


@dataclass(frozen=True)
class RatingChanges:
    """Fields to change in `session edit`; None leaves a field as it is."""

    date: date | None = None
    rater: Rater | None = None
    ratings: RawRating = field(default_factory=RawRating)
    note: str | None = None
    rupture: str | None = None  # a marker, or "": not asked (clears the answer)


def _rescore(rating: SessionRating, instrument: Instrument, raw: RawRating) -> Scores:
    """New scores from the typed values, keeping what was not retyped (quick only)."""
    if instrument.direct_entry:
        kept = RawRating(
            bond=raw.bond if raw.bond is not None else f"{rating.bond:g}",
            goal=raw.goal if raw.goal is not None else f"{rating.goal:g}",
            task=raw.task if raw.task is not None else f"{rating.task:g}",
        )
        return scores_from_input(instrument, kept)
    return scores_from_input(instrument, raw)


def edit_session(
    db: Database, session_id: int, changes: RatingChanges, settings: Settings, *, today: date
) -> SessionRecord:
    if changes.rupture:
        _check_marker(changes.rupture, 'or "" to remove the answer')
    with db.write("session.edit") as session:
        rating = get_session_rating(session, session_id)
        patient = session.get(Patient, rating.patient_id)
        assert patient is not None
        when = changes.date or rating.date
        rater = changes.rater or rating.rater
        if (when, rater) != (rating.date, rating.rater):
            _check_date(patient, when, today)
            _check_free(session, patient, when, rater)
        rating.date, rating.rater = when, rater
        if not changes.ratings.empty:
            scores = _rescore(rating, settings.instrument(rating.instrument), changes.ratings)
            rating.bond, rating.goal, rating.task = scores.bond, scores.goal, scores.task
            rating.total = scores.total
            rating.items = list(scores.items)
            rating.extra = dict(scores.extra) or None
        if changes.note is not None:
            rating.note = changes.note or None
        if changes.rupture is not None:
            rating.rupture = changes.rupture or None
        session.add(rating)
        session.flush()
        return session_record(rating, patient.code)


def delete_session(db: Database, session_id: int) -> SessionRecord:
    with db.write("session.delete") as session:
        rating = get_session_rating(session, session_id)
        record = session_record(rating, patient_code(session, rating.patient_id))
        session.delete(rating)
        return record
