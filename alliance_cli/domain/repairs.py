"""Repair attempts: which flag one answers, and whether the alliance came back after it.

A repair is linked to the flag it answered (flags are computed, so the link is the
flag's identity). Its outcome is read from the sessions after it, of the same rater and
instrument as the flag: `repaired` once one is back within the flag's repair rule,
`not-yet` while later sessions are not, `pending` before any later session. The rules:
a rupture is repaired as `flag_rules.rupture_at` says (back within max(SD, half the
minimum size) of the usual level); a drop once the score is back at or above the level
before the drop; a low score once it is back at or above the cut-off.

Strategies follow rupture resolution research (Safran & Muran; Eubanks, Muran & Safran
2018); see ../shared/reference/clinical.md, "Repair".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from alliance_cli.domain.flag_model import SEVERITY_RANK, Flag, Rating
from alliance_cli.domain.flag_rules import EPSILON, rupture_at
from alliance_cli.domain.rules import Thresholds
from alliance_cli.domain.vocabulary import FlagKind, RepairOutcome, Severity

STRATEGIES = (
    "acknowledge",
    "explore",
    "validate",
    "metacommunicate",
    "revisit-goals",
    "renegotiate-tasks",
    "other",
)
# flags with a rule that says "back again"
LINKED_KINDS = (FlagKind.RUPTURE, FlagKind.DROP, FlagKind.LOW)
REPAIRED, NOT_YET, PENDING = RepairOutcome.REPAIRED, RepairOutcome.NOT_YET, RepairOutcome.PENDING
OUTCOMES = tuple(RepairOutcome)


@dataclass(frozen=True)
class FlagLink:
    """The identity of the flag a repair answered."""

    kind: str
    dimension: str | None
    date: date
    rater: str | None
    instrument: str | None


@dataclass(frozen=True)
class RepairRecord:
    id: int
    patient: str
    date: date
    strategy: str
    note: str | None
    flag: FlagLink | None
    outcome: RepairOutcome | None  # None: not linked to a flag, so there is no rule to judge by


def flag_to_answer(current: Iterable[Flag]) -> FlagLink | None:
    """Of the current flags, the one a repair answers: the most severe, then the latest,
    then rupture before drop before low, the total before a dimension."""
    candidates = [f for f in current if f.kind in LINKED_KINDS and f.severity != Severity.INFO]
    if not candidates:
        return None
    best = min(
        candidates,
        key=lambda f: (
            SEVERITY_RANK[f.severity],
            -f.date.toordinal(),
            LINKED_KINDS.index(f.kind),
            f.dimension != "total",
            f.dimension or "",
        ),
    )
    return FlagLink(best.kind, best.dimension, best.date, best.rater, best.instrument)


def _series(link: FlagLink, ratings: Iterable[Rating]) -> list[Rating]:
    return sorted(
        (r for r in ratings if r.rater == link.rater and r.instrument == link.instrument),
        key=lambda r: r.date,
    )


def _back_to(link: FlagLink, series: Sequence[Rating], rules: Thresholds) -> float | None:
    """The score (of the flag's dimension) a later session must reach; None when the
    flagged session is no longer stored."""
    index = next((i for i, r in enumerate(series) if r.date == link.date), None)
    if index is None:
        return None
    flagged = series[index]
    name = link.dimension or "total"
    previous = series[index - 1] if index else None
    if link.kind == FlagKind.RUPTURE:
        totals = [r.total for r in series[:index]]
        found = rupture_at(flagged, previous, index, sum(totals), sum(t * t for t in totals), rules)
        if found is not None:
            return found.back_to
    if link.kind == FlagKind.LOW:
        cutoff = rules.low_total if name == "total" else rules.low_dimension
        if cutoff is not None:
            return cutoff
    if previous is not None:  # a drop, or a rule since changed: the level before the fall
        return previous.score(name)
    return flagged.score(name) + EPSILON * 2  # nothing before it: any rise


def repair_outcome(
    link: FlagLink | None, on: date, ratings: Iterable[Rating], rules: Thresholds
) -> RepairOutcome | None:
    """`repaired`, `not-yet` or `pending` for a repair made on `on` (see module doc);
    None for a repair not linked to a flag."""
    if link is None:
        return None
    series = _series(link, ratings)
    later = [r for r in series if r.date > on]
    if not later:
        return PENDING
    target = _back_to(link, series, rules)
    if target is None:
        return NOT_YET
    name = link.dimension or "total"
    if any(r.score(name) >= target - EPSILON for r in later):
        return REPAIRED
    return NOT_YET


def outcome_counts(records: Iterable[RepairRecord]) -> dict[str, int]:
    """How many attempts had each outcome (`unlinked`: no flag to judge by)."""
    counts = dict.fromkeys((*OUTCOMES, "unlinked"), 0)
    for record in records:
        counts[record.outcome or "unlinked"] += 1
    return counts
