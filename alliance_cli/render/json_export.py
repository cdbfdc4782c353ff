"""The portable JSON export: a documented, versioned schema (README, "Export formats");
its format name, versions and keys are domain/exchange_format.py's.

Ids inside the file are positions (goal 1 is the patient's first goal), not database
ids, so an export imported into an empty database exports back identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alliance_cli import __version__
from alliance_cli.domain.exchange_format import EXPORT_FORMAT, EXPORT_SCHEMA_VERSION
from alliance_cli.domain.export import PatientExport


def _day(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def patient_document(export: PatientExport) -> dict[str, Any]:
    p = export.profile
    position = {goal.id: number for number, goal in enumerate(export.goals, 1)}
    return {
        "code": p.code,
        "name": p.name,
        "status": p.status,
        "since": _day(p.since),
        "instrument": p.instrument,
        "expectations": p.expectations,
        "beliefs": p.beliefs,
        "emotional_state": p.emotional_state,
        "social_context": p.social_context,
        "note": p.note,
        "discharged_on": _day(p.discharged_on),
        "discharge_reason": p.discharge_reason,
        "ending": p.shown_ending,
        "goals": [
            {
                "id": position[g.id],
                "text": g.text,
                "proposed_by": g.proposed_by,
                "status": g.status,
                "target": _day(g.target),
                "created": _day(g.created),
                "baseline": g.baseline,
                "weight": g.weight,
                "reviews": [
                    {"date": _day(r.date), "status": r.status, "note": r.note, "gas": r.gas}
                    for r in g.reviews
                ],
            }
            for g in export.goals
        ],
        "tasks": [
            {
                "goal": None if t.goal_id is None else position.get(t.goal_id),
                "text": t.text,
                "status": t.status,
                "due": _day(t.due),
                "created": _day(t.created),
                "status_changed": _day(t.status_changed),
                "reviews": [{"date": _day(r.date), "adherence": r.adherence} for r in t.reviews],
            }
            for t in export.tasks
        ],
        "sessions": [
            {
                "date": _day(s.date),
                "rater": s.rater,
                "instrument": s.instrument,
                "bond": s.bond,
                "goal": s.goal,
                "task": s.task,
                "total": s.total,
                "items": list(s.items),
                "extra": dict(s.extra),
                "note": s.note,
                "rupture": s.rupture,
            }
            for s in export.sessions
        ],
        "repairs": [
            {
                "date": _day(r.date),
                "strategy": r.strategy,
                "note": r.note,
                "flag": None
                if r.flag is None
                else {
                    "kind": r.flag.kind,
                    "dimension": r.flag.dimension,
                    "date": _day(r.flag.date),
                    "rater": r.flag.rater,
                    "instrument": r.flag.instrument,
                },
                "outcome": r.outcome,  # computed: ignored by import
            }
            for r in export.repairs
        ],
    }


def export_document(exports: Sequence[PatientExport], generated: str) -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "schema_version": EXPORT_SCHEMA_VERSION,
        "alliance_version": __version__,
        "generated": generated,
        "patients": [patient_document(e) for e in exports],
    }
