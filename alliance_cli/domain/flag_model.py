"""The flag engine's data: ratings in, flags out (plain, frozen, comparable)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from alliance_cli.domain.vocabulary import (
    Adherence,
    Direction,
    FlagKind,
    FlagRater,
    Marker,
    Rater,
    Severity,
)

Day = date  # the type, where a field named `date` shadows it

SEVERITIES = tuple(Severity)  # most urgent first
KINDS = tuple(FlagKind)
MARKERS = tuple(Marker)  # a rater's answer: was there a rupture?
THERAPIST_HIGHER, PATIENT_HIGHER = Direction.THERAPIST_HIGHER, Direction.PATIENT_HIGHER
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
Review = tuple[date, Adherence]  # a task review: (date, adherence)
Report = tuple[date, Rater, Marker]  # a rating set's answer to the rupture question


class Rating(NamedTuple):
    """One rating set as the flag engine sees it (a tuple: millions stream through)."""

    date: Day
    rater: Rater
    instrument: str
    bond: float
    goal: float
    task: float
    total: float

    def score(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True)
class History:
    """A patient's ratings and task reviews (date, adherence), in any order."""

    patient: str
    ratings: tuple[Rating, ...]
    reviews: tuple[Review, ...] = ()
    active: bool = True
    since: date | None = None
    # (date, rater, marker) of each rating set that answered the rupture question
    reports: tuple[Report, ...] = ()


@dataclass(frozen=True)
class Flag:
    patient: str
    kind: FlagKind
    severity: Severity
    dimension: str | None
    date: date
    message: str
    rater: FlagRater | None = None  # BOTH on a flag that compares the two raters
    repaired_on: Day | None = None
    instrument: str | None = None  # the series a rating flag belongs to (not shown)
    clinician: str = ""  # set on clinic-wide listings (`--all-clinicians`)
    # The message's numbers in a few words ("bond -5.0"), for one line per event
    # (`flag_groups`); "" when the message says it best. Not part of a flag's identity.
    brief: str = field(default="", compare=False)
    marker: Marker | None = None  # a reported rupture's type: withdrawal or confrontation
    direction: Direction | None = None  # a discrepancy's: therapist-higher or patient-higher

    def sort_key(self) -> tuple[int, str, int, str, str, str, str]:
        """A total order, so output never depends on set or hash order."""
        return (
            SEVERITY_RANK[self.severity],
            self.patient,
            -self.date.toordinal(),
            self.kind,
            self.dimension or "",
            self.rater or "",
            self.message,
        )
