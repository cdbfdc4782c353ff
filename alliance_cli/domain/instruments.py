"""Alliance instruments: how typed numbers become bond, goal, task and total scores.

Only numbers and structure live here, never questionnaire item wording (copyrighted).
Built-in instruments: `quick` (bond/goal/task entered directly, 0-10), `wai-sr`
(12 items 1-5, Hatcher & Gillaspy 2006 keys) and `srs` (4 items 0-10, Duncan et al.
2003). Clinics can add their own in the config file (see `config.py`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

from alliance_cli.errors import InvalidInput

DIMENSIONS: tuple[str, str, str] = ("bond", "goal", "task")
SCORES: tuple[str, str, str, str] = ("bond", "goal", "task", "total")
DimensionScore = Literal["value", "mean", "sum"]


@dataclass(frozen=True)
class Instrument:
    """An instrument's structure: items, their range, and which items make which score."""

    name: str
    title: str
    item_count: int
    item_min: float
    item_max: float
    decimals: int  # decimals allowed in an entered item value
    keys: Mapping[str, tuple[int, ...]]  # score name -> 1-based item numbers
    dimension_score: DimensionScore  # how a dimension is computed from its items
    source: str = ""
    direct_entry: bool = False  # True for `quick`: --bond/--goal/--task, not --items
    builtin: bool = True
    extra: tuple[str, ...] = field(default=())  # further named scores (e.g. SRS overall)
    item_labels: tuple[str, ...] = field(default=())  # short published item names, if any
    client_form: bool = False  # built and validated for the patient's rating only

    def item_label(self, number: int) -> str:
        """What item `number` (1-based) is about: its published short name, else its scores.

        Structure only (`bond`, `relationship`), never the copyrighted item wording.
        """
        if len(self.item_labels) >= number:
            return self.item_labels[number - 1]
        return ", ".join(name for name, items in self.keys.items() if number in items)

    def dimension_range(self, name: str) -> tuple[float, float]:
        if name == "total":
            return self.item_min * self.item_count, self.item_max * self.item_count
        size = len(self.keys[name])
        if self.dimension_score == "sum":
            return self.item_min * size, self.item_max * size
        return self.item_min, self.item_max

    @property
    def scale(self) -> str:
        return f"{self.item_min:g}-{self.item_max:g}"


QUICK = Instrument(
    name="quick",
    title="Quick bond/goal/task rating, 0-10",
    item_count=3,
    item_min=0.0,
    item_max=10.0,
    decimals=1,
    keys={"bond": (1,), "goal": (2,), "task": (3,)},
    dimension_score="value",
    source="project default: one 0-10 rating per Bordin dimension",
    direct_entry=True,
)
WAI_SR = Instrument(
    name="wai-sr",
    title="Working Alliance Inventory, short revised (client), 12 items 1-5",
    item_count=12,
    item_min=1.0,
    item_max=5.0,
    decimals=0,
    keys={"task": (1, 2, 10, 12), "bond": (3, 5, 7, 9), "goal": (4, 6, 8, 11)},
    dimension_score="mean",
    source="Hatcher & Gillaspy 2006; keys as in published scoring guides",
    client_form=True,
)
SRS = Instrument(
    name="srs",
    title="Session Rating Scale, 4 items 0-10",
    item_count=4,
    item_min=0.0,
    item_max=10.0,
    decimals=1,
    keys={"bond": (1,), "goal": (2,), "task": (3,), "overall": (4,)},
    dimension_score="value",
    source="Duncan, Miller et al. 2003",
    extra=("overall",),
    item_labels=("relationship", "goals and topics", "approach or method", "overall"),
)
BUILTIN_INSTRUMENTS: dict[str, Instrument] = {i.name: i for i in (QUICK, WAI_SR, SRS)}
INSTRUMENTS = BUILTIN_INSTRUMENTS  # kept for callers that only need the built-ins


