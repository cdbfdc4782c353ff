"""Goal Attainment Scaling (Kiresuk & Sherman 1968): levels, the T-score, plain words.

Each goal is rated on five levels: -2 much less than expected, -1 less than expected,
0 the expected outcome, +1 more, +2 much more. Where the patient starts (the baseline) is
-1, or -2 where the patient could be worse still (Turner-Stokes 2009). A goal may weigh
more than another (weight > 0, default 1).

The T-score over a patient's goals, with rho = 0.3 (the usual correlation between goals):

    T = 50 + 10 * sum(w_i x_i) / sqrt((1 - rho) * sum(w_i^2) + rho * (sum w_i)^2)

over the latest GAS level of each goal that has one. Every goal at 0 gives 50; above 50,
better than expected overall. Pure: no I/O; imports nothing of ours but errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from alliance_cli.errors import InvalidInput

if TYPE_CHECKING:
    from alliance_cli.domain.records import GoalRecord

RHO = 0.3
LEVELS = (-2, -1, 0, 1, 2)
BASELINES = (-1, -2)
DEFAULT_BASELINE = -1
DEFAULT_WEIGHT = 1.0
MAX_WEIGHT = 100.0  # far above any weighting in use (importance x difficulty <= 9)
EXPECTED = 0  # the expected outcome: a goal at or above it is reached as hoped

# FHIR R4 goal-achievement codes (http://terminology.hl7.org/CodeSystem/goal-achievement)
WORSENING, NO_CHANGE, IMPROVING, ACHIEVED = "worsening", "no-change", "improving", "achieved"

# For the patient's handout: what each level means, without the numbers.
PLAIN_LEVELS = {
    -2: "much less than hoped",
    -1: "less than hoped",
    0: "as hoped",
    1: "more than hoped",
    2: "much more than hoped",
}
# For clinicians: the scale's own words.
LEVEL_WORDS = {
    -2: "much less than expected",
    -1: "less than expected",
    0: "expected outcome",
    1: "more than expected",
    2: "much more than expected",
}


@dataclass(frozen=True)
class GasGoal:
    """One goal as the T-score needs it: its latest level, weight and baseline."""

    level: int
    weight: float = DEFAULT_WEIGHT
    baseline: int = DEFAULT_BASELINE


def gas_t_score(goals: Sequence[GasGoal], rho: float = RHO) -> float | None:
    """The GAS T-score of `goals` (each at its latest level); None for no goal.

    Weights must be positive (checked where they are typed: `check_weight`).
    """
    if not goals:
        return None
    weighted = math.fsum(g.weight * g.level for g in goals)
    squares = math.fsum(g.weight * g.weight for g in goals)
    total = math.fsum(g.weight for g in goals)
    spread = math.sqrt((1 - rho) * squares + rho * total * total)
    return 50.0 + 10.0 * weighted / spread


def rated_goals(goals: Iterable[GoalRecord]) -> list[GasGoal]:
    """Each goal with a GAS review, at its latest level.

    Dropped goals count: a goal set aside keeps the level it was last rated at.
    Leaving it out would let dropping the goals that went badly raise the score, and GAS
    rates every goal that was scaled (Kiresuk & Sherman). A goal never rated on the scale
    (dropped or not) has no level and does not count.
    """
    return [GasGoal(goal.gas, goal.weight, goal.baseline) for goal in goals if goal.gas is not None]


def patient_t_score(goals: Iterable[GoalRecord]) -> float | None:
    """The patient's GAS T over the latest level of every goal rated; None before any."""
    return gas_t_score(rated_goals(goals))


def shown_t(score: float) -> float:
    """A T-score as shown and exported: one decimal."""
    return round(score, 1)


def reached(level: int) -> bool:
    """Reached as hoped: the expected outcome or better."""
    return level >= EXPECTED


def achievement(level: int, baseline: int) -> str:
    """The FHIR goal-achievement code of a goal's latest level, relative to where the
    patient started: below the baseline worsening, at it no-change, above it but below
    the expected outcome improving, the expected outcome or above achieved."""
    if level >= EXPECTED:
        return ACHIEVED
    if level > baseline:
        return IMPROVING
    if level == baseline:
        return NO_CHANGE
    return WORSENING


def _integer(value: str, what: str, choices: Sequence[int]) -> int:
    text = value.strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or number not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise InvalidInput(f"{what} {value!r} must be one of {allowed}")
    return number


def check_level(value: str) -> int:
    """A GAS level as typed: a whole number from -2 to 2 (`+1` is 1)."""
    return _integer(value, "GAS level", LEVELS)


def check_baseline(value: str) -> int:
    """A baseline as typed: -1 (the default) or -2 (the patient could be worse still)."""
    return _integer(value, "baseline", BASELINES)


def check_weight(value: str) -> float:
    """A goal's weight as typed: a positive number, at most MAX_WEIGHT."""
    try:
        weight = float(value.strip())
    except ValueError:
        raise InvalidInput(f"weight {value!r} is not a number") from None
    if not math.isfinite(weight):
        raise InvalidInput(f"weight {value!r} is not a number")
    if weight <= 0 or weight > MAX_WEIGHT:
        raise InvalidInput(f"weight {value!r} must be above 0 and at most {MAX_WEIGHT:g}")
    return weight


def level_text(level: int) -> str:
    """`+1`, `0`, `-2`: a level with its sign."""
    return f"{level:+d}" if level else "0"
