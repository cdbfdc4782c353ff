"""`alliance import`: CSV rows or a JSON export, all or nothing, idempotent.

Every row is checked before anything is written; one bad row aborts the whole import
and each bad row is reported by line (CSV) or position (JSON). Rows already stored with
the same values are skipped, so importing a file twice adds its rows once.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from alliance_cli.config import Settings
from alliance_cli.domain.exchange_format import CSV_COLUMNS, CSV_IGNORED
from alliance_cli.domain.import_rows import SessionRow, check_row, listed
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.render.formats import csv_value
from alliance_cli.store.audit import recorder_of
from alliance_cli.store.engine import Database, clinician_of
from alliance_cli.store.models import Patient, SessionRating
from alliance_cli.store.queries import mine


class ImportRejected(InvalidInput):
    """The file holds bad rows; nothing was imported."""


class DryRun(Exception):
    """Raised at the end of a dry run so the transaction rolls back."""


@dataclass
class ImportReport:
    dry_run: bool
    patients_added: int = 0
    sessions_added: int = 0
    sessions_skipped: int = 0
    goals_added: int = 0
    tasks_added: int = 0
    reviews_added: int = 0
    repairs_added: int = 0


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InvalidInput(f"no file {path}") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not UTF-8 text") from None
    except OSError as error:
        raise InvalidInput(f"cannot read {path}: {error.strerror}") from None


def csv_rows(text: str) -> Iterator[tuple[int, dict[str, str | None]]]:
    """(first line number, values) per data row; checks the header.

    Each value is what `csv_cell` was given when the file was exported (its escapes and
    formula guard undone), so an export imports back exactly as it was stored.
    """
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    if "patient" not in header or "date" not in header:
        raise InvalidInput(
            "the CSV header needs at least the columns patient and date",
            f"columns: {', '.join(CSV_COLUMNS)}",
        )
    unknown = [n for n in header if n not in CSV_COLUMNS and n not in CSV_IGNORED]
    if unknown:
        raise InvalidInput(f"unknown CSV column {unknown[0]!r}", f"use {', '.join(CSV_COLUMNS)}")
    reader.fieldnames = header
    line = reader.line_num + 1
    try:
        for values in reader:
            cells = {k: v for k, v in values.items() if k is not None}
            yield line, {k: None if v is None else csv_value(v) for k, v in cells.items()}
            line = reader.line_num + 1
    except csv.Error as error:
        raise InvalidInput(f"line {reader.line_num}: malformed CSV ({error})") from None


class StoredSessions:
    """What is stored already, loaded once per import."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.patients = {
            p.code: p for p in session.exec(select(Patient).where(mine(session))).all()
        }
        self.sessions: dict[
            tuple[str, date, str], tuple[str, tuple[float, ...], str | None, str | None]
        ] = {}
        by_id = {p.id: p.code for p in self.patients.values()}
        for pid, when, rater, instrument, items, note, marker in session.execute(
            sql_select(
                col(SessionRating.patient_id),
                col(SessionRating.date),
                col(SessionRating.rater),
                col(SessionRating.instrument),
                col(SessionRating.items),
                col(SessionRating.note),
                col(SessionRating.rupture),
            )
        ).all():
            day = when if isinstance(when, date) else date.fromisoformat(when)
            key = (by_id[pid], day, rater)
            self.sessions[key] = (instrument, tuple(float(x) for x in items), note, marker)


def plan_sessions(
    rows: list[SessionRow], store: StoredSessions, problems: list[str], report: ImportReport
) -> list[SessionRow]:
    """Rows to insert: new ones; identical ones skipped; clashes reported."""
    new: dict[tuple[str, date, str], SessionRow] = {}
    for row in rows:
        stored = store.sessions.get(row.key)
        if stored is not None:
            if row.same_as(*stored):
                report.sessions_skipped += 1
            else:
                problems.append(
                    f"{row.where}: {row.patient} already has a different {row.rater} "
                    f"rating on {row.date.isoformat()}"
                )
            continue
        earlier = new.get(row.key)
        if earlier is not None:
            if row.same_as(earlier.instrument, earlier.scores.items, earlier.note, earlier.rupture):
                report.sessions_skipped += 1
            else:
                problems.append(
                    f"{row.where}: a second, different rating for {row.key[0]} "
                    f"on {row.date.isoformat()} ({earlier.where})"
                )
            continue
        new[row.key] = row
    return list(new.values())


