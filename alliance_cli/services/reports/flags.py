"""Flags for one patient or the whole active caseload (one read transaction)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from alliance_cli.config import Settings
from alliance_cli.domain.flag_scan import LATEST, Selection, scan_patient
from alliance_cli.domain.flags import (
    Flag,
    current_flags,
    history_flags,
    in_care,
    select_current,
    up_to,
)
from alliance_cli.services.reports.caseload import stream_patients
from alliance_cli.store.engine import Database


def patient_flags(
    db: Database, code: str, settings: Settings, today: date, *, history: bool = False
) -> list[Flag]:
    """What needed attention on `today` for one patient, or (`history`) every flag raised
    by then: nothing dated later is used, so a past day's report can be made again."""
    from alliance_cli.services.reports.history import load_history  # the ORM: one patient
    from alliance_cli.store.queries import get_patient

    with db.read() as session:
        patient = get_patient(session, code)
        active = in_care(patient.status, patient.since, patient.discharged_on, today)
        past = replace(up_to(load_history(session, patient), today), active=active)
    if history:
        return history_flags(past, settings.rules)
    return current_flags(past, settings.rules, today)


def caseload_flags(
    db: Database,
    settings: Settings,
    today: date,
    *,
    history: bool = False,
    all_clinicians: bool = False,
) -> list[Flag]:
    """Flags of every patient in care on `today` (from what had happened by then), most
    severe first; each names its clinician."""
    flags: list[Flag] = []
    rules = settings.rules
    with db.read_rows() as session:  # plain SQL only: no ORM to import
        patients = stream_patients(
            session, active_only=True, all_clinicians=all_clinicians, as_of=today
        )
        for patient in patients:
            code = patient.meta.code
            if history:
                ratings = tuple(map(patient.materialise, patient.rows))
                found = history_flags(replace(patient.history, ratings=ratings), rules)
            else:
                scan = scan_patient(
                    code, patient.rows, rules, Selection(LATEST), patient.materialise
                )
                found = select_current(patient.history, scan, rules, today)
            if all_clinicians:
                found = [replace(flag, clinician=patient.meta.clinician) for flag in found]
            flags += found
    return sorted(flags, key=lambda flag: (flag.sort_key(), flag.clinician))
