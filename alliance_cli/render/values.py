"""How single values look in tables and text: dates ISO, scores with one decimal."""

from __future__ import annotations

from datetime import date

# The handout's words for the scores (`export --for-patient`: its table and its chart).
PATIENT_WORDS = {
    "bond": "connection",
    "goal": "goals",
    "task": "way of working",
    "total": "overall",
}


def fmt_date(value: date | None) -> str:
    return value.isoformat() if value else ""


def fmt_score(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def fmt_change(value: float | None) -> str:
    """`+1.0`, `-2.5`, `±0.0`, or `first` when there is nothing to compare with."""
    if value is None:
        return "first"
    if value == 0:
        return "±0.0"
    return f"{value:+.1f}"


def fmt_optional(value: object) -> str:
    return "" if value is None else str(value)
