"""The data behind `alliance trend` and the dashboard chart: one rater's series with the
patient's current instrument, its cut-off and the sessions that raised flags."""

from __future__ import annotations

from alliance_cli.config import Settings
from alliance_cli.domain.flags import History, history_flags
from alliance_cli.domain.trends import TrendData
from alliance_cli.domain.vocabulary import BOTH, FlagKind, Rater
from alliance_cli.services.reports.history import load_history
from alliance_cli.store.engine import Database
from alliance_cli.store.queries import get_patient


def trend_data(
    db: Database,
    code: str,
    settings: Settings,
    *,
    rater: Rater = Rater.PATIENT,
    last: int | None = None,
) -> TrendData:
    with db.read() as session:
        patient = get_patient(session, code)
        history = load_history(session, patient)
    return trend_from(history, patient.instrument, settings, rater=rater, last=last)


def trend_from(
    history: History,
    instrument_name: str,
    settings: Settings,
    *,
    rater: Rater = Rater.PATIENT,
    last: int | None = None,
) -> TrendData:
    """One rater's series with the patient's current instrument (never mixed)."""
    instrument = settings.instrument(instrument_name)
    own = sorted(
        (r for r in history.ratings if r.rater == rater and r.instrument == instrument.name),
        key=lambda r: r.date,
    )
    others = sorted({r.instrument for r in history.ratings if r.rater == rater} - {instrument.name})
    shown = tuple(own[-last:] if last else own)
    shown_dates = {r.date for r in shown}
    raised = tuple(
        f
        for f in history_flags(history, settings.rules)
        if f.date in shown_dates and f.rater in (rater, BOTH) and f.kind != FlagKind.TASKS_MISSED
    )
    rules = settings.rules.for_instrument(instrument.name)
    return TrendData(
        patient=history.patient,
        instrument=instrument,
        rater=rater,
        ratings=shown,
        flags=raised,
        cutoff_total=rules.low_total,
        cutoff_dimension=rules.low_dimension,
        other_instruments=tuple(others),
    )
