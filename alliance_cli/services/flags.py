"""Flags for one patient or the whole active caseload (one read transaction)."""

from __future__ import annotations

from datetime import date

from alliance_cli.config import Settings
from alliance_cli.domain.flags import Flag, current_flags, history_flags
from alliance_cli.services.caseload import stream_histories
from alliance_cli.services.history import load_history
from alliance_cli.store.engine import Database
from alliance_cli.store.queries import get_patient


def patient_flags(
    db: Database, code: str, settings: Settings, today: date, *, history: bool = False
) -> list[Flag]:
    """What needs attention now for one patient, or (`history`) every flag ever raised."""
    with db.read() as session:
        patient = get_patient(session, code)
        past = load_history(session, patient)
    if history:
        return history_flags(past, settings.rules)
    return current_flags(past, settings.rules, today)


def caseload_flags(
    db: Database, settings: Settings, today: date, *, history: bool = False
) -> list[Flag]:
    """Flags of every active patient, most severe first."""
    flags: list[Flag] = []
    with db.read() as session:
        for _meta, past in stream_histories(session, active_only=True):
            if history:
                flags += history_flags(past, settings.rules)
            else:
                flags += current_flags(past, settings.rules, today)
    return sorted(flags, key=Flag.sort_key)
