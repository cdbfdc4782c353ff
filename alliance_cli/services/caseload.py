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
from typing import Any

from sqlmodel import Session

from alliance_cli.domain.flags import History, Rating
from alliance_cli.store.queries import clinician_of

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
PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}  # DB-API paramstyles
PATIENTS_SQL = "SELECT id, code, name, status, since, instrument, clinician FROM patient"
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


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


class _Days(dict[Any, date]):
    """Dates as the driver gives them (text on SQLite) -> date, each converted once."""

    def __missing__(self, value: Any) -> date:
        found = self[value] = _day(value)
        return found


def _cursor(session: Session, sql: str, parameters: tuple[Any, ...] = ()) -> Any:
    """A plain DB-API cursor: for a million rows, Row objects would cost seconds."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    cursor.execute(sql, parameters)
    return cursor


def _series(session: Session, *, active_only: bool, clinician: str | None) -> Any:
    """The rating rows of the chosen patients (and maybe a few more: the caller filters
    again), in patient, rater, date order."""
    mark = PLACEHOLDERS.get(session.get_bind().dialect.paramstyle)
    conditions = ["p.status = 'active'"] if active_only else []
    parameters: tuple[str, ...] = ()
    if clinician is not None and mark is not None:
        conditions.append(f"p.clinician = {mark}")
        parameters = (clinician,)
    if not conditions:
        return _cursor(session, SERIES_SQL)
    return _cursor(session, SOME_SERIES_SQL.format(where=" AND ".join(conditions)), parameters)


def patients(session: Session) -> dict[int, PatientMeta]:
    return {
        pid: PatientMeta(
            pid, code, name, status, None if since is None else _day(since), instrument, clinician
        )
        for pid, code, name, status, since, instrument, clinician in _cursor(
            session, PATIENTS_SQL
        ).fetchall()
    }


def reviews(session: Session) -> dict[int, list[tuple[date, str]]]:
    found: dict[int, list[tuple[date, str]]] = defaultdict(list)
    for pid, when, adherence in _cursor(session, REVIEWS_SQL).fetchall():
        found[pid].append((_day(when), adherence))
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
    session: Session, *, active_only: bool = True, all_clinicians: bool = False
) -> Iterator[Streamed]:
    """Every (active) patient of the current clinician (or of every clinician the
    database lets us see), in id order, patients without ratings included."""
    metas = patients(session)
    by_patient = reviews(session)
    me = clinician_of(session)
    chosen = {
        pid: m
        for pid, m in metas.items()
        if (m.status == "active" or not active_only) and (all_clinicians or m.clinician == me)
    }
    days = _Days()  # a caseload has a few hundred distinct dates, not a million

    def materialise(row: Sequence[Any]) -> Rating:
        return Rating(days[row[0]], row[1], row[2], row[3], row[4], row[5], row[6])

    seen: set[int] = set()
    if len(chosen) == len(metas):  # one clinician, no one discharged: nothing to skip
        cursor = _cursor(session, SERIES_SQL)
    else:
        clinician = None if all_clinicians else me
        cursor = _series(session, active_only=active_only, clinician=clinician)
    cursor.arraysize = 5000
    rows = itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(), []))
    for pid, group in itertools.groupby(rows, key=itemgetter(7)):
        meta = chosen.get(pid)
        if meta is None:
            continue
        seen.add(pid)
        yield Streamed(meta, _history(meta, by_patient.get(pid, [])), list(group), materialise)
    for pid in sorted(set(chosen) - seen):
        meta = chosen[pid]
        yield Streamed(meta, _history(meta, by_patient.get(pid, [])), [], materialise)


def _history(meta: PatientMeta, found: list[tuple[date, str]]) -> History:
    return History(
        patient=meta.code,
        ratings=(),
        reviews=tuple(found),
        active=meta.status == "active",
        since=meta.since,
    )
