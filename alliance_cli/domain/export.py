"""One patient's whole history as plain data: what every export format renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.instruments import Instrument
from alliance_cli.domain.records import GoalRecord, PatientProfile, SessionRecord, TaskRecord
from alliance_cli.domain.repairs import RepairRecord


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
    # Per instrument, the dimension cut-off of its rules (the `low_dimension` watch), if any:
    # the level line of the chart.
    dimension_cutoffs: dict[str, float] = field(default_factory=dict)
    repairs: tuple[RepairRecord, ...] = ()  # repair attempts with their outcome, by date
