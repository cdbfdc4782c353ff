"""Checking imported session rows (CSV or JSON) before anything is written: pure logic.

Columns of the CSV import: patient, date, rater, instrument, bond, goal, task, items,
rupture (none, withdrawal or confrontation; empty: not asked), note. Total is accepted
and ignored: it is recomputed. `quick` rows are scored from bond/goal/task, item
instruments from items; the derived columns of the other kind are ignored, so a CSV
export imports back as it was. Values arrive as they were exported: the CSV reader
(services/exchange/importer.py) has undone the cell escaping of render/formats.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.dates import parse_date
from alliance_cli.domain.flag_model import MARKERS
from alliance_cli.domain.instruments import Instrument, Scores
from alliance_cli.domain.records import RATERS
from alliance_cli.domain.scoring_input import RawRating, scores_from_input
from alliance_cli.domain.text import check_code, optional_text
from alliance_cli.errors import AllianceError

MAX_LISTED = 20
Day = date  # the type, where a field named `date` shadows it


@dataclass(frozen=True)
class SessionRow:
    """A checked row: ready to store."""

    where: str  # "line 4" or "patients[0].sessions[2]"
    patient: str
    date: date
    rater: str
    instrument: str
    scores: Scores
    note: str | None
    rupture: str | None = None  # none | withdrawal | confrontation; None: not asked

    @property
    def key(self) -> tuple[str, Day, str]:
        return (self.patient, self.date, self.rater)

    def same_as(
        self,
        instrument: str,
        items: tuple[float, ...],
        note: str | None,
        rupture: str | None = None,
    ) -> bool:
        return (self.instrument, self.scores.items, self.note, self.rupture) == (
            instrument,
            items,
            note,
            rupture,
        )


def check_row(
    where: str,
    values: Mapping[str, str | None],
    *,
    instruments: Mapping[str, Instrument],
    default_instrument: Mapping[str, str],
    since: Mapping[str, date | None],
    today: date,
) -> SessionRow:
    """One row's values as typed -> a SessionRow, or AllianceError with the reason."""
    code = check_code((values.get("patient") or "").strip())
    when = parse_date((values.get("date") or "").strip(), today, what="date")
    if when > today:
        raise AllianceError(f"date {when.isoformat()} is in the future")
    start = since.get(code)
    if start is not None and when < start:
        raise AllianceError(
            f"date {when.isoformat()} is before {code}'s start of care {start.isoformat()}"
        )
    rater = (values.get("rater") or "patient").strip() or "patient"
    if rater not in RATERS:
        raise AllianceError(f"rater {rater!r} is not patient or therapist")
    name = (values.get("instrument") or "").strip() or default_instrument.get(code, "quick")
    instrument = instruments.get(name)
    if instrument is None:
        raise AllianceError(f"unknown instrument {name!r}")

    def cell(key: str) -> str | None:
        value = values.get(key)
        return None if value is None or value.strip() == "" else value.strip()

    if instrument.direct_entry:
        raw = RawRating(bond=cell("bond"), goal=cell("goal"), task=cell("task"))
    else:
        items = cell("items")
        raw = RawRating(items=None if items is None else ",".join(items.replace(",", " ").split()))
    scores = scores_from_input(instrument, raw)
    note_text = values.get("note")
    note = None if note_text is None else optional_text(note_text, "note")
    marker = cell("rupture")
    if marker is not None and marker not in MARKERS:
        raise AllianceError(f"rupture {marker!r} is not one of {', '.join(MARKERS)}")
    return SessionRow(where, code, when, rater, instrument.name, scores, note, marker)


def listed(problems: list[str]) -> tuple[str, ...]:
    """At most 20 problems, then a count of the rest."""
    shown = problems[:MAX_LISTED]
    rest = len(problems) - len(shown)
    return (*shown, f"... and {rest} more") if rest else tuple(shown)
