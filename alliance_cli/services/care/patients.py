"""Patients: pseudonymous codes, a profile in the patient's own terms, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, delete, func, select

from alliance_cli.config import Settings
from alliance_cli.domain.flag_scan import LATEST, Selection, scan_patient
from alliance_cli.domain.flags import current_flags, select_current
from alliance_cli.domain.records import (
    ENDINGS,
    LatestScores,
    PatientOverview,
    PatientProfile,
    PatientRow,
)
from alliance_cli.domain.trends import direction
from alliance_cli.domain.vocabulary import Ending, PatientStatus, Rater, Severity
from alliance_cli.errors import Conflict, InvalidInput
from alliance_cli.services.exchange.convert import (
    goal_record,
    optional_word,
    patient_profile,
    session_record,
    stored_word,
    task_record,
)
from alliance_cli.services.reports.caseload import Streamed, stream_patients
from alliance_cli.services.reports.history import load_history
from alliance_cli.store.audit import (
    UndoStep,
    erase_patient_references,
    recorder_of,
    write_entries,
)
from alliance_cli.store.engine import Database, clinician_of
from alliance_cli.store.models import (
    Goal,
    GoalReview,
    Patient,
    Repair,
    SessionRating,
    Task,
    TaskReview,
)
from alliance_cli.store.queries import get_patient, mine

PROFILE_FIELDS = (
    "name",
    "since",
    "expectations",
    "beliefs",
    "emotional_state",
    "social_context",
    "note",
)


@dataclass(frozen=True)
class PatientDetails:
    """Profile fields as typed; None leaves a field alone (edit) or empty (add)."""

    name: str | None = None
    since: date | None = None
    expectations: str | None = None
    beliefs: str | None = None
    emotional_state: str | None = None
    social_context: str | None = None
    note: str | None = None
    instrument: str | None = None  # a known instrument name (checked by the caller)


def add_patient(db: Database, code: str, details: PatientDetails) -> PatientProfile:
    with db.write("patient.add") as session:
        taken = select(Patient.id).where(Patient.code == code, mine(session))
        if session.exec(taken).first() is not None:
            raise Conflict(
                f"patient {code!r} already exists",
                "choose another code, or `alliance patient edit`",
            )
        patient = Patient(
            code=code,
            clinician=clinician_of(session),
            instrument=details.instrument or "quick",
            **{f: getattr(details, f) for f in PROFILE_FIELDS},
        )
        for field_name in PROFILE_FIELDS:  # an empty text means none
            if getattr(patient, field_name) == "":
                setattr(patient, field_name, None)
        session.add(patient)
        session.flush()
        return patient_profile(patient)


def list_patients(
    db: Database,
    settings: Settings,
    today: date,
    *,
    include_discharged: bool = False,
    all_clinicians: bool = False,
) -> list[PatientRow]:
    """Patients with session count, last session, latest scores, trend and flag counts."""
    with db.read() as session:
        rows = [
            _row(patient, settings, today)
            for patient in stream_patients(
                session, active_only=not include_discharged, all_clinicians=all_clinicians
            )
        ]
    return sorted(rows, key=lambda row: (row.clinician, row.code))


def _row(patient: Streamed, settings: Settings, today: date) -> PatientRow:
    meta, history = patient.meta, patient.history
    scan = scan_patient(
        meta.code, patient.rows, settings.rules, Selection(LATEST), patient.materialise
    )
    flags = select_current(history, scan, settings.rules, today)
    latest = max(
        scan.latest.values(), key=lambda r: (r.date, r.rater == Rater.PATIENT), default=None
    )
    trend = ""
    if latest is not None and latest.instrument in settings.instruments:
        low, high = settings.instruments[latest.instrument].dimension_range("total")
        rules = settings.rules.for_instrument(latest.instrument)
        trend = direction(scan.tails.get(latest.rater, ()), rules, high - low, rater=latest.rater)
    return PatientRow(
        code=meta.code,
        name=meta.name,
        status=stored_word(PatientStatus, meta.status),
        since=meta.since,
        sessions=scan.session_count,
        last_session=scan.last_date,
        instrument=meta.instrument,
        clinician=meta.clinician,
        latest=None
        if latest is None
        else LatestScores(
            date=latest.date,
            rater=latest.rater,
            instrument=latest.instrument,
            bond=latest.bond,
            goal=latest.goal,
            task=latest.task,
            total=latest.total,
            total_range=settings.total_range(latest.instrument),
        ),
        trend=trend,
        alerts=sum(f.severity == Severity.ALERT for f in flags),
        watch=sum(f.severity == Severity.WATCH for f in flags),
        ending=optional_word(Ending, meta.ending),
    )


def _as_date(value: date | str | None) -> date | None:
    """max() over a DATE column comes back as text on SQLite."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def show_patient(
    db: Database, code: str, settings: Settings, today: date, *, recent: int = 10
) -> PatientOverview:
    """The patient's dashboard: profile, goals, tasks, recent sessions, flags, trend."""
    from alliance_cli.services.care.goals import goal_reviews
    from alliance_cli.services.care.repairs import patient_repairs
    from alliance_cli.services.reports.trend import trend_from

    with db.read() as session:
        patient = get_patient(session, code)
        goals = session.exec(
            select(Goal).where(Goal.patient_id == patient.id).order_by(col(Goal.id))
        ).all()
        goal_review_rows = goal_reviews(session, [g.id for g in goals if g.id is not None])
        tasks = session.exec(
            select(Task).where(Task.patient_id == patient.id).order_by(col(Task.id))
        ).all()
        reviews = session.exec(
            select(TaskReview).join(Task).where(Task.patient_id == patient.id)
        ).all()
        ratings = session.exec(
            select(SessionRating)
            .where(SessionRating.patient_id == patient.id)
            .order_by(col(SessionRating.date).desc(), col(SessionRating.rater))
            .limit(recent)
        ).all()
        history = load_history(session, patient)
        return PatientOverview(
            profile=patient_profile(patient),
            goals=tuple(goal_record(g, code, goal_review_rows) for g in goals),
            tasks=tuple(
                task_record(t, code, [r for r in reviews if r.task_id == t.id]) for t in tasks
            ),
            sessions=tuple(session_record(r, code) for r in reversed(ratings)),
            session_count=len({r.date for r in history.ratings}),
            flags=tuple(current_flags(history, settings.rules, today)),
            trend=trend_from(history, patient.instrument, settings),
            repairs=patient_repairs(session, patient, history, settings),
        )


