"""`alliance log` (who changed what, never the content) and `alliance undo`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlmodel import Session, SQLModel, col

from alliance_cli.errors import Conflict, NotFound
from alliance_cli.store.audit import AuditEntry, UndoStep, machine, recorder_of, typed
from alliance_cli.store.engine import Database
from alliance_cli.store.models import Patient
from alliance_cli.store.queries import clinician_of, get_patient, mine


@dataclass(frozen=True)
class LogEntry:
    id: int
    at: datetime
    actor: str
    machine: str
    action: str
    entity: str
    record_id: int | None
    patient: str | None  # the code, or the one-way hash of an erased patient
    undone: bool


def _entries(session: Session, rows: Any) -> list[LogEntry]:
    codes = dict(
        session.execute(select(col(Patient.id), col(Patient.code)).where(mine(session))).all()
    )
    return [
        LogEntry(
            id=e.id or 0,
            at=e.at,
            actor=e.actor,
            machine=e.machine,
            action=e.action,
            entity=e.entity,
            record_id=e.record_id,
            patient=codes.get(e.patient_id) if e.patient_id is not None else e.patient_hash,
            undone=e.undone,
        )
        for e in rows
    ]


def audit_log(
    db: Database, code: str | None = None, since: date | None = None, limit: int | None = None
) -> list[LogEntry]:
    with db.read() as session:
        # Your own changes, and any change to a patient in your caseload.
        caseload = select(col(Patient.id)).where(mine(session))
        query = (
            select(AuditEntry)
            .where(
                or_(
                    col(AuditEntry.actor) == clinician_of(session),
                    col(AuditEntry.patient_id).in_(caseload),
                )
            )
            .order_by(col(AuditEntry.id))
        )
        if code is not None:
            patient = get_patient(session, code)
            query = query.where(col(AuditEntry.patient_id) == patient.id)
        if since is not None:
            query = query.where(col(AuditEntry.at) >= datetime.combine(since, time.min, tzinfo=UTC))
        rows = session.execute(query).scalars().all()
        entries = _entries(session, rows)
    return entries[-limit:] if limit else entries


@dataclass(frozen=True)
class UndoPlan:
    txn: str
    entries: tuple[LogEntry, ...]


def _last_change(session: Session) -> tuple[str, list[AuditEntry]]:
    here = machine()
    latest = session.execute(
        select(AuditEntry)
        .where(
            col(AuditEntry.machine) == here,
            col(AuditEntry.actor) == clinician_of(session),
            col(AuditEntry.undone).is_(False),
            col(AuditEntry.action) != "undo",
        )
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).scalar()
    if latest is None:
        raise NotFound("nothing to undo: no change from this machine is recorded")
    rows = list(
        session.execute(
            select(AuditEntry).where(col(AuditEntry.txn) == latest.txn).order_by(col(AuditEntry.id))
        ).scalars()
    )
    return latest.txn, rows


def plan_undo(db: Database) -> UndoPlan:
    """What `undo` would revert: the last change made from this machine."""
    with db.read() as session:
        txn, rows = _last_change(session)
        return UndoPlan(txn, tuple(_entries(session, rows)))


def undo(db: Database, txn: str) -> UndoPlan:
    """Revert the change `txn` (it must still be the last one), in one transaction."""
    with db.write("undo", undoable=False) as session:
        current, rows = _last_change(session)
        if current != txn:
            raise Conflict("another change was made meanwhile", "run `alliance undo` again")
        steps = {
            step.audit_id: step
            for step in session.execute(
                select(UndoStep).where(col(UndoStep.audit_id).in_([r.id for r in rows]))
            ).scalars()
        }
        if len(steps) != len(rows):
            action = rows[0].action
            raise Conflict(
                f"the last change ({action}) cannot be undone",
                "imports and erasures are not kept on the undo stack",
            )
        recorder = recorder_of(session)
        for row in reversed(rows):
            _revert(session, row, steps[row.id or 0])
            if recorder is not None:
                recorder.note(row.entity, row.record_id, row.patient_id)
        session.execute(update(AuditEntry).where(col(AuditEntry.txn) == txn).values(undone=True))
        session.execute(delete(UndoStep).where(col(UndoStep.audit_id).in_(list(steps))))
        return UndoPlan(txn, tuple(_entries(session, rows)))


def _revert(session: Session, row: AuditEntry, step: UndoStep) -> None:
    table = SQLModel.metadata.tables[row.entity]
    key = table.c.id == row.record_id
    exists = session.execute(select(table.c.id).where(key)).first() is not None
    if step.kind == "insert":
        if not exists:
            raise Conflict(f"{row.entity} {row.record_id} is gone already; nothing was undone")
        session.execute(delete(table).where(key))
    elif step.kind == "update":
        if not exists:
            raise Conflict(f"{row.entity} {row.record_id} is gone; nothing was undone")
        session.execute(update(table).where(key).values(**typed(table, step.before or {})))
    elif step.kind == "delete":
        if exists:
            raise Conflict(f"{row.entity} {row.record_id} exists again; nothing was undone")
        session.execute(insert(table).values(**typed(table, step.before or {})))
