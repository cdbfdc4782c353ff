"""Repair attempts: recorded with the flag they answer, followed up by the next sessions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.dates import check_care_date
from alliance_cli.domain.flags import History, current_flags, up_to
from alliance_cli.domain.repairs import FlagLink, RepairRecord, flag_to_answer, repair_outcome
from alliance_cli.domain.rules import RuleSet
from alliance_cli.domain.summary import Period
from alliance_cli.errors import InvalidInput
from alliance_cli.services.reports.history import load_history
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Patient, Repair
from alliance_cli.store.queries import get_patient


def _link(row: Repair) -> FlagLink | None:
    if row.flag_kind is None or row.flag_date is None:
        return None
    return FlagLink(
        row.flag_kind, row.flag_dimension, row.flag_date, row.flag_rater, row.flag_instrument
    )


def answering_repair(
    patient_id: int, history: History, rules: RuleSet, on: date, strategy: str, note: str | None
) -> Repair:
    """A repair attempt on `on`, linked to the flag it answers: the rupture, drop or low
    flag current that day (`flag_to_answer`), if any."""
    link = flag_to_answer(current_flags(history, rules, on))
    return Repair(
        patient_id=patient_id,
        date=on,
        strategy=strategy,
        note=note,
        flag_kind=link.kind if link else None,
        flag_dimension=link.dimension if link else None,
        flag_date=link.date if link else None,
        flag_rater=link.rater if link else None,
        flag_instrument=link.instrument if link else None,
    )


def repair_record(row: Repair, code: str, history: History, settings: Settings) -> RepairRecord:
    """The stored attempt with its outcome, judged from the patient's ratings."""
    assert row.id is not None
    link = _link(row)
    rules = settings.rules.for_instrument(link.instrument or "") if link else None
    outcome = None if rules is None else repair_outcome(link, row.date, history.ratings, rules)
    return RepairRecord(
        id=row.id,
        patient=code,
        date=row.date,
        strategy=row.strategy,
        note=row.note,
        flag=link,
        outcome=outcome,
    )


def stored_repairs(session: Session, patient_ids: Iterable[int]) -> list[Repair]:
    """The repairs of these patients, by patient, date and id."""
    ids = list(patient_ids)
    if not ids:
        return []
    query = (
        select(Repair)
        .where(col(Repair.patient_id).in_(ids))
        .order_by(col(Repair.patient_id), col(Repair.date), col(Repair.id))
    )
    return list(session.exec(query).all())


def patient_repairs(
    session: Session, patient: Patient, history: History, settings: Settings
) -> tuple[RepairRecord, ...]:
    assert patient.id is not None
    return tuple(
        repair_record(r, patient.code, history, settings)
        for r in stored_repairs(session, [patient.id])
    )


def _check_strategy(strategy: str, settings: Settings) -> None:
    if strategy not in settings.repair_strategies:
        raise InvalidInput(
            f"unknown repair strategy {strategy!r}",
            f"choose one of {', '.join(settings.repair_strategies)}",
        )


def _check_date(patient: Patient, on: date, today: date) -> None:
    """The rules of session dates: not in the future, not before care, not after discharge."""
    check_care_date(on, today, patient.since, what="repair date")
    if patient.discharged_on is not None and on > patient.discharged_on:
        raise InvalidInput(
            f"{patient.code} was discharged on {patient.discharged_on.isoformat()}",
            "use `alliance patient reactivate` to resume care",
        )


def add_repair(
    db: Database,
    code: str,
    *,
    on: date,
    strategy: str,
    note: str | None,
    settings: Settings,
    today: date,
) -> RepairRecord:
    """Store a repair attempt made on `on`, linked to the rupture, drop or low flag that
    was current that day (the most severe, latest), if any."""
    _check_strategy(strategy, settings)
    with db.write("repair.add") as session:
        patient = get_patient(session, code)
        assert patient.id is not None
        _check_date(patient, on, today)
        history = load_history(session, patient)
        row = answering_repair(patient.id, history, settings.rules, on, strategy, note)
        session.add(row)
        session.flush()
        return repair_record(row, code, history, settings)


def list_repairs(db: Database, code: str, settings: Settings) -> list[RepairRecord]:
    """A patient's repair attempts, oldest first, each with its outcome so far."""
    with db.read() as session:
        patient = get_patient(session, code)
        return list(patient_repairs(session, patient, load_history(session, patient), settings))


def period_repairs(
    session: Session, settings: Settings, period: Period, scope: list[Any], *, labelled: bool
) -> tuple[RepairRecord, ...]:
    """The repair attempts dated in `period` (a summary's), each judged from the sessions
    up to its end; `scope` limits the patients (the caller's caseload), `labelled` names
    each as `clinician/code` (a clinic-wide summary)."""
    query = (
        select(Repair, Patient)
        .join(Patient, col(Patient.id) == Repair.patient_id)
        .where(col(Repair.date) >= period.since, col(Repair.date) <= period.until, *scope)
        .order_by(col(Patient.code), col(Repair.date), col(Repair.id))
    )
    found = []
    histories: dict[int, History] = {}
    for row, patient in session.exec(query).all():
        assert patient.id is not None
        if patient.id not in histories:
            histories[patient.id] = up_to(load_history(session, patient), period.until)
        code = f"{patient.clinician}/{patient.code}" if labelled else patient.code
        found.append(repair_record(row, code, histories[patient.id], settings))
    return tuple(found)