def edit_patient(
    db: Database, code: str, details: PatientDetails, *, new_code: str | None = None
) -> PatientProfile:
    """Change the given fields; an empty text clears a field (the code cannot be cleared)."""
    with db.write("patient.edit") as session:
        patient = get_patient(session, code)
        if new_code is not None and new_code != code:
            taken = session.exec(
                select(Patient.id).where(Patient.code == new_code, mine(session))
            ).first()
            if taken is not None:
                raise Conflict(f"patient {new_code!r} already exists", "choose another code")
            patient.code = new_code
        for field in PROFILE_FIELDS:
            value = getattr(details, field)
            if value is not None:
                setattr(patient, field, value or None)
        if details.instrument is not None:
            patient.instrument = details.instrument
        if details.since is not None:
            earliest = session.exec(
                select(func.min(SessionRating.date)).where(SessionRating.patient_id == patient.id)
            ).one()
            earliest_date = _as_date(earliest)
            if earliest_date is not None and earliest_date < details.since:
                raise InvalidInput(
                    f"start of care {details.since.isoformat()} is after the first session "
                    f"({earliest_date.isoformat()})",
                    "choose an earlier --since",
                )
        session.add(patient)
        session.flush()
        return patient_profile(patient)


def discharge_patient(
    db: Database, code: str, when: date, reason: str | None, ending: str | None = None
) -> PatientProfile:
    """End care on `when`; `ending` says how (one of ENDINGS; the command requires it, a
    None is stored as not recorded and reads `unknown`)."""
    if ending is not None and ending not in ENDINGS:
        raise InvalidInput(f"ending {ending!r} must be one of {', '.join(ENDINGS)}")
    with db.write("patient.discharge") as session:
        patient = get_patient(session, code)
        if patient.status == PatientStatus.DISCHARGED:
            raise Conflict(
                f"patient {code!r} is already discharged",
                "use `alliance patient reactivate` to resume care",
            )
        if patient.since is not None and when < patient.since:
            raise InvalidInput(
                f"discharge date {when.isoformat()} is before the start of care "
                f"({patient.since.isoformat()})"
            )
        patient.status = PatientStatus.DISCHARGED
        patient.discharged_on = when
        patient.discharge_reason = reason
        patient.ending = ending
        session.add(patient)
        session.flush()
        return patient_profile(patient)


