"""`alliance log` (who changed what, never the content) and `alliance undo`.

An undo never marks the rows it reverts: it appends its own rows, whose `undoes` names
the reverted transaction (schema 0007), and "undone" is read from those. So the audit
trail only grows, and on PostgreSQL a clinician needs no right to change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col

from alliance_cli.errors import Conflict, NotFound
from alliance_cli.store.audit import (
    AuditEntry,
    UndoStep,
    machine,
    recorder_of,
    typed,
    write_entries,
)
from alliance_cli.store.engine import Database, clinician_of
from alliance_cli.store.models import Patient
from alliance_cli.store.queries import get_patient, mine


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


def _undone_by_its_actor(session: Session) -> set[tuple[str, str]]:
    """(txn, actor) of every change reverted by an undo of the same actor (an undo row
    naming someone else's change reverted nothing and marks nothing)."""
    undo = aliased(AuditEntry)
    return {
        (txn, actor)
        for txn, actor in session.execute(
            select(col(undo.undoes), col(undo.actor)).where(col(undo.undoes).is_not(None))
        ).all()
    }


def _entries(session: Session, rows: Any) -> list[LogEntry]:
    codes = dict(
        session.execute(select(col(Patient.id), col(Patient.code)).where(mine(session))).all()
    )
    undone = _undone_by_its_actor(session)
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
            undone=e.undone or (e.txn, e.actor) in undone,
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
            # A date typed by the user is a day where they are: from its local midnight.
            start = datetime.combine(since, time.min).astimezone().astimezone(UTC)
            query = query.where(col(AuditEntry.at) >= start)
        rows = session.execute(query).scalars().all()
        entries = _entries(session, rows)
    return entries[-limit:] if limit else entries


@dataclass(frozen=True)
class UndoPlan:
    txn: str
    entries: tuple[LogEntry, ...]


def _last_change(session: Session) -> tuple[str, list[AuditEntry]]:
    here, me = machine(), clinician_of(session)
    undo = aliased(AuditEntry)
    reverted = (
        select(col(undo.id))
        .where(col(undo.undoes) == col(AuditEntry.txn), col(undo.actor) == me)
        .exists()
    )
    latest = session.execute(
        select(AuditEntry)
        .where(
            # PostgreSQL adds the address it saw: "host (address)" (migration 0007).
            or_(
                col(AuditEntry.machine) == here,
                col(AuditEntry.machine).startswith(f"{here} (", autoescape=True),
            ),
            col(AuditEntry.actor) == me,
            col(AuditEntry.undone).is_(False),
            ~reverted,
            col(AuditEntry.action) != "undo",
        )
        .order_by(col(AuditEntry.id).desc())
        .limit(1)
    ).scalar()
    if latest is None:
        raise NotFound("nothing to undo: no change from this machine is recorded")
    rows = list(
        session.execute(
            select(AuditEntry)
            .where(col(AuditEntry.txn) == latest.txn, col(AuditEntry.actor) == me)
            .order_by(col(AuditEntry.id))
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
        if recorder is not None:
            # Written before reverting: an undone `patient add` removes the patient, and a
            # clinician's audit rows may name only a patient in its caseload.
            recorder.undoes = txn
            for row in reversed(rows):
                recorder.note(row.entity, row.record_id, row.patient_id)
            write_entries(session, recorder)
        for row in reversed(rows):
            _revert(session, row, steps[row.id or 0])
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
