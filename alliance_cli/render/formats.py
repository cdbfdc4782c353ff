"""JSON and CSV renderings of records, with the stable keys documented in the README."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.records import (
    GoalRecord,
    PatientRow,
    SessionRecord,
    TaskRecord,
    shown_ending,
)
from alliance_cli.render.safe_text import escape_reversibly, unescape

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
GUARDED_PREFIXES = (*FORMULA_PREFIXES, "'")  # what follows the ' of a guard

PATIENT_KEYS = (
    "code",
    "name",
    "status",
    "since",
    "sessions",
    "last_session",
    "instrument",
    "latest",
    "trend",
    "alerts",
    "watch",
    "clinician",
    "ending",
)
PATIENT_CSV_KEYS = (
    *PATIENT_KEYS[:7],
    "latest_date",
    "bond",
    "goal",
    "task",
    "total",
    "trend",
    "alerts",
    "watch",
    "clinician",
    "ending",
)
SESSION_KEYS = (
    "id",
    "patient",
    "date",
    "rater",
    "instrument",
    "bond",
    "goal",
    "task",
    "total",
    "items",
    "extra",
    "rupture",
    "note",
)
GOAL_KEYS = (
    "id",
    "patient",
    "text",
    "proposed_by",
    "status",
    "target",
    "created",
    "reviews",
    "gas",  # the latest GAS level, or null
    "baseline",
    "weight",
    "gas_history",  # each GAS review: date, gas, note
)
TASK_KEYS = (
    "id",
    "patient",
    "goal_id",
    "text",
    "status",
    "due",
    "created",
    "status_changed",
    "reviews",
)


FLAG_KEYS = (
    "patient",
    "kind",
    "severity",
    "dimension",
    "date",
    "message",
    "direction",
    "marker",  # a reported rupture's: withdrawal or confrontation; null for other flags
)


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def patient_dict(row: PatientRow) -> dict[str, Any]:
    data = {key: _plain(getattr(row, key)) for key in PATIENT_KEYS if key != "latest"}
    data["ending"] = shown_ending(row.status, row.ending)
    data["latest"] = (
        None
        if row.latest is None
        else {
            key: _plain(getattr(row.latest, key))
            for key in ("date", "rater", "instrument", "bond", "goal", "task", "total")
        }
    )
    data["trend"] = row.trend or None
    return {key: data[key] for key in PATIENT_KEYS}


def patient_csv_row(row: PatientRow) -> dict[str, Any]:
    data = patient_dict(row)
    latest = data.pop("latest") or {}
    data["latest_date"] = latest.get("date")
    for key in ("bond", "goal", "task", "total"):
        data[key] = latest.get(key)
    return data


def session_dict(record: SessionRecord) -> dict[str, Any]:
    return {key: _plain(getattr(record, key)) for key in SESSION_KEYS}


CLINIC_FLAG_KEYS = ("clinician", *FLAG_KEYS)


def flag_dict(flag: Flag, keys: tuple[str, ...] = FLAG_KEYS) -> dict[str, Any]:
    return {key: _plain(getattr(flag, key)) for key in keys}


GOAL_LISTS = ("reviews", "gas_history")


def goal_dict(record: GoalRecord) -> dict[str, Any]:
    data = {key: _plain(getattr(record, key)) for key in GOAL_KEYS if key not in GOAL_LISTS}
    data["reviews"] = [
        {"date": r.date.isoformat(), "status": r.status, "note": r.note, "gas": r.gas}
        for r in record.reviews
    ]
    data["gas_history"] = [
        {"date": r.date.isoformat(), "gas": r.gas, "note": r.note} for r in record.gas_history
    ]
    return {key: data[key] for key in GOAL_KEYS}


def task_dict(record: TaskRecord) -> dict[str, Any]:
    data = {key: _plain(getattr(record, key)) for key in TASK_KEYS if key != "reviews"}
    data["reviews"] = [
        {"date": r.date.isoformat(), "adherence": r.adherence} for r in record.reviews
    ]
    return data


# JSON escapes C0 itself; C1 controls and bidi overrides are escaped here as well, so
# JSON printed to a terminal cannot drive it. Both occur only inside JSON strings.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def to_json(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_plain)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    """Pretty, UTF-8 JSON on stdout."""
    sys.stdout.write(to_json(data) + "\n")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet will not run and a terminal will not interpret, which
    `csv_value` turns back into exactly the text it came from.

    Control characters but newline (and bidi overrides) become `\\xHH` / `\\uHHHH`, and a
    backslash that would read as such an escape `\\\\` (`safe_text.escape_reversibly`);
    newlines stay, quoted by the CSV writer. A cell that then starts like a formula gets
    a leading `'` (OWASP), and so does one that starts with `'` and then looks guarded
    (`'=x`), so that import can tell a guard from text. Numbers are written as they are.
    """
    if value is None:
        return ""
    if isinstance(value, int | float):
        return _number_text(value)
    safe = escape_reversibly(_cell_text(value))
    return "'" + safe if safe.startswith(FORMULA_PREFIXES) or _looks_guarded(safe) else safe


def csv_value(cell: str) -> str:
    """The text `csv_cell` wrote `cell` for: import undoes exactly what export did."""
    return unescape(cell[1:] if _looks_guarded(cell) else cell)


def _looks_guarded(cell: str) -> bool:
    """`'` before what a guard is put before: a formula start or another `'` guard."""
    return cell.startswith("'") and cell[1:].startswith(GUARDED_PREFIXES)


def _number_text(value: int | float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _cell_text(value: Any) -> str:
    """A value as plain text, before it is made safe (once, for the whole cell)."""
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, list | tuple):
        return " ".join(_cell_text(v) for v in value)
    if isinstance(value, dict):
        return " ".join(f"{k}={_cell_text(v)}" for k, v in value.items())
    return "" if value is None else str(_plain(value))


def write_csv(stream: Any, keys: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(keys)
    for row in rows:
        writer.writerow([csv_cell(row.get(key)) for key in keys])


def print_csv(keys: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    write_csv(sys.stdout, keys, rows)


def csv_text(keys: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    import io

    buffer = io.StringIO()
    write_csv(buffer, keys, rows)
    return buffer.getvalue()
