"""One event, one line: the flags one session raised for one patient (and rater), together.

A rupture usually raises a rupture, a `low` and a `drop` per dimension on the same day;
listed one per line they read as five problems. `group_by_event` folds them into one
`FlagEvent` whose text names each kind once, most severe first:

    rupture: total 12.0 (usual 27.0, SD 0.0); drop: bond -5.0, goal -5.0, task -5.0;
    low: total 12.0 below the cut-off 21.0

Flags that no session raised (`no-contact`, `tasks-missed`) stay events of their own.
Pure: the same flags, in any order, always give the same events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flag_model import SEVERITY_RANK, Flag
from alliance_cli.domain.vocabulary import BOTH, FlagKind, Rater, Severity

# Within one severity, the kind that explains the others first.
KIND_ORDER = (
    FlagKind.UNNOTICED_RUPTURE,
    FlagKind.REPORTED_RUPTURE,
    FlagKind.RUPTURE,
    FlagKind.EARLY_RISK,
    FlagKind.DROP,
    FlagKind.LOW,
    FlagKind.DECLINE,
    FlagKind.DISCREPANCY,
    FlagKind.NO_CONTACT,
    FlagKind.TASKS_MISSED,
)
_KIND_RANK = {kind: rank for rank, kind in enumerate(KIND_ORDER)}
_SCORE_RANK = {"bond": 0, "goal": 1, "task": 2, "total": 3}
_LABELS = {FlagKind.DISCREPANCY: "discrepancy (patient vs therapist)"}


@dataclass(frozen=True)
class FlagEvent:
    """What one session raised for one patient and rater (or one flag no session raised)."""

    patient: str
    date: date
    rater: Rater | None
    severity: Severity  # the most severe of its flags
    flags: tuple[Flag, ...]  # most severe first
    clinician: str = ""

    @property
    def kinds(self) -> tuple[FlagKind, ...]:
        """Each kind once, in the order the text names them."""
        return tuple(dict.fromkeys(f.kind for f in self.flags))

    @property
    def text(self) -> str:
        """One line naming every kind: `kind: what, what; kind: what`."""
        parts = []
        for kind in self.kinds:
            flags = [f for f in self.flags if f.kind == kind]
            if all(f.brief for f in flags):
                parts.append(f"{_LABELS.get(kind, kind)}: " + ", ".join(f.brief for f in flags))
            else:
                parts.append(f"{kind}: " + "; ".join(_without_rater(f) for f in flags))
        who = f"{self.rater} rating: " if self.rater == Rater.THERAPIST else ""
        return who + "; ".join(parts)


def _without_rater(flag: Flag) -> str:
    prefix = f"{flag.rater} rating: "
    return flag.message.removeprefix(prefix) if flag.rater else flag.message


def _order(flag: Flag) -> tuple[int, int, int, str]:
    return (
        SEVERITY_RANK[flag.severity],
        _KIND_RANK.get(flag.kind, len(KIND_ORDER)),
        _SCORE_RANK.get(flag.dimension or "", len(_SCORE_RANK)),
        flag.message,
    )


def _event_key(flag: Flag) -> tuple[str, str, date, Rater | None, str]:
    """Flags of one session share patient, date and rater; a flag on both raters'
    sets (a discrepancy, an unnoticed rupture) joins the patient's; any other is alone."""
    alone = "" if flag.rater else f"{flag.kind}\0{flag.message}"
    rater = Rater.PATIENT if flag.rater == BOTH else flag.rater
    return (flag.clinician, flag.patient, flag.date, rater, alone)


def group_by_event(flags: Iterable[Flag]) -> list[FlagEvent]:
    """Flags as events: one patient's events together (patients by their most severe
    event, then code), each patient's most severe first, then the latest first."""
    grouped: dict[tuple[str, str, date, Rater | None, str], list[Flag]] = {}
    for flag in flags:
        grouped.setdefault(_event_key(flag), []).append(flag)
    events = []
    for (clinician, patient, when, rater, _), members in grouped.items():
        ordered = tuple(sorted(set(members), key=_order))
        events.append(
            FlagEvent(
                patient=patient,
                date=when,
                rater=rater,
                severity=ordered[0].severity,
                flags=ordered,
                clinician=clinician,
            )
        )
    worst: dict[tuple[str, str], int] = {}
    for event in events:
        who = (event.clinician, event.patient)
        worst[who] = min(worst.get(who, len(SEVERITY_RANK)), SEVERITY_RANK[event.severity])

    def position(event: FlagEvent) -> tuple[int, str, str, int, int, str, str]:
        return (
            worst[(event.clinician, event.patient)],
            event.clinician,
            event.patient,
            SEVERITY_RANK[event.severity],
            -event.date.toordinal(),
            event.rater or "",
            event.text,
        )

    return sorted(events, key=position)
