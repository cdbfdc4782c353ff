"""`alliance` typed alone: the caseload's current flags and a few counts, read once each."""

from __future__ import annotations

from datetime import date, timedelta

from alliance_cli.config import Settings
from alliance_cli.domain.glance import Glance, caseload_glance
from alliance_cli.services.reports.caseload import stream_patients
from alliance_cli.services.reports.flags import caseload_flags
from alliance_cli.store.engine import Database

WEEK = timedelta(days=6)  # the 7 days up to and including today


def glance(db: Database, settings: Settings, today: date) -> Glance:
    """Patients in care on `today`, how many were seen in the last 7 days, and who needs
    attention (the same flags as `alliance flags`)."""
    flags = caseload_flags(db, settings, today)
    in_care = seen = 0
    with db.read() as session:
        for patient in stream_patients(session, active_only=True, as_of=today):
            in_care += 1
            dates = (patient.materialise(row).date for row in patient.rows)
            seen += any(today - WEEK <= day <= today for day in dates)
    return caseload_glance(flags, as_of=today, in_care=in_care, seen=seen)
