"""The `repairs` of a JSON export's patient, checked as `alliance repair add` checks them
and matched against what is stored, so that a second import adds nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, select

from alliance_cli.config import Settings
from alliance_cli.domain.dates import check_care_date
from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.records import RATERS
from alliance_cli.domain.repairs import LINKED_KINDS
from alliance_cli.domain.text import one_of, text_field
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.store.models import Patient, Repair

Key = tuple[Any, ...]


def _day(value: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not a YYYY-MM-DD date") from None


def _flag(value: Any, settings: Settings) -> dict[str, Any]:
    """The linked flag's columns (all None for no flag)."""
    if value is None:
        return dict.fromkeys(
            ("flag_kind", "flag_dimension", "flag_date", "flag_rater", "flag_instrument")
        )
    if not isinstance(value, dict):
        raise InvalidInput("flag must be an object or null")
    dimension = value.get("dimension")
    if dimension is not None:
        one_of(dimension, (*DIMENSIONS, "total"), "flag dimension")
    instrument = value.get("instrument")
    return {
        "flag_kind": one_of(value.get("kind"), LINKED_KINDS, "flag kind"),
        "flag_dimension": dimension,
        "flag_date": _day(value.get("date"), "flag date"),
        "flag_rater": one_of(value.get("rater"), RATERS, "flag rater"),
        "flag_instrument": settings.instrument(str(instrument)).name,
    }


def _key(values: dict[str, Any]) -> Key:
    return tuple(values[k] for k in sorted(values) if k not in ("patient_id", "created", "id"))


def import_repairs(
    session: Session,
    patient: Patient,
    repairs: Any,
    where: str,
    settings: Settings,
    today: date,
    problems: list[str],
) -> int:
    """Add the repairs not stored yet; each bad one is a problem (nothing is imported)."""
    if repairs is None:
        return 0
    if not isinstance(repairs, list):
        problems.append(f"{where}.repairs: not a list")
        return 0
    assert patient.id is not None
    stored = {
        _key(r.model_dump())
        for r in session.exec(select(Repair).where(Repair.patient_id == patient.id))
    }
    added = 0
    for number, data in enumerate(repairs):
        here = f"{where}.repairs[{number}]"
        if not isinstance(data, dict):
            problems.append(f"{here}: not an object")
            continue
        try:
            on = _day(data.get("date"), "date")
            check_care_date(on, today, patient.since, what="repair date")
            strategy = data.get("strategy")
            if strategy not in settings.repair_strategies:
                raise InvalidInput(f"unknown repair strategy {strategy!r}")
            values = {
                "date": on,
                "strategy": strategy,
                "note": text_field(data.get("note"), "note"),
                **_flag(data.get("flag"), settings),
            }
        except AllianceError as error:
            problems.append(f"{here}: {error}")
            continue
        if _key(values) in stored:
            continue
        stored.add(_key(values))
        session.add(Repair(patient_id=patient.id, **values))
        added += 1
    return added
