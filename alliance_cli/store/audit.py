"""The audit trail and the undo stack, recorded inside each write transaction.

Every change to a record becomes one append-only `audit_log` row: when, who (the
configured clinician or the OS user), from which machine, which action, which table and
record id, never the content. So that a mistyped score can be taken back, the state
before the change is kept beside it in `undo_step`; those rows belong to the patient and
go when the patient is erased, while the audit rows stay, naming the patient only by a
one-way hash.
"""

from __future__ import annotations

import hashlib
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Integer, event, insert, inspect
from sqlmodel import Field, Session, SQLModel

from alliance_cli.store.models import (
    Goal,
    GoalReview,
    Patient,
    Repair,
    SessionRating,
    Task,
    TaskReview,
)

TRACKED = (Patient, Goal, GoalReview, Task, TaskReview, SessionRating, Repair)


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    txn: str = Field(index=True)  # one command's changes share it (undo takes them together)
    at: datetime
    actor: str
    machine: str
    action: str
    entity: str
    record_id: int | None = None
    patient_id: int | None = Field(default=None, index=True)  # no foreign key: it outlives
    patient_hash: str | None = None  # set when the patient is erased
    undone: bool = False  # marked before schema 0007; since, an `undo` row's `undoes` says it
    undoes: str | None = Field(default=None, index=True)  # the txn an `undo` reverted


class UndoStep(SQLModel, table=True):
    """The state before one audited change (content: erased with the patient)."""

    __tablename__ = "undo_step"

    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(
        sa_column=Column(Integer, ForeignKey("audit_log.id", ondelete="CASCADE"), nullable=False)
    )
    patient_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("patient.id", ondelete="CASCADE"), nullable=True),
    )
    kind: str  # insert, update or delete
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


def machine() -> str:
    return socket.gethostname()


def code_hash(code: str) -> str:
    """A one-way stand-in for an erased patient's code."""
    return "sha256:" + hashlib.sha256(f"alliance-erased:{code}".encode()).hexdigest()[:16]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _patient_of(session: Session, obj: Any) -> int | None:
    if isinstance(obj, Patient):
        return obj.id
    if isinstance(obj, Goal | Task | SessionRating | Repair):
        return obj.patient_id
    parent: Any = None
    if isinstance(obj, GoalReview):
        parent = session.get(Goal, obj.goal_id)
    elif isinstance(obj, TaskReview):
        parent = session.get(Task, obj.task_id)
    return None if parent is None else parent.patient_id


@dataclass
class _Change:
    entity: str
    record_id: int | None
    patient_id: int | None
    kind: str
    before: dict[str, Any] | None
    patient_hash: str | None = None


@dataclass
class Recorder:
    """Collects a transaction's changes (ORM flushes) and writes them before commit."""

    action: str
    actor: str  # the clinician (see alliance_cli/clinician.py)
    undoable: bool = True
    changes: list[_Change] = field(default_factory=list)
    undoes: str | None = None  # for `undo`: the txn it reverts
    txn: str = field(default_factory=lambda: uuid.uuid4().hex)  # one per transaction

    def note(
        self,
        entity: str,
        record_id: int | None,
        patient_id: int | None,
        patient_hash: str | None = None,
    ) -> None:
        """A change made with a bulk statement (not undoable)."""
        self.changes.append(_Change(entity, record_id, patient_id, "bulk", None, patient_hash))


def _columns(obj: Any) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {c.key: _plain(getattr(obj, c.key)) for c in mapper.column_attrs}


def _before_update(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    before = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            before[attr.key] = _plain(history.deleted[0])
    return before


def record_changes(session: Session, recorder: Recorder) -> None:
    """Attach the recorder to a write session (see module doc)."""

    @event.listens_for(session, "after_flush")
    def _after_flush(session: Session, _context: Any) -> None:
        with session.no_autoflush:
            for obj in session.new:
                if isinstance(obj, TRACKED):
                    recorder.changes.append(
                        _Change(
                            obj.__tablename__, obj.id, _patient_of(session, obj), "insert", None
                        )
                    )
            for obj in session.dirty:
                if isinstance(obj, TRACKED) and session.is_modified(obj):
                    before = _before_update(obj)
                    if before:
                        recorder.changes.append(
                            _Change(
                                obj.__tablename__,
                                obj.id,
                                _patient_of(session, obj),
                                "update",
                                before,
                            )
                        )
            for obj in session.deleted:
                if isinstance(obj, TRACKED):
                    recorder.changes.append(
                        _Change(
                            obj.__tablename__,
                            obj.id,
                            _patient_of(session, obj),
                            "delete",
                            _columns(obj),
                        )
                    )

    @event.listens_for(session, "before_commit")
    def _before_commit(session: Session) -> None:
        session.flush()  # before_commit comes before the commit's own flush
        write_entries(session, recorder)


def write_entries(session: Session, recorder: Recorder) -> None:
    """Write the changes noted so far (at commit, or earlier: see `undo`, erasure and
    transfer, which must name a patient while it is still in the caseload).

    On PostgreSQL the database stamps who, when and from where (migration 0007); the
    values given here are what a SQLite file keeps.
    """
    if not recorder.changes:
        return
    txn = recorder.txn
    now = datetime.now(UTC)
    who, where = recorder.actor, machine()
    connection = session.connection()
    for change in recorder.changes:
        result = connection.execute(
            insert(AuditEntry),
            {
                "txn": txn,
                "at": now,
                "actor": who,
                "machine": where,
                "action": recorder.action,
                "entity": change.entity,
                "record_id": change.record_id,
                "patient_id": change.patient_id,
                "patient_hash": change.patient_hash,
                "undone": False,
                "undoes": recorder.undoes,
            },
        )
        if recorder.undoable and change.kind != "bulk":
            connection.execute(
                insert(UndoStep),
                {
                    "audit_id": _inserted_id(result),
                    "patient_id": None
                    if (change.kind, change.entity) == ("delete", "patient")
                    else change.patient_id,
                    "kind": change.kind,
                    "before": change.before,
                },
            )
    recorder.changes.clear()


def _inserted_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def typed(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """JSON-stored column values back to the Python types the columns expect."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        column_type = table.c[key].type
        impl = getattr(column_type, "impl", column_type)  # sqlmodel's UTCDateTime decorates
        try:
            kind = impl.python_type
        except NotImplementedError:
            kind = None
        if value is not None and kind is datetime:
            out[key] = datetime.fromisoformat(value)
        elif value is not None and kind is date:
            out[key] = date.fromisoformat(value)
        else:
            out[key] = value
    return out


def recorder_of(session: Session) -> Recorder | None:
    found = session.info.get("recorder")
    return found if isinstance(found, Recorder) else None


def erase_patient_references(session: Session, patient_id: int, code: str) -> str:
    """Before erasure: audit rows keep only a one-way hash of the code.

    On PostgreSQL deleting the patient row does it (the owner's trigger, migration 0007):
    clinicians cannot update the audit trail.
    """
    from sqlalchemy import update

    digest = code_hash(code)
    if session.get_bind().dialect.name == "postgresql":
        return digest
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.patient_id == patient_id)  # type: ignore[arg-type]
        .values(patient_id=None, patient_hash=digest)
    )
    return digest
