"""`alliance prep`: the brief before the next session, and who needs one (read-only)."""

from __future__ import annotations

from datetime import date

from alliance_cli.config import Settings
from alliance_cli.domain.flag_groups import group_by_event
from alliance_cli.domain.prep import Brief, Waiting, build_brief
from alliance_cli.domain.trends import direction
from alliance_cli.domain.vocabulary import Severity
from alliance_cli.services.care.patients import show_patient
from alliance_cli.services.reports.flags import caseload_flags
from alliance_cli.store.engine import Database

RECENT_SETS = 20  # enough for each rater's last two sets and the latest note


def patient_brief(db: Database, code: str, settings: Settings, today: date) -> Brief:
    overview = show_patient(db, code, settings, today, recent=RECENT_SETS)
    trend = ""
    if overview.trend is not None:
        instrument = overview.trend.instrument
        low, high = instrument.dimension_range("total")
        rules = settings.rules.for_instrument(instrument.name)
        trend = direction(overview.trend.ratings, rules, high - low)
    return build_brief(overview, settings.suggestions, trend)


def patients_needing_prep(db: Database, settings: Settings, today: date) -> list[Waiting]:
    """Every active patient with a current alert, worst first (as `flags` orders them)."""
    events = group_by_event(caseload_flags(db, settings, today))
    found: dict[str, Waiting] = {}
    for event in events:
        if event.severity != Severity.ALERT:
            continue
        seen = found.get(event.patient)
        alerts = sum(f.severity == Severity.ALERT for f in event.flags)
        if seen is None:
            found[event.patient] = Waiting(event.patient, event, alerts)
        else:
            found[event.patient] = Waiting(seen.patient, seen.event, seen.alerts + alerts)
    return list(found.values())
