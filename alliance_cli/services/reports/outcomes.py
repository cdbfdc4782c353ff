"""`alliance outcomes`: the discharged patients of a period, summed into the tallies.

One read transaction. The rating series come from the database one aggregated row each
(`store/series_totals`: totals only, in date order), so 10,000 discharged patients with
100 sessions each never cost a million Python rows; per patient the figures keep only its
first and last totals, as % of its instrument's range, and its rupture counts.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from contextlib import closing
from datetime import date
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING

from alliance_cli.config import Settings
from alliance_cli.domain.flag_scan import falls
from alliance_cli.domain.gas import GasGoal, gas_t_score
from alliance_cli.domain.outcomes import (
    EARLY,
    UNKNOWN,
    Course,
    Outcomes,
    OutcomeTally,
    share_of_range,
)
from alliance_cli.domain.vocabulary import PatientStatus, Rater
from alliance_cli.services.reports.caseload import PatientMeta, patients
from alliance_cli.store.engine import Database, clinician_of
from alliance_cli.store.raw_sql import cursor
from alliance_cli.store.series_totals import SeriesTotals, series_totals

if TYPE_CHECKING:
    from alliance_cli.store.raw_sql import Reader

# The latest GAS level (by date, then id) of every rated goal of a discharged patient.
GAS_SQL = (
    "SELECT g.patient_id, g.baseline, g.weight, r.gas "
    "FROM goal_review AS r JOIN goal AS g ON g.id = r.goal_id "
    "JOIN patient AS p ON p.id = g.patient_id "
    "WHERE r.gas IS NOT NULL AND p.status = 'discharged' AND NOT EXISTS ("
    "SELECT 1 FROM goal_review AS later WHERE later.goal_id = r.goal_id "
    "AND later.gas IS NOT NULL AND (later.date > r.date OR "
    "(later.date = r.date AND later.id > r.id))) "
    "ORDER BY g.patient_id, g.id"
)


def _gas_scores(session: Reader) -> dict[int, float]:
    """The GAS T at discharge of each discharged patient with at least one GAS review:
    over each goal's latest level."""
    found = {}
    rows = cursor(session, GAS_SQL).fetchall()
    for pid, goals in itertools.groupby(rows, key=itemgetter(0)):
        score = gas_t_score(
            [
                GasGoal(int(level), float(weight), int(baseline))
                for _, baseline, weight, level in goals
            ]
        )
        if score is not None:
            found[pid] = score
    return found


def _in_period(discharged: date | None, since: date | None, until: date | None) -> bool:
    if discharged is None:
        return False
    return (since is None or discharged >= since) and (until is None or discharged <= until)


class _Scales(dict[str, tuple[float, float] | None]):
    """Each instrument's total range (None: unknown or empty), looked up once."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def __missing__(self, instrument: str) -> tuple[float, float] | None:
        scale = self.settings.total_range(instrument)
        found = self[instrument] = scale if scale is not None and scale[1] > scale[0] else None
        return found


def _ends(series: SeriesTotals, scales: _Scales) -> tuple[float, ...]:
    """The first 3 and the last 3 totals (no session twice: all the figures use) as % of
    their instrument's range; a total of an unknown instrument is left out."""
    count = len(series.totals)
    picked = itertools.chain(range(min(EARLY, count)), range(max(EARLY, count - EARLY), count))
    if series.instrument is not None:  # the usual case: one scale for all
        scale = scales[series.instrument]
        if scale is None:
            return ()
        low, high = scale
        return tuple(share_of_range(series.totals[i], low, high) for i in picked)
    found = []
    for i in picked:
        scale = scales[series.instrument_at(i)]
        if scale is not None:
            found.append(share_of_range(series.totals[i], *scale))
    return tuple(found)


def _course(
    meta: PatientMeta,
    series: Sequence[SeriesTotals],
    settings: Settings,
    scales: _Scales,
    gas_t: float | None,
) -> Course:
    """The patient's own (patient-rated) first and last totals, and its ruptures (every
    rater's series, each instrument apart) with how many were repaired."""
    ruptures = repaired = 0
    totals: tuple[float, ...] = ()
    for one in series:
        for instrument, values in one.by_instrument():
            for fall in falls(values, settings.rules.for_instrument(instrument)):
                ruptures += 1
                repaired += fall.repaired_at is not None
        if one.rater == Rater.PATIENT:
            totals = _ends(one, scales)
    return Course(
        patient=meta.code,
        ending=meta.ending or UNKNOWN,
        totals=totals,
        ruptures=ruptures,
        repaired=repaired,
        gas_t=gas_t,
        clinician=meta.clinician,
    )


def caseload_outcomes(
    db: Database,
    settings: Settings,
    since: date | None,
    until: date | None,
    *,
    all_clinicians: bool = False,
) -> tuple[Outcomes, list[Outcomes]]:
    """The clinic's figures (one clinician's without `all_clinicians`) over the patients
    discharged from `since` to `until` (either open), and with `all_clinicians` each
    clinician's, by name."""
    clinic = OutcomeTally()
    per: dict[str, OutcomeTally] = {}
    scales = _Scales(settings)

    def add(meta: PatientMeta, series: Sequence[SeriesTotals]) -> None:
        course = _course(meta, series, settings, scales, gas.get(meta.id))
        clinic.add(course)
        if all_clinicians:
            per.setdefault(meta.clinician, OutcomeTally(meta.clinician)).add(course)

    with db.read_rows() as session:  # plain SQL only: no ORM to import
        me = None if all_clinicians else clinician_of(session)
        metas = patients(session)
        ours = {
            pid: meta
            for pid, meta in metas.items()
            if meta.status == PatientStatus.DISCHARGED and (me is None or meta.clinician == me)
        }
        chosen = {
            pid: meta for pid, meta in ours.items() if _in_period(meta.discharged_on, since, until)
        }
        gas = _gas_scores(session)
        if len(ours) == len(metas):  # nobody to leave out: no join
            found = series_totals(session)
        else:
            found = series_totals(session, status=PatientStatus.DISCHARGED, clinician=me)
        with closing(found):  # on an error too: the read-ahead thread stops before the end
            for pid, group in itertools.groupby(found, key=attrgetter("patient_id")):
                meta = chosen.pop(pid, None)
                if meta is not None:
                    add(meta, list(group))
        for pid in sorted(chosen):  # discharged without a single rating
            add(chosen[pid], [])
    clinicians = [per[name].result() for name in sorted(per)] if all_clinicians else []
    return clinic.result(), clinicians
