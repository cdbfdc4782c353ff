"""The domain's closed vocabularies, each defined once (`StrEnum`).

A member is its string: it compares equal to it, formats as it, and `json` writes it as
it, so the database, exports and output hold the same words as before. Code names the
member (`Severity.ALERT`), never the literal, so mypy finds a misspelling; Typer options
take the enum, so `--help` lists the choices from here.

Open sets stay `str`: instruments and repair strategies (config may add them), and the
flag kinds of `config.py`'s suggestions table are checked against `FlagKind`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, TypeAlias


class Severity(StrEnum):
    """How urgent a flag is, most urgent first (the order is the sort order)."""

    ALERT = "alert"
    WATCH = "watch"
    INFO = "info"


class FlagKind(StrEnum):
    """What a flag is about: one per rule of the flag engine (domain/flag_rules.py)."""

    LOW = "low"
    DROP = "drop"
    DECLINE = "decline"
    RUPTURE = "rupture"
    DISCREPANCY = "discrepancy"
    EARLY_RISK = "early-risk"
    NO_CONTACT = "no-contact"
    TASKS_MISSED = "tasks-missed"
    REPORTED_RUPTURE = "reported-rupture"
    UNNOTICED_RUPTURE = "unnoticed-rupture"


class Rater(StrEnum):
    """Who filled in a rating set."""

    PATIENT = "patient"
    THERAPIST = "therapist"


# The rater of a flag that compares the two raters' ratings (a discrepancy, an unnoticed
# rupture); not a choice of `--rater`.
BOTH: Final = "both"
FlagRater: TypeAlias = Rater | Literal["both"]


class Marker(StrEnum):
    """A rater's answer to "was there a rupture in the session?": the two marker types
    of the Rupture Resolution Rating System (Eubanks, Muran & Safran), or none."""

    NONE = "none"
    WITHDRAWAL = "withdrawal"
    CONFRONTATION = "confrontation"


class Direction(StrEnum):
    """Which rater scored higher, on a discrepancy flag."""

    THERAPIST_HIGHER = "therapist-higher"
    PATIENT_HIGHER = "patient-higher"


class PatientStatus(StrEnum):
    ACTIVE = "active"
    DISCHARGED = "discharged"


class GoalStatus(StrEnum):
    ACTIVE = "active"
    ACHIEVED = "achieved"
    DROPPED = "dropped"


class ProposedBy(StrEnum):
    """Who proposed a goal."""

    PATIENT = "patient"
    THERAPIST = "therapist"
    JOINT = "joint"


class TaskStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DROPPED = "dropped"


class Adherence(StrEnum):
    """How much of a task was done since the last review."""

    DONE = "done"
    PARTLY = "partly"
    NOT_DONE = "not-done"


class Ending(StrEnum):
    """How care ended (`patient discharge --ending`)."""

    MUTUAL = "mutual"
    DROPOUT = "dropout"
    REFERRED = "referred"
    MOVED = "moved"
    OTHER = "other"


# A discharge stored before schema 0009 has no ending; it is shown and tallied as this.
UNKNOWN_ENDING = "unknown"


class RepairOutcome(StrEnum):
    """Whether the alliance came back after a repair attempt (domain/repairs.py)."""

    REPAIRED = "repaired"
    NOT_YET = "not-yet"
    PENDING = "pending"
