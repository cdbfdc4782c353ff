"""What `goal` and `task` share: dates as typed, their lists, their edits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, TypeVar

import typer

from alliance_cli.cli.common import OutputFormat, to_date
from alliance_cli.errors import InvalidInput
from alliance_cli.render.console import message

Shown = TypeVar("Shown")

ReviewDateOption = Annotated[
    str, typer.Option("--date", metavar="DATE", help="Review date (default today).")
]
NoteOption = Annotated[str | None, typer.Option("--note", help="What the review found.")]


def day(value: str, option: str = "--date") -> date:
    """The date of an option that has a default (`today`, YYYY-MM-DD ...)."""
    on = to_date(value, option)
    assert on is not None
    return on


def show_list(
    records: Sequence[Shown],
    fmt: OutputFormat,
    render: Callable[[Sequence[Shown], str], None],
    *,
    nouns: str,
    closed_too: bool,
) -> None:
    """A patient's goals or tasks (`nouns`), or a line on stderr when there are none."""
    if not records and fmt == OutputFormat.table:
        message(f"No {nouns} to show." + ("" if closed_too else f" (--all shows closed {nouns})"))
        return
    render(records, fmt.value)


def require_a_change(given: dict[str, object]) -> None:
    """An edit changes something: one of the options (name -> value typed) is given."""
    if all(value is None for value in given.values()):
        names = list(given)
        raise InvalidInput("nothing to change", f"give {', '.join(names[:-1])} or {names[-1]}")