def rater_warning(instrument: Instrument, rater: str) -> str | None:
    """Why a therapist's rating on a client form needs care (said once, when it starts)."""
    if rater != "therapist" or not instrument.client_form:
        return None
    return (
        f"{instrument.name} is a client form: therapist ratings on it are not validated, and "
        "its short forms work poorly for therapists (a separate therapist short form exists: "
        "Hatcher, Lindqvist & Falkenstroem 2020); define a therapist form in the config file"
    )


@dataclass(frozen=True)
class Scores:
    """The Bordin dimensions and total of one rating set, plus the raw item values."""

    bond: float
    goal: float
    task: float
    items: tuple[float, ...]
    total: float = 0.0
    extra: Mapping[str, float] = field(default_factory=dict)

    def dimension(self, name: str) -> float:
        return float(getattr(self, name))


def _decimal_places(value: Decimal) -> int:
    """Decimals that matter (7.50 has one), without rounding to the context precision."""
    if value == 0:
        return 0
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite values only
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing_zeros)


def parse_value(text: str, label: str, instrument: Instrument = QUICK) -> float:
    """Read one typed value such as `7` or `6.5` and check it against the item scale."""
    scale = instrument.scale
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidInput(
            f"{label} {text!r} is not a number", f"give a number from {scale}"
        ) from None
    if not value.is_finite():
        raise InvalidInput(f"{label} {text!r} is not a number", f"use {scale}")
    if not Decimal(str(instrument.item_min)) <= value <= Decimal(str(instrument.item_max)):
        raise InvalidInput(
            f"{label} is {text}, out of range", f"the {instrument.name} scale is {scale}"
        )
    if _decimal_places(value) > instrument.decimals:
        hint = (
            "use whole numbers"
            if instrument.decimals == 0
            else f"use at most {instrument.decimals} decimal"
        )
        raise InvalidInput(f"{label} is {text}, too many decimals", hint)
    return float(value) + 0.0  # + 0.0 turns -0.0 into 0.0


def parse_score(text: str, dimension: str, instrument: Instrument = QUICK) -> float:
    """A typed `quick` rating (`--bond 7.5`)."""
    return parse_value(text, f"{dimension} rating", instrument)


def parse_items(text: str, instrument: Instrument) -> tuple[float, ...]:
    """`--items 4,5,3,...`: the item values in item order, separated by commas or spaces."""
    separated = text.replace(";", ",")
    parts = separated.split(",") if "," in separated else separated.split()
    parts = parts or [""]
    if len(parts) != instrument.item_count:
        raise InvalidInput(
            f"{instrument.name} needs {instrument.item_count} item values, got {len(parts)}",
            f"give --items as {instrument.item_count} numbers in item order, "
            "separated by commas or spaces",
        )
    return tuple(
        parse_value(part, f"item {number}", instrument) for number, part in enumerate(parts, 1)
    )


def _combine(values: Sequence[float], how: DimensionScore) -> float:
    if how == "sum":
        return round(sum(values), 4)
    if how == "mean":
        return round(sum(values) / len(values), 4)
    return values[0]


def score_items(instrument: Instrument, items: Sequence[float]) -> Scores:
    """Scores of a complete, already validated set of item values."""
    if len(items) != instrument.item_count:
        raise InvalidInput(f"{instrument.name} needs {instrument.item_count} item values")

    def keyed(name: str) -> float:
        return _combine([items[n - 1] for n in instrument.keys[name]], instrument.dimension_score)

    return Scores(
        bond=keyed("bond"),
        goal=keyed("goal"),
        task=keyed("task"),
        items=tuple(items),
        total=round(sum(items), 4),
        extra={name: keyed(name) for name in instrument.extra},
    )


def quick_scores(bond: float, goal: float, task: float) -> Scores:
    """The `quick` instrument: bond, goal and task are entered directly; total is their sum."""
    return score_items(QUICK, (bond, goal, task))


def score_changes(current: Scores, previous: Scores | None) -> dict[str, float | None]:
    """Change of each dimension since the previous rating set (None when there is none)."""
    if previous is None:
        return {name: None for name in DIMENSIONS}
    return {
        name: round(current.dimension(name) - previous.dimension(name), 2) for name in DIMENSIONS
    }
