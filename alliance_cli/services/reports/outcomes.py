"""`alliance outcomes`: stream the discharged patients of a period into the tallies.

One read transaction, one ordered pass over the rating series (as `flags` does), so
10,000 discharged patients with 100 sessions each never sit in memory at once: per
patient only its own totals, as % of its instrument's range, and its rupture count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session

from alliance_cli.config import Settings
from alliance_cli.domain.flag_scan import RUPTURES, Selection, scan_patient
from alliance_cli.domain.gas import GasGoal, gas_t_score
from alliance_cli.domain.outcomes import (
    EARLY,
    UNKNOWN,
    Course,
    Outcomes,
    OutcomeTally,
    share_of_range,
)
from alliance_cli.domain.vocabulary import FlagKind, PatientStatus, Rater
from alliance_cli.services.care.patients import total_range
from alliance_cli.services.reports.caseload import Streamed, _cursor, stream_patients
from alliance_cli.store.engine import Database

# Every goal of a discharged patient with its latest GAS level (None when never rated).
GAS_SQL = (
    "SELECT g.patient_id, g.id, g.baseline, g.weight, r.gas, r.date, r.id "
    "FROM goal AS g JOIN patient AS p ON p.id = g.patient_id "
    "LEFT JOIN goal_review AS r ON r.goal_id = g.id AND r.gas IS NOT NULL "
    "WHERE p.status = 'discharged' ORDER BY g.patient_id, g.id, r.date, r.id"
)


def _gas_scores(session: Session) -> dict[int, float]:
    """The GAS T at discharge of each discharged patient with at least one GAS review:
    over each goal's latest level (the rows come in date order: the last one wins)."""
    latest: dict[int, dict[int, GasGoal]] = defaultdict(dict)
    for pid, goal_id, baseline, weight, level, _, _ in _cursor(session, GAS_SQL).fetchall():
        if level is not None:
            latest[pid][goal_id] = GasGoal(int(level), float(weight), int(baseline))
    found = {}
    for pid, goals in latest.items():
        score = gas_t_score(list(goals.values()))
        if score is not None:
            found[pid] = score
    return found


def _in_period(discharged: date | None, since: date | None, until: date | None) -> bool:
    if discharged is None:
        return False
    return (since is None or discharged >= since) and (until is None or discharged <= until)


def _course(patient: Streamed, settings: Settings, ending: str, gas_t: float | None) -> Course:
    """The patient's own first and last 3 totals (all the figures use) as % of scale,
    and its ruptures (every rater) with how many were repaired."""
    rows = patient.rows  # ordered by rater ("patient" < "therapist"), then date
    own = len(rows)
    while own and rows[own - 1][1] != Rater.PATIENT:
        own -= 1
    totals = []
    for row in rows[:EARLY] + rows[max(EARLY, own - EARLY) : own]:
        scale = total_range(settings, row[2])
        if scale is not None and scale[1] > scale[0]:
            totals.append(share_of_range(float(row[6]), *scale))
    scan = scan_patient(
        patient.meta.code, rows, settings.rules, Selection(RUPTURES), patient.materialise
    )
    ruptures = [f for f in scan.flags if f.kind == FlagKind.RUPTURE]
    return Course(
        patient=patient.meta.code,
        ending=ending,
        totals=tuple(totals),
        ruptures=len(ruptures),
        repaired=sum(f.repaired_on is not None for f in ruptures),
        gas_t=gas_t,
        clinician=patient.meta.clinician,
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
    with db.read() as session:
        gas = _gas_scores(session)
        for patient in stream_patients(session, active_only=False, all_clinicians=all_clinicians):
            meta = patient.meta
            if meta.status != PatientStatus.DISCHARGED or not _in_period(
                meta.discharged_on, since, until
            ):
                continue
            course = _course(patient, settings, meta.ending or UNKNOWN, gas.get(meta.id))
            clinic.add(course)
            if all_clinicians:
                per.setdefault(meta.clinician, OutcomeTally(meta.clinician)).add(course)
    clinicians = [per[name].result() for name in sorted(per)] if all_clinicians else []
    return clinic.result(), clinicians
