"""Tables: a Rich table on a terminal, aligned plain text everywhere else.

Every cell is user-safe: control characters are escaped and, in Rich, cells are
`Text` objects so `[bold]` is shown as typed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from alliance_cli.render.console import rich_console, wants_rich
from alliance_cli.render.safe_text import one_line


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    *,
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    target = stream or sys.stdout
    cells = [[one_line(cell) for cell in row] for row in rows]
    if wants_rich(target):
        _rich_table(columns, cells, title, target)
    else:
        _plain_table(columns, cells, title, target)


def _plain_table(
    columns: Sequence[Column], rows: list[list[str]], title: str | None, stream: TextIO
) -> None:
    widths = [len(c.header) for c in columns]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if c.numeric else v.ljust(w)
            for v, w, c in zip(values, widths, columns, strict=True)
        ]
        return "  ".join(parts).rstrip()

    if title:
        stream.write(one_line(title) + "\n")
    stream.write(line([c.header for c in columns]) + "\n")
    for row in rows:
        stream.write(line(row) + "\n")


def _rich_table(
    columns: Sequence[Column], rows: list[list[str]], title: str | None, stream: TextIO
) -> None:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=Text(one_line(title)) if title else None, title_justify="left")
    for column in columns:
        table.add_column(column.header, justify="right" if column.numeric else "left")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    rich_console(stream).print(table)