def checked_plan(
    rows: list[SessionRow], store: StoredSessions, problems: list[str], report: ImportReport
) -> list[SessionRow]:
    """The rows to insert, once every row checked out and none clashes with what is
    stored; otherwise ImportRejected, listing the problems."""
    reject(problems)
    planned = plan_sessions(rows, store, problems, report)
    reject(problems)
    return planned


def patient_ids(store: StoredSessions) -> dict[str, int]:
    """The database id of each patient stored so far, by code."""
    return {code: p.id for code, p in store.patients.items() if p.id is not None}


def store_sessions(
    session: Session, rows: list[SessionRow], ids: dict[str, int], report: ImportReport
) -> None:
    """Insert the planned rows and count them; a dry run ends here (and rolls back)."""
    insert_sessions(session, rows, ids)
    report.sessions_added = len(rows)
    if report.dry_run:
        raise DryRun


def insert_sessions(session: Session, rows: list[SessionRow], ids: dict[str, int]) -> None:
    recorder = recorder_of(session)
    if recorder is not None:
        for patient_id in sorted({ids[r.patient] for r in rows}):
            recorder.note("session_rating", None, patient_id)
    if rows:
        session.execute(
            insert(SessionRating),
            [
                {
                    "patient_id": ids[r.patient],
                    "date": r.date,
                    "rater": r.rater,
                    "instrument": r.instrument,
                    "bond": r.scores.bond,
                    "goal": r.scores.goal,
                    "task": r.scores.task,
                    "total": r.scores.total,
                    "items": list(r.scores.items),
                    "extra": dict(r.scores.extra) or None,
                    "note": r.note,
                    "rupture": r.rupture,
                }
                for r in rows
            ],
        )


def reject(problems: list[str]) -> None:
    if problems:
        count = len(problems)
        raise ImportRejected(
            f"{count} bad row{'s' if count > 1 else ''}; nothing was imported",
            details=listed(problems),
        )


Callback = Callable[[int], None]


def no_progress(_count: int) -> None:
    return None


def import_csv(
    db: Database,
    path: Path,
    settings: Settings,
    today: date,
    *,
    dry_run: bool = False,
    started: Callback = no_progress,
    advance: Callback = no_progress,
) -> ImportReport:
    text = read_text(path)
    report = ImportReport(dry_run=dry_run)
    started(max(text.count("\n"), 1))
    with contextlib.suppress(DryRun):
        _import_csv(db, text, settings, today, report, advance)
    return report


def _import_csv(
    db: Database,
    text: str,
    settings: Settings,
    today: date,
    report: ImportReport,
    advance: Callback,
) -> None:
    with db.write("import", undoable=False) as session:
        store = StoredSessions(session)
        instruments = settings.instruments
        default_instrument = {code: p.instrument for code, p in store.patients.items()}
        since = {code: p.since for code, p in store.patients.items()}
        problems: list[str] = []
        rows: list[SessionRow] = []
        for line, values in csv_rows(text):
            try:
                rows.append(
                    check_row(
                        f"line {line}",
                        values,
                        instruments=instruments,
                        default_instrument=default_instrument,
                        since=since,
                        today=today,
                    )
                )
            except AllianceError as error:
                problems.append(f"line {line}: {error}")
            advance(1)
        planned = checked_plan(rows, store, problems, report)
        ids = patient_ids(store)
        latest: dict[str, SessionRow] = {}
        for row in planned:
            if row.patient not in ids and (
                row.patient not in latest or row.date >= latest[row.patient].date
            ):
                latest[row.patient] = row
        for code, row in sorted(latest.items()):
            patient = Patient(code=code, clinician=clinician_of(session), instrument=row.instrument)
            session.add(patient)
            session.flush()
            assert patient.id is not None
            ids[code] = patient.id
        report.patients_added = len(latest)
        store_sessions(session, planned, ids, report)