def reactivate_patient(db: Database, code: str) -> PatientProfile:
    with db.write("patient.reactivate") as session:
        patient = get_patient(session, code)
        if patient.status == PatientStatus.ACTIVE:
            raise Conflict(f"patient {code!r} is already active")
        patient.status = PatientStatus.ACTIVE
        patient.discharged_on = None
        patient.discharge_reason = None
        patient.ending = None
        session.add(patient)
        session.flush()
        return patient_profile(patient)


@dataclass(frozen=True)
class ErasedCounts:
    goals: int
    tasks: int
    sessions: int


def count_attached(db: Database, code: str) -> ErasedCounts:
    """What `delete_patient` would erase, for the confirmation prompt."""
    with db.read() as session:
        patient = get_patient(session, code)
        return _attached(session, patient)


def _attached(session: Session, patient: Patient) -> ErasedCounts:
    def count(model: type[Goal] | type[Task] | type[SessionRating]) -> int:
        return session.exec(
            select(func.count()).select_from(model).where(model.patient_id == patient.id)
        ).one()

    return ErasedCounts(goals=count(Goal), tasks=count(Task), sessions=count(SessionRating))


def delete_patient(db: Database, code: str) -> ErasedCounts:
    """Erase the patient and everything attached (right to erasure), in one transaction."""
    with db.write("patient.delete", undoable=False) as session:
        patient = get_patient(session, code)
        counts = _attached(session, patient)
        assert patient.id is not None
        recorder = recorder_of(session)
        if recorder is not None:
            # Written while the patient is in the caseload (a clinician's audit rows may
            # name only its own patients); anonymised below with the patient's others.
            recorder.note("patient", None, patient.id)
            write_entries(session, recorder)
        erase_patient_references(session, patient.id, patient.code)
        goal_ids = select(Goal.id).where(Goal.patient_id == patient.id)
        task_ids = select(Task.id).where(Task.patient_id == patient.id)
        # Explicit deletes, so erasure holds even where a database ignores ON DELETE.
        session.exec(delete(UndoStep).where(col(UndoStep.patient_id) == patient.id))
        session.exec(delete(TaskReview).where(col(TaskReview.task_id).in_(task_ids)))
        session.exec(delete(GoalReview).where(col(GoalReview.goal_id).in_(goal_ids)))
        session.exec(delete(Task).where(col(Task.patient_id) == patient.id))
        session.exec(delete(Goal).where(col(Goal.patient_id) == patient.id))
        session.exec(delete(SessionRating).where(col(SessionRating.patient_id) == patient.id))
        session.exec(delete(Repair).where(col(Repair.patient_id) == patient.id))
        session.exec(delete(Patient).where(col(Patient.id) == patient.id))
        return counts


def transfer_patient(db: Database, code: str, clinician: str) -> PatientProfile:
    """Hand a patient (and everything attached) over to another clinician's caseload."""
    with db.write("patient.transfer", undoable=False) as session:
        patient = get_patient(session, code)
        if clinician == patient.clinician:
            raise Conflict(f"{code} is already in {clinician}'s caseload")
        profile = patient_profile(patient)
        if db.engine.dialect.name == "postgresql":
            _transfer_on_server(session, patient, code, clinician)
            return profile
        taken = select(Patient.id).where(Patient.code == code, Patient.clinician == clinician)
        if session.exec(taken).first() is not None:
            raise Conflict(f"{clinician} already has a patient {code!r}", "rename one first")
        patient.clinician = clinician
        session.add(patient)
        session.flush()
        return profile


def _transfer_on_server(session: Session, patient: Patient, code: str, clinician: str) -> None:
    """Row-level security: only the owner's function may hand a row over (migration 0007).

    Its one refusal says nothing about another caseload (whether the role exists, is a
    clinician, already has this code), and neither does the message.
    """
    from sqlalchemy import text

    assert patient.id is not None
    recorder = recorder_of(session)
    if recorder is not None:  # named while the patient is still ours
        recorder.note("patient", patient.id, patient.id)
        write_entries(session, recorder)
    outcome = session.execute(
        text("SELECT alliance_transfer_patient(:pid, :target)"),
        {"pid": patient.id, "target": clinician},
    ).scalar_one()
    if outcome != "moved":
        raise Conflict(
            f"could not transfer {code!r} to {clinician!r}",
            "the receiving role must be a clinician's own login role (see `alliance admin "
            "roles`) with no patient of that code",
        )
    session.expunge(patient)
