"""One patient's whole history as plain data: what every export format renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.instruments import Instrument
from alliance_cli.domain.records import GoalRecord, PatientProfile, SessionRecord, TaskRecord


@dataclass(frozen=True)
class PatientExport:
    """Everything stored about one patient, plus the flags computed from it."""

    profile: PatientProfile
    goals: tuple[GoalRecord, ...]  # with their reviews, in id order
    tasks: tuple[TaskRecord, ...]  # with their adherence reviews, in id order
    sessions: tuple[SessionRecord, ...]  # every rating set, date order (patient first)
    flags: tuple[Flag, ...]  # every flag every session raised (history)
    current_flags: tuple[Flag, ...]  # what needs attention on `generated`
    instruments: tuple[Instrument, ...]  # the instruments the sessions used
    generated: date  # the day the export was made
