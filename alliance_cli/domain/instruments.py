"""Alliance instruments: how typed numbers become bond, goal and task scores.

Only numbers and structure live here, never questionnaire item wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from alliance_cli.errors import InvalidInput

DIMENSIONS: tuple[str, str, str] = ("bond", "goal", "task")


@dataclass(frozen=True)
class Instrument:
    name: str
    minimum: float
    maximum: float
    decimals: int  # decimals allowed in an entered value


QUICK = Instrument(name="quick", minimum=0.0, maximum=10.0, decimals=1)
INSTRUMENTS: dict[str, Instrument] = {QUICK.name: QUICK}


@dataclass(frozen=True)
class Scores:
    """The three Bordin dimensions of one rating set, plus the raw item values."""

    bond: float
    goal: float
    task: float
    items: tuple[float, ...]

    def dimension(self, name: str) -> float:
        return float(getattr(self, name))


def parse_score(text: str, dimension: str, instrument: Instrument = QUICK) -> float:
    """Read one typed rating such as `7` or `6.5` and check it against the scale."""
    scale = f"{instrument.minimum:g}-{instrument.maximum:g}"
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(
            f"{dimension} rating {text!r} is not a number", f"give a number from {scale}"
        ) from None
    if not value.is_finite():
        raise InvalidInput(f"{dimension} rating {text!r} is not a number", f"use {scale}")
    if not instrument.minimum <= value <= instrument.maximum:
        raise InvalidInput(
            f"{dimension} rating {text} is out of range", f"the {instrument.name} scale is {scale}"
        )
    if _decimal_places(value) > instrument.decimals:
        raise InvalidInput(
            f"{dimension} rating {text} has too many decimals",
            f"use at most {instrument.decimals} decimal",
        )
    return float(value) + 0.0  # + 0.0 turns -0.0 into 0.0


def _decimal_places(value: Decimal) -> int:
    """Decimals that matter (7.50 has one), without rounding to the context precision."""
    if value == 0:
        return 0
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite values only
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing_zeros)


def quick_scores(bond: float, goal: float, task: float) -> Scores:
    """The `quick` instrument: bond, goal and task are entered directly."""
    return Scores(bond=bond, goal=goal, task=task, items=(bond, goal, task))


def score_changes(current: Scores, previous: Scores | None) -> dict[str, float | None]:
    """Change of each dimension since the previous rating set (None when there is none)."""
    if previous is None:
        return {name: None for name in DIMENSIONS}
    return {
        name: round(current.dimension(name) - previous.dimension(name), 2) for name in DIMENSIONS
    }
