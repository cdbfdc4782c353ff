"""From what was typed (`--bond/--goal/--task` or `--items`) to scores, per instrument."""

from __future__ import annotations

from dataclasses import dataclass

from alliance_cli.domain.instruments import (
    DIMENSIONS,
    Instrument,
    Scores,
    parse_items,
    parse_score,
    score_items,
)
from alliance_cli.errors import InvalidInput


@dataclass(frozen=True)
class RawRating:
    """Values as typed; None = not given."""

    bond: str | None = None
    goal: str | None = None
    task: str | None = None
    items: str | None = None

    @property
    def empty(self) -> bool:
        return self == RawRating()

    def given_dimensions(self) -> dict[str, str]:
        values = {"bond": self.bond, "goal": self.goal, "task": self.task}
        return {name: value for name, value in values.items() if value is not None}


def check_entry(instrument: Instrument, raw: RawRating, code: str = "the patient") -> None:
    """`--items` belongs to item instruments, `--bond/--goal/--task` to `quick`."""
    if instrument.direct_entry and raw.items is not None:
        raise InvalidInput(
            f"--items does not apply: {code} is rated with {instrument.name}",
            "give --bond, --goal and --task",
        )
    if not instrument.direct_entry and raw.given_dimensions():
        raise InvalidInput(
            f"--bond/--goal/--task do not apply: {code} is rated with {instrument.name}",
            f"give --items with {instrument.item_count} comma-separated values from "
            f"{instrument.scale}",
        )


def check_given(instrument: Instrument, raw: RawRating) -> None:
    """Check the values that were typed, before asking for the rest."""
    check_entry(instrument, raw)
    for name, value in raw.given_dimensions().items():
        parse_score(value, name, instrument)
    if raw.items is not None:
        parse_items(raw.items, instrument)


def missing_entries(instrument: Instrument, raw: RawRating) -> list[str]:
    """What still has to be asked for: dimension names, or `items`."""
    if instrument.direct_entry:
        return [name for name in DIMENSIONS if name not in raw.given_dimensions()]
    return [] if raw.items is not None else ["items"]


def scores_from_input(instrument: Instrument, raw: RawRating) -> Scores:
    """Parse and score a complete entry (check_entry first for a friendly message)."""
    check_entry(instrument, raw)
    missing = missing_entries(instrument, raw)
    if missing:
        raise InvalidInput("missing " + ", ".join(f"--{name}" for name in missing))
    if instrument.direct_entry:
        given = raw.given_dimensions()
        values = tuple(parse_score(given[name], name, instrument) for name in DIMENSIONS)
        return score_items(instrument, values)
    assert raw.items is not None
    return score_items(instrument, parse_items(raw.items, instrument))
