"""Each rating series of a caseload as one row of totals, put together by the database.

`alliance outcomes` needs only a series' totals in date order (its ruptures, its first
and last sessions), never the rest of a rating set. Fetching a million rating rows into
Python costs seconds; one aggregated row per (patient, rater) costs a fraction of that,
because the database walks its covering series index in order and concatenates.

On SQLite the caseload comes in chunks of patient ids, each chunk one row (a JSON
array of its series): while Python parses and scans one chunk, a second thread has
SQLite make the next (store/read_ahead), so the two halves of the work share two cores.

The order inside an aggregate is the one guarantee this needs. PostgreSQL states it
(`array_agg(... ORDER BY date)`). SQLite before 3.44 has no ORDER BY inside an
aggregate: `group_concat` sees rows in the order the query loop delivers them, which is
the index's order when the plan walks `ix_session_rating_series` with no temporary
B-tree. The plan is checked on every call, and any other plan (or database) falls back to
ordered rows grouped here: slower, never wrong.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from alliance_cli.clinician import caseload_condition
from alliance_cli.errors import StorageError
from alliance_cli.store.raw_sql import connection, cursor, dialect, placeholder
from alliance_cli.store.read_ahead import read_ahead

if TYPE_CHECKING:
    from alliance_cli.store.raw_sql import Reader

# {join} picks the patients (CROSS JOIN keeps session_rating outermost, in index order);
# {where} is built from constant conditions, the clinician a bound parameter.
# One chunk of patients (an id range) as one row: a JSON array of its series, each
# [patient_id, rater, lowest and highest instrument, count, totals joined by commas].
# One row, so one SQLite step: read_ahead's thread holds the GIL once per chunk.
SQLITE_SQL = (
    "SELECT json_group_array(json_array(pid, rater, low, high, n, totals)) FROM ("
    "SELECT r.patient_id AS pid, r.rater AS rater, min(r.instrument) AS low, "
    "max(r.instrument) AS high, count(*) AS n, group_concat(r.total) AS totals "
    "FROM session_rating AS r{join} GROUP BY r.patient_id, r.rater "
    "ORDER BY r.patient_id, r.rater)"
)
IDS_SQL = "SELECT id FROM patient ORDER BY id"
CHUNK = 500  # patients per chunk: ~50,000 totals at 100 sessions a patient
LOWEST, HIGHEST = -(2**63), 2**63 - 1  # SQLite's integer range: the chunks cover it all
POSTGRES_SQL = (
    "SELECT r.patient_id, r.rater, min(r.instrument), max(r.instrument), "
    "array_agg(r.total ORDER BY r.date), "
    "CASE WHEN min(r.instrument) <> max(r.instrument) "
    "THEN array_agg(r.instrument ORDER BY r.date) END "
    "FROM session_rating AS r{join} GROUP BY r.patient_id, r.rater ORDER BY r.patient_id, r.rater"
)
ROWS_SQL = (
    "SELECT r.patient_id, r.rater, r.instrument, r.total FROM session_rating AS r{join} "
    "ORDER BY r.patient_id, r.rater, r.date"
)
SERIES_INDEX = re.compile(r"\bix_session_rating_series\b")  # the index of migration 0003
JOIN_SQL = " CROSS JOIN patient AS p WHERE p.id = r.patient_id AND {where}"
# SQLite: the instruments of a series that changed instrument (rare: an aggregate of
# every series' instrument names would cost more than all of these together). Same
# snapshot as the totals: a SQLite read transaction keeps one from its first read. A
# server (READ COMMITTED: a snapshot per statement) aggregates them in the same statement.
INSTRUMENTS_SQL = (
    "SELECT instrument FROM session_rating WHERE patient_id = ? AND rater = ? ORDER BY date"
)


@dataclass(frozen=True)
class SeriesTotals:
    """One rater's totals for one patient, in date order, with each session's instrument
    (`instrument` when the whole series used one)."""

    patient_id: int
    rater: str
    totals: list[float]
    instrument: str | None  # None: the series changed instrument, see `instruments`
    instruments: list[str] | None = None

    def instrument_at(self, index: int) -> str:
        if self.instrument is not None:
            return self.instrument
        assert self.instruments is not None
        return self.instruments[index]

    def by_instrument(self) -> list[tuple[str, list[float]]]:
        """The totals split into one series per instrument (by name), each in date order:
        a total is only comparable with totals of its own instrument."""
        if self.instrument is not None:
            return [(self.instrument, self.totals)]
        assert self.instruments is not None
        split: dict[str, list[float]] = {}
        for name, total in zip(self.instruments, self.totals, strict=True):
            split.setdefault(name, []).append(total)
        return sorted(split.items())


def series_totals(
    session: Reader,
    *,
    status: str | None = None,
    clinician: str | None = None,
    in_database: bool = True,
) -> Generator[SeriesTotals, None, None]:
    """Every rating series of the patients with `status` (any when None) in `clinician`'s
    caseload (every one the database lets us see when None), by patient id, then rater;
    with a driver whose placeholder is unknown, every patient's (the caller filters).

    `in_database=False` groups ordered rows here instead (what any plan but the checked
    one gets; tests compare the two).
    """
    conditions: list[str] = []
    parameters: list[Any] = []
    mark = placeholder(session)  # None (a driver we do not know): every patient's series
    if status is not None and mark is not None:
        conditions.append(f"p.status = {mark}")
        parameters.append(status)
    if clinician is not None and mark is not None:
        conditions.append(caseload_condition(mark, table="p"))
        parameters.append(clinician)
    join = JOIN_SQL.format(where=" AND ".join(conditions)) if conditions else ""
    kind = dialect(session) if in_database else "rows"
    if kind == "sqlite":
        chunked = _from_chunks(session, conditions, parameters)
        if chunked is not None:
            yield from chunked
            return
    if kind == "postgresql":
        for pid, rater, low, high, values, names in cursor(
            session, POSTGRES_SQL.format(join=join), tuple(parameters)
        ):
            totals = _numbers(values, len(values))
            yield SeriesTotals(pid, rater, totals, low if low == high else None, names)
    else:
        yield from _from_rows(cursor(session, ROWS_SQL.format(join=join), tuple(parameters)))


def _from_chunks(
    session: Reader, conditions: list[str], parameters: list[Any]
) -> Iterator[SeriesTotals] | None:
    """SQLite: the series chunk by chunk of patient ids, the next chunk read ahead in a
    thread; None when the plan is not the checked one (the caller reads rows instead)."""
    ranged = "r.patient_id BETWEEN ? AND ?"  # bound first, before the conditions' values
    if conditions:
        join = JOIN_SQL.format(where=" AND ".join([ranged, *conditions]))
    else:
        join = " WHERE " + ranged
    sql = Chunked(SQLITE_SQL.format(join=join), ROWS_SQL.format(join=join))
    ranges = _id_ranges([pid for (pid,) in cursor(session, IDS_SQL)], CHUNK)
    raw = connection(session).connection.dbapi_connection
    if not _walks_series_index(raw, sql.aggregate, (*ranges[0], *parameters)):
        return None
    return _parsed(read_ahead(_chunks(raw, sql, ranges, parameters)))


@dataclass(frozen=True)
class Chunked:
    """A chunk's two statements: the aggregate, and the ordered rows for a chunk whose
    plan is not the checked one (plans may differ by range where SQLite keeps STAT4)."""

    aggregate: str
    rows: str


def _id_ranges(ids: list[int], size: int) -> list[tuple[int, int]]:
    """Ranges of patient ids (`ids` sorted), `size` patients each, that together cover
    every possible id (a rating whose patient row is missing, in a damaged file, is
    still read)."""
    starts = ids[size::size]
    lows = [LOWEST, *starts]
    highs = [start - 1 for start in starts] + [HIGHEST]
    return list(zip(lows, highs, strict=True))


def _chunks(
    raw: Any, sql: Chunked, ranges: list[tuple[int, int]], parameters: list[Any]
) -> Iterator[list[Any]]:
    """Each chunk's series, decoded, with the instruments of a series that changed
    instrument: all of it in read_ahead's thread, the one user of the connection meanwhile.
    Each chunk's plan is checked; a chunk read as rows comes as SeriesTotals already."""
    for low, high in ranges:
        values = (low, high, *parameters)
        if not _walks_series_index(raw, sql.aggregate, values):
            yield list(_from_rows(raw.execute(sql.rows, values)))
            continue
        (text,) = raw.execute(sql.aggregate, values).fetchone()
        series = json.loads(text)
        series.sort(key=lambda one: (one[0], str(one[1])))  # never trust the order
        for one in series:
            if one[2] != one[3]:
                one.append(_instruments(raw, one[0], one[1]))
        yield series


