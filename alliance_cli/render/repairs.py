"""Repair attempts: `repair list` (table, JSON, CSV) and the short section of `patient show`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alliance_cli.domain.repairs import FlagLink, RepairRecord
from alliance_cli.render.console import out
from alliance_cli.render.formats import print_csv, print_json
from alliance_cli.render.tables import Column, print_table

REPAIR_KEYS = ("id", "patient", "date", "strategy", "note", "flag", "outcome")
REPAIR_CSV_KEYS = (
    "id",
    "patient",
    "date",
    "strategy",
    "note",
    "flag_kind",
    "flag_dimension",
    "flag_date",
    "outcome",
)
SHOWN = 3  # `patient show` lists the latest few; `repair list` has them all


def flag_link_dict(link: FlagLink | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {"kind": link.kind, "dimension": link.dimension, "date": link.date.isoformat()}


def repair_dict(record: RepairRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "patient": record.patient,
        "date": record.date.isoformat(),
        "strategy": record.strategy,
        "note": record.note,
        "flag": flag_link_dict(record.flag),
        "outcome": record.outcome,
    }


def _csv_row(record: RepairRecord) -> dict[str, Any]:
    data = repair_dict(record)
    flag = data.pop("flag") or {}
    return {**data, **{f"flag_{key}": flag.get(key) for key in ("kind", "dimension", "date")}}


def answered(link: FlagLink | None) -> str:
    """The flag a repair answered, in a few words ("rupture of 2026-11-02")."""
    if link is None:
        return "-"
    what = link.kind if link.dimension in (None, "total") else f"{link.kind} ({link.dimension})"
    return f"{what} of {link.date.isoformat()}"


def _rows(records: Sequence[RepairRecord], *, notes: bool) -> list[list[str]]:
    rows = []
    for r in records:
        row = [r.date.isoformat(), r.strategy, answered(r.flag), r.outcome or "-"]
        if notes:
            row = [str(r.id), *row, r.note or ""]
        rows.append(row)
    return rows


def repairs(records: Sequence[RepairRecord], fmt: str) -> None:
    """`repair list`."""
    if fmt == "json":
        print_json([repair_dict(r) for r in records])
    elif fmt == "csv":
        print_csv(REPAIR_CSV_KEYS, (_csv_row(r) for r in records))
    else:
        columns = [
            Column("id", numeric=True),
            Column("date"),
            Column("strategy"),
            Column("answers"),
            Column("outcome"),
            Column("note", wrap=True),
        ]
        print_table(columns, _rows(records, notes=True))


def repair_section(records: Sequence[RepairRecord]) -> None:
    """`patient show`: the latest repair attempts and how they went (nothing if none)."""
    if not records:
        return
    shown = records[-SHOWN:]
    title = "Repairs" if len(shown) == len(records) else f"Repairs (latest {len(shown)})"
    columns = [Column("date"), Column("strategy"), Column("answers"), Column("outcome")]
    print_table(columns, _rows(shown, notes=False), title=title)
    out()


def repairs_markdown(records: Sequence[RepairRecord]) -> list[str]:
    """The clinician's Markdown export: every repair attempt (never the patient handout);
    nothing when none was recorded."""
    from alliance_cli.render.safe_text import escape_markdown

    if not records:
        return []
    lines = ["| date | strategy | answers | outcome | note |", "| --- | --- | --- | --- | --- |"]
    for r in records:
        cells = [r.date.isoformat(), r.strategy, answered(r.flag), r.outcome or "-", r.note or ""]
        lines.append("| " + " | ".join(escape_markdown(c) or " " for c in cells) + " |")
    return ["### Repair attempts", "\n".join(lines)]
