"""Stream a whole caseload through the flag engine, one patient at a time.

One ordered read of the covering series index (no ORM objects, no sort), grouped by
patient in Python: memory stays at one patient's ratings, time grows linearly with the
number of ratings.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from alliance_cli.clinician import caseload_condition
from alliance_cli.domain.flag_model import Report, Review
from alliance_cli.domain.flags import History, Rating, in_care, rows_up_to
from alliance_cli.domain.vocabulary import PatientStatus
from alliance_cli.store.engine import clinician_of
from alliance_cli.store.raw_sql import cursor, placeholder, sql_day

if TYPE_CHECKING:
    from alliance_cli.store.raw_sql import Reader

# Columns in Rating's layout, then the patient; read in the covering index's order.
SERIES_SQL = (
    "SELECT date, rater, instrument, bond, goal, task, total, patient_id "
    "FROM session_rating ORDER BY patient_id, rater, date"
)
# The same for some patients only (another clinician's share a file, or discharged ones
# are left out): SQLite still walks the index, but skips their rows before Python sees
# them. CROSS JOIN makes SQLite keep session_rating outermost: led by patient instead, it
# would sort every chosen row before returning the first. {where} is built from constant
# conditions; the one value is a bound parameter.
SOME_SERIES_SQL = (
    "SELECT r.date, r.rater, r.instrument, r.bond, r.goal, r.task, r.total, r.patient_id "
    "FROM session_rating AS r CROSS JOIN patient AS p WHERE p.id = r.patient_id AND {where} "
    "ORDER BY r.patient_id, r.rater, r.date"
)
PATIENTS_SQL = (
    "SELECT id, code, name, status, since, instrument, clinician, discharged_on, ending "
    "FROM patient"
)
# The few rating sets that answered the rupture question (a partial index, schema 0008).
REPORTS_SQL = (
    "SELECT patient_id, date, rater, rupture FROM session_rating WHERE rupture IS NOT NULL"
)
REVIEWS_SQL = (
    "SELECT task.patient_id, task_review.date, task_review.adherence "
    "FROM task_review JOIN task ON task.id = task_review.task_id"
)


@dataclass(frozen=True)
class PatientMeta:
    id: int
    code: str
    name: str | None
    status: str
    since: date | None
    instrument: str
    clinician: str
    discharged_on: date | None = None
    ending: str | None = None  # how care ended, as stored (schema 0009)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _maybe_day(value: Any) -> date | None:
    return None if value is None else _day(value)


class _Days(dict[Any, date]):
    """Dates as the driver gives them (text on SQLite) -> date, each converted once."""

    def __missing__(self, value: Any) -> date:
        found = self[value] = _day(value)
        return found


def _series(
    session: Reader, *, active_only: bool, clinician: str | None, as_of: date | None = None
) -> Any:
    """The rating rows of the chosen patients (and maybe a few more: the caller filters
    again), in patient, rater, date order; with `as_of`, `active` means in care on that
    day. Later ratings are left to the caller: in SQL, a damaged date would be left out
    unseen, where parsing it fails loudly."""
    mark = placeholder(session)
    conditions: list[str] = []
    parameters: list[Any] = []
    if active_only and as_of is None:
        conditions.append("p.status = 'active'")
    elif active_only and as_of is not None and mark is not None:  # discharged later: in care
        conditions.append(f"(p.status = 'active' OR p.discharged_on > {mark})")
        parameters.append(sql_day(session, as_of))
    if clinician is not None and mark is not None:
        conditions.append(caseload_condition(mark, table="p"))
        parameters.append(clinician)
    if not conditions:
        return cursor(session, SERIES_SQL)
    sql = SOME_SERIES_SQL.format(where=" AND ".join(conditions))
    return cursor(session, sql, tuple(parameters))


def patients(session: Reader) -> dict[int, PatientMeta]:
    return {
        pid: PatientMeta(
            pid,
            code,
            name,
            status,
            _maybe_day(since),
            instrument,
            clinician,
            _maybe_day(left),
            ending,
        )
        for pid, code, name, status, since, instrument, clinician, left, ending in cursor(
            session, PATIENTS_SQL
        ).fetchall()
    }


def reviews(session: Reader, as_of: date | None = None) -> dict[int, list[Review]]:
    """Task reviews (date, adherence) by patient id; with `as_of`, none dated after it."""
    found: dict[int, list[Review]] = defaultdict(list)
    for pid, when, adherence in cursor(session, REVIEWS_SQL).fetchall():
        day = _day(when)
        if as_of is None or day <= as_of:
            found[pid].append((day, adherence))
    return found


def reports(session: Reader, as_of: date | None = None) -> dict[int, list[Report]]:
    """Reported ruptures (date, rater, marker) by patient id; with `as_of`, none after it."""
    found: dict[int, list[Report]] = defaultdict(list)
    for pid, when, rater, marker in cursor(session, REPORTS_SQL).fetchall():
        day = _day(when)
        if as_of is None or day <= as_of:
            found[pid].append((day, rater, marker))
    return found


@dataclass(frozen=True)
class Streamed:
    """One patient of a streamed caseload: rows in Rating layout (dates still as the
    driver gave them) and the function that turns the few rows that matter into Ratings."""

    meta: PatientMeta
    history: History  # reviews, status, start of care; ratings left empty
    rows: list[tuple[Any, ...]]
    materialise: Callable[[Sequence[Any]], Rating]


def stream_patients(
    session: Reader,
    *,
    active_only: bool = True,
    all_clinicians: bool = False,
    as_of: date | None = None,
) -> Iterator[Streamed]:
    """Every (active) patient of the current clinician (or of every clinician the
    database lets us see), in id order, patients without ratings included.

    With `as_of`, the caseload as it stood at the end of that day: ratings and task
    reviews dated after it are left out, and active means in care on that day (started
    by then, discharged later or not at all); still one ordered read.
    """
    metas = patients(session)
    by_patient = reviews(session, as_of)
    reported = reports(session, as_of)
    me = clinician_of(session)

    def active(m: PatientMeta) -> bool:
        if as_of is None:
            return m.status == PatientStatus.ACTIVE
        return in_care(m.status, m.since, m.discharged_on, as_of)

    chosen = {
        pid: m
        for pid, m in metas.items()
        if (not active_only or active(m)) and (all_clinicians or m.clinician == me)
    }
    days = _Days()  # a caseload has a few hundred distinct dates, not a million

    def materialise(row: Sequence[Any]) -> Rating:
        return Rating(days[row[0]], row[1], row[2], row[3], row[4], row[5], row[6])

    seen: set[int] = set()
    if len(chosen) == len(metas):  # one clinician, no one discharged: nothing to skip
        found = cursor(session, SERIES_SQL)
    else:
        clinician = None if all_clinicians else me
        found = _series(session, active_only=active_only, clinician=clinician, as_of=as_of)
    found.arraysize = 5000
    rows = itertools.chain.from_iterable(iter(lambda: found.fetchmany(), []))
    for pid, group in itertools.groupby(rows, key=itemgetter(7)):
        meta = chosen.get(pid)
        if meta is None:
            continue
        seen.add(pid)
        history = _history(meta, by_patient.get(pid, []), as_of, reported.get(pid, []))
        listed: list[tuple[Any, ...]] = list(group)
        if as_of is not None:  # later ratings left out here (see _series)
            kept = rows_up_to(listed, as_of)
            listed = listed if kept is listed else [tuple(row) for row in kept]
        yield Streamed(meta, history, listed, materialise)
    for pid in sorted(set(chosen) - seen):
        meta = chosen[pid]
        history = _history(meta, by_patient.get(pid, []), as_of, reported.get(pid, []))
        yield Streamed(meta, history, [], materialise)


def _history(
    meta: PatientMeta,
    found: list[Review],
    as_of: date | None,
    reported: list[Report],
) -> History:
    return History(
        patient=meta.code,
        ratings=(),
        reviews=tuple(found),
        active=meta.status == PatientStatus.ACTIVE
        if as_of is None
        else in_care(meta.status, meta.since, meta.discharged_on, as_of),
        since=meta.since,
        reports=tuple(reported),
    )