def _parsed(chunks: Generator[list[Any], None, None]) -> Iterator[SeriesTotals]:
    """The series of each chunk; closing this closes `chunks` (read_ahead stops its thread)."""
    with closing(chunks):
        for series in chunks:
            for one in series:
                if isinstance(one, SeriesTotals):  # a chunk read as rows
                    yield one
                    continue
                pid, rater, low, _high, count, text, *names = one
                totals = _numbers((text or "").split(","), count)
                if names:
                    yield SeriesTotals(pid, rater, totals, None, names[0])
                else:
                    yield SeriesTotals(pid, rater, totals, low)


def _numbers(values: Any, count: int) -> list[float]:
    """The totals as floats; a stored total that is not a number (a damaged file: text in
    the REAL column) is refused rather than misread."""
    try:
        totals = list(map(float, values))
    except (TypeError, ValueError):
        totals = []
    if len(totals) != count:
        raise StorageError(
            "the database holds a damaged value (a total that is not a number)",
            "run `alliance doctor`, or restore a backup",
        )
    return totals


def _instruments(raw: Any, patient_id: int, rater: str) -> list[str]:
    """Each session's instrument of one series, in date order (SQLite, on the totals'
    connection: the same snapshot, the same rows)."""
    return [name for (name,) in raw.execute(INSTRUMENTS_SQL, (patient_id, rater))]


def _walks_series_index(raw: Any, sql: str, parameters: tuple[Any, ...]) -> bool:
    """Whether SQLite answers `sql` by walking the series index in order (no sort of its
    own): then each group's rows reach group_concat in date order."""
    plan = [row[-1] for row in raw.execute("EXPLAIN QUERY PLAN " + sql, parameters)]
    walks = any(step.startswith(("SCAN", "SEARCH")) and SERIES_INDEX.search(step) for step in plan)
    return walks and not any("TEMP B-TREE" in step for step in plan)


def _from_rows(found: Any) -> Iterator[SeriesTotals]:
    found.arraysize = 5000
    rows = itertools.chain.from_iterable(iter(lambda: found.fetchmany(), []))
    for (pid, rater), group in itertools.groupby(rows, key=itemgetter(0, 1)):
        listed = list(group)
        names = [row[2] for row in listed]
        single = names[0] if len(set(names)) == 1 else None
        yield SeriesTotals(
            pid,
            rater,
            _numbers([row[3] for row in listed], len(listed)),
            single,
            None if single is not None else names,
        )
