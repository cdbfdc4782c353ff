"""Each rating series as one row of totals (store/series_totals, issue 16 part 4): the
database's aggregate gives what ordered rows give, on both backends; and the totals-only
rupture finder (`falls`) agrees with the rule it shortcuts (`rupture_at`)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance_cli.domain.flag_model import Rating
from alliance_cli.domain.flag_rules import EPSILON, rupture_at
from alliance_cli.domain.flag_scan import falls
from alliance_cli.domain.rules import Thresholds
from alliance_cli.store import series_totals as module
from alliance_cli.store.series_totals import SeriesTotals, series_totals
from tests.conftest import Cli

Expected = list[tuple[int, str, list[float], list[str]]]


def rate(cli: Cli, code: str, day: date, value: float, *extra: str) -> None:
    v = str(value)
    cli.ok(
        "session",
        "add",
        code,
        "--date",
        day.isoformat(),
        "--bond",
        v,
        "--goal",
        v,
        "--task",
        v,
        *extra,
    )


@pytest.fixture
def caseload(cli: Cli, fixed_today: date) -> Cli:
    """S1: sessions entered out of date order (ids not in date order), one decimal
    (totals like 21.3 that binary floats only approximate), a therapist series too.
    S2: changed instrument half way (quick, then srs, then quick). S3: discharged.
    S4: no rating at all."""
    cli.make_room()
    start = fixed_today - timedelta(weeks=12)
    for code in ("S1", "S2", "S3", "S4"):
        cli.ok("patient", "add", code, "--since", start.isoformat())
    for week, value in ((5, 7.1), (1, 8.3), (3, 6.7), (2, 9.9), (4, 0.1)):
        rate(cli, "S1", start + timedelta(weeks=week), value)
    for week, value in ((4, 5.5), (2, 6.6)):
        rate(cli, "S1", start + timedelta(weeks=week), value, "--rater", "therapist")
    for week in range(1, 7):
        rate(cli, "S2", start + timedelta(weeks=week), 3.3 + week)
    changed = ", ".join(f"'{(start + timedelta(weeks=w)).isoformat()}'" for w in (3, 4))
    cli.sql(
        "UPDATE session_rating SET instrument = 'srs' WHERE patient_id = "
        f"(SELECT id FROM patient WHERE code = 'S2') AND date IN ({changed})"
    )
    for week, value in ((2, 4.4), (1, 5.0)):
        rate(cli, "S3", start + timedelta(weeks=week), value)
    cli.ok("patient", "discharge", "S3", "--date", fixed_today.isoformat(), "--ending", "mutual")
    return cli


def expected(cli: Cli, where: str = "") -> Expected:
    """The series as ordered rows give them, read with the driver directly."""
    rows = cli.sql(
        "SELECT r.patient_id, r.rater, r.instrument, r.total FROM session_rating AS r "
        f"JOIN patient AS p ON p.id = r.patient_id {where} ORDER BY r.patient_id, r.rater, r.date"
    )
    found = []
    for (pid, rater), group in itertools.groupby(rows, key=lambda row: (row[0], row[1])):
        listed = list(group)
        found.append(
            (
                int(str(pid)),
                str(rater),
                [float(str(r[3])) for r in listed],
                [str(r[2]) for r in listed],
            )
        )
    return found


def flat(series: list[SeriesTotals]) -> Expected:
    return [
        (s.patient_id, s.rater, s.totals, [s.instrument_at(i) for i in range(len(s.totals))])
        for s in series
    ]


def read(cli: Cli, **options: Any) -> list[SeriesTotals]:
    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import open_database

    db = open_database(resolve_database(cli.db))
    try:
        with db.read() as session:
            return list(series_totals(session, **options))
    finally:
        db.close()


def same(found: Expected, wanted: Expected) -> None:
    """Equal series; totals to 15 significant digits (SQLite's text form of a float)."""
    assert [(p, r, i) for p, r, _, i in found] == [(p, r, i) for p, r, _, i in wanted]
    for (_, _, totals, _), (_, _, want, _) in zip(found, wanted, strict=True):
        assert totals == pytest.approx(want, rel=1e-14, abs=1e-14)


def test_the_aggregate_gives_each_series_in_date_order(caseload: Cli) -> None:
    wanted = expected(caseload)
    s1 = caseload.sql("SELECT id FROM patient WHERE code = 'S1'")[0][0]
    assert [w[2] for w in wanted if w[0] == s1 and w[1] == "patient"] == [
        pytest.approx([24.9, 29.7, 20.1, 0.3, 21.3])
    ]
    same(flat(read(caseload)), wanted)
    same(flat(read(caseload, in_database=False)), wanted)


def test_a_changed_instrument_keeps_each_session_s_own(caseload: Cli) -> None:
    s2 = int(str(caseload.sql("SELECT id FROM patient WHERE code = 'S2'")[0][0]))
    (series,) = [s for s in read(caseload) if s.patient_id == s2]
    assert series.instrument is None
    assert [series.instrument_at(i) for i in range(6)] == ["quick"] * 2 + ["srs"] * 2 + [
        "quick"
    ] * 2
    parts = series.by_instrument()
    assert [name for name, _ in parts] == ["quick", "srs"]
    assert parts[0][1] == pytest.approx([12.9, 15.9, 24.9, 27.9])
    assert parts[1][1] == pytest.approx([18.9, 21.9])


def test_status_and_clinician_choose_the_patients(caseload: Cli) -> None:
    discharged = expected(caseload, "WHERE p.status = 'discharged'")
    assert len(discharged) == 1
    same(flat(read(caseload, status="discharged")), discharged)
    same(flat(read(caseload, status="discharged", in_database=False)), discharged)
    (clinician,) = {str(row[0]) for row in caseload.sql("SELECT clinician FROM patient")}
    assert flat(read(caseload, clinician="someone else")) == []
    same(flat(read(caseload, clinician=clinician)), expected(caseload))


@pytest.mark.sqlite_only
def test_sqlite_answers_with_the_aggregate_not_rows(
    caseload: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a database alliance made, the plan walks the series index: the fast path."""

    def no_rows(found: Any) -> Iterator[SeriesTotals]:
        raise AssertionError("fell back to rows")

    monkeypatch.setattr(module, "_from_rows", no_rows)
    assert len(read(caseload)) == 4 and len(read(caseload, status="discharged")) == 1


@pytest.mark.sqlite_only
def test_without_the_series_index_sqlite_falls_back_to_rows(caseload: Cli) -> None:
    """A plan that sorts on its own gives no order inside group_concat: rows instead."""
    wanted = expected(caseload)
    caseload.sql("DROP INDEX ix_session_rating_series")
    same(flat(read(caseload)), wanted)


RULES = Thresholds(rupture_min_size=3.0, rupture_sd=1.0, rupture_min_history=3)


def brute_force(totals: list[float], rules: Thresholds) -> list[tuple[int, int | None]]:
    """Every session judged by `rupture_at` over its own prefix, repair searched forward."""
    ratings = [
        Rating(date(2026, 1, 1) + timedelta(days=i), "patient", "quick", t / 3, t / 3, t / 3, t)
        for i, t in enumerate(totals)
    ]
    found = []
    for i in range(1, len(totals)):
        before = totals[:i]
        hit = rupture_at(
            ratings[i], ratings[i - 1], i, sum(before), sum(t * t for t in before), rules
        )
        if hit is not None:
            later = (j for j in range(i + 1, len(totals)) if totals[j] >= hit.back_to - EPSILON)
            found.append((i, next(later, None)))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 60).map(lambda n: n / 2), max_size=40))
def test_falls_finds_what_the_rupture_rule_finds(totals: list[float]) -> None:
    assert [(f.at, f.repaired_at) for f in falls(totals, RULES)] == brute_force(totals, RULES)


def test_falls_on_a_plain_course() -> None:
    totals = [27.0, 27.0, 27.0, 27.0, 12.0, 15.0, 27.0]
    (fall,) = falls(totals, RULES)
    assert (fall.at, fall.usual, fall.gap, fall.repaired_at) == (4, 27.0, 15.0, 6)
    assert falls(totals, Thresholds(rupture_min_size=None)) == []


@pytest.mark.sqlite_only  # a REAL column holding text: only SQLite lets a file say so
@pytest.mark.parametrize("damage", ["1,5", "abc"])
def test_a_total_that_is_not_a_number_is_a_damaged_database(caseload: Cli, damage: str) -> None:
    caseload.sql(
        f"UPDATE session_rating SET total = '{damage}' WHERE patient_id = "
        "(SELECT id FROM patient WHERE code = 'S3') AND rater = 'patient' AND date = "
        "(SELECT min(date) FROM session_rating)"
    )
    before = caseload.dump()
    for _ in range(2):  # the aggregate, then the rows it falls back to without the index
        result = caseload("outcomes", "--format", "json")
        assert result.exit_code == 4, (result.exit_code, result.stdout, result.stderr)
        assert result.stderr.startswith("error: the database holds a damaged value")
        assert len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr
        caseload.sql("DROP INDEX IF EXISTS ix_session_rating_series")
    assert [line for line in caseload.dump() if "ix_session_rating_series" not in line] == [
        line for line in before if "ix_session_rating_series" not in line
    ]


@pytest.mark.sqlite_only
def test_a_driver_error_from_a_plain_cursor_is_a_one_line_storage_error(caseload: Cli) -> None:
    """Plain cursors raise the driver's own errors, which SQLAlchemy never wraps: the
    transaction translates them like any other (db_errors)."""
    import sqlite3

    from alliance_cli.errors import StorageError
    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import open_database

    db = open_database(resolve_database(caseload.db))
    try:
        for reader in (db.read_rows, db.read):
            with pytest.raises(StorageError), reader():
                raise sqlite3.OperationalError("database is locked")
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_many_chunks_give_what_one_gives(caseload: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reads the caseload in chunks of patient ids, the next one ahead in a
    thread: one patient a chunk changes nothing (and nothing falls back to rows)."""

    def no_rows(found: Any) -> Iterator[SeriesTotals]:
        raise AssertionError("fell back to rows")

    monkeypatch.setattr(module, "CHUNK", 1)
    monkeypatch.setattr(module, "_from_rows", no_rows)
    same(flat(read(caseload)), expected(caseload))
    discharged = expected(caseload, "WHERE p.status = 'discharged'")
    same(flat(read(caseload, status="discharged")), discharged)
    (clinician,) = {str(row[0]) for row in caseload.sql("SELECT clinician FROM patient")}
    same(flat(read(caseload, clinician=clinician)), expected(caseload))


@pytest.mark.sqlite_only
def test_a_chunk_whose_plan_is_not_the_walk_is_read_as_rows(
    caseload: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans may differ by range (SQLite with STAT4): each chunk's plan is checked, and a
    chunk with another plan is read as ordered rows, in the same stream."""
    checked = module._walks_series_index
    read_as_rows: list[int] = []
    rows = module._from_rows

    def every_other(raw: Any, sql: str, parameters: tuple[Any, ...]) -> bool:
        return checked(raw, sql, parameters) and parameters[0] % 2 == 0

    def counted(found: Any) -> Iterator[SeriesTotals]:
        read_as_rows.append(1)
        return rows(found)

    monkeypatch.setattr(module, "CHUNK", 1)
    monkeypatch.setattr(module, "LOWEST", 0)  # the first chunk: the one checked up front
    monkeypatch.setattr(module, "_walks_series_index", every_other)
    monkeypatch.setattr(module, "_from_rows", counted)
    same(flat(read(caseload)), expected(caseload))
    assert read_as_rows  # some chunks were read as rows, the rest as aggregates


@pytest.mark.sqlite_only
def test_a_driver_error_in_the_read_ahead_thread_is_a_one_line_storage_error(
    caseload: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """S2 changed instrument: its instruments are read in the read-ahead thread, which
    fails here; the error reaches the command's boundary like any other."""
    import sqlite3

    def locked(*args: Any) -> list[str]:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(module, "_instruments", locked)
    caseload.ok("patient", "discharge", "S2", "--ending", "dropout")
    result = caseload("outcomes", "--format", "json")
    assert result.exit_code == 4 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) <= 2
    assert result.stdout == ""


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(1, 10_000), max_size=60), st.integers(1, 7))
def test_the_chunks_cover_every_id_with_chunk_patients_each(ids: set[int], chunk: int) -> None:
    found = module._id_ranges(sorted(ids), chunk)
    assert found[0][0] == module.LOWEST and found[-1][1] == module.HIGHEST
    assert all(high + 1 == low for (_, high), (low, _) in itertools.pairwise(found))
    counts = [sum(low <= i <= high for i in ids) for low, high in found]
    assert all(count == chunk for count in counts[:-1])
    assert counts[-1] <= chunk and (counts[-1] > 0 or not ids)
    assert len(found) == max(1, -(-len(ids) // chunk))


@pytest.mark.sqlite_only
def test_an_error_while_the_chunks_stream_stops_the_read_ahead_thread(
    caseload: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report fails on its second patient, a chunk ahead being read: the thread is
    stopped and joined before the transaction ends, and the error is the usual line."""
    import threading
    from contextlib import contextmanager

    from alliance_cli.errors import StorageError
    from alliance_cli.services.reports import outcomes
    from alliance_cli.store.engine import Database

    for code in ("S1", "S2"):
        caseload.ok("patient", "discharge", code, "--ending", "mutual")
    monkeypatch.setattr(module, "CHUNK", 1)
    made = outcomes._course
    calls: list[str] = []
    at_the_end: list[set[str]] = []

    def failing(meta: Any, *args: Any) -> Any:
        calls.append(meta.code)
        if len(calls) == 2:
            raise StorageError("the database holds a damaged value (test)")
        return made(meta, *args)

    opened = Database.read_rows

    @contextmanager
    def watched(self: Database) -> Iterator[Any]:
        with opened(self) as connection:
            try:
                yield connection
            finally:  # the transaction is about to end: which threads still run?
                at_the_end.append({thread.name for thread in threading.enumerate()})

    monkeypatch.setattr(outcomes, "_course", failing)
    monkeypatch.setattr(Database, "read_rows", watched)
    result = caseload("outcomes", "--format", "json")
    assert result.exit_code == 4 and result.stdout == ""
    assert result.stderr.startswith("error: the database holds a damaged value (test)")
    assert len(calls) == 2 and len(at_the_end) == 1
    assert "alliance-read-ahead" not in at_the_end[0]
