"""Tables: a Rich table on a terminal, aligned plain text everywhere else.

Every cell is user-safe: control characters are escaped and, in Rich, cells are
`Text` objects so `[bold]` is shown as typed.

A table fits the width it is given (the terminal's, else 80) without cutting a value:
free-text columns (`wrap`) fold onto more lines at word boundaries, and a view may give
narrower layouts (fewer or merged columns, shorter headers) to try in turn, borders
being given up before information. Values (codes, dates, scores) are never cut; when
even the narrowest layout does not fit, a view may ask for one record per block
(`header: value` lines) instead of a table that would cut them.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TextIO

from alliance_cli.render.console import rich_console, wants_rich
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.wrap import cell_width

WRAP_MIN = 16  # a folded column is never narrower than this (or its header)
WORD_MAX = 20  # longer words may be folded inside (a URL in a note), never shorter ones


@dataclass(frozen=True)
class Column:
    header: str
    numeric: bool = False
    wrap: bool = False  # free text: folded at word boundaries when space is short
    together: bool = False  # our own text: a number stays with its word (`keep_together`)


@dataclass(frozen=True)
class Styled:
    """A cell with a Rich style (colour on a terminal); its text is what plain shows."""

    text: str
    style: str

    def __str__(self) -> str:
        return self.text


Cell = str | Styled


@dataclass(frozen=True)
class Layout:
    """One way to show a table: its columns and a row of cells per record."""

    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class _Frame:
    """What a table's frame costs: per column, and once."""

    per_column: int
    once: int
    boxed: bool


_BOXED = _Frame(per_column=3, once=1, boxed=True)  # "│ a │ b │"
_LIGHT = _Frame(per_column=2, once=-2, boxed=False)  # "a  b", a rule under the header
_PLAIN = _Frame(per_column=2, once=-2, boxed=False)


def table_width(stream: TextIO | None = None) -> int:
    """The width to fit: the terminal's (COLUMNS wins), else 80."""
    target = stream or sys.stdout
    if wants_rich(target):
        return rich_console(target).width
    return shutil.get_terminal_size((80, 24)).columns


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[Cell]],
    *,
    title: str | None = None,
    stream: TextIO | None = None,
    narrower: Sequence[Layout] = (),
    stack: bool = False,
) -> None:
    """The first layout (this one, then each of `narrower`) that fits the width; with
    `stack`, records as `header: value` blocks when none fits."""
    target = stream or sys.stdout
    rich = wants_rich(target)
    width = table_width(target)
    layouts = [_safe(Layout(columns, rows)), *(_safe(layout) for layout in narrower)]
    frames = (_BOXED, _LIGHT) if rich else (_PLAIN,)
    for layout in layouts:
        for frame in frames:
            widths = fit(layout, width, frame)
            if widths is not None:
                _render(layout, widths, frame, title, target, rich)
                return
    if stack:
        _stacked(layouts[0], title, target, rich)
        return
    last = layouts[-1]  # too wide: as before, Rich shares the width out its own way
    _render(last, None, frames[0], title, target, rich)


def _safe(layout: Layout) -> Layout:
    """Cells escaped (`one_line`); then, where asked, numbers tied to their words (after
    escaping, so the tie can never be a character the user typed)."""

    def safe(cell: Cell, column: Column) -> Cell:
        text = one_line(str(cell))
        text = keep_together(text) if column.together else text
        return Styled(text, cell.style) if isinstance(cell, Styled) else text

    rows = [
        [safe(c, col) for c, col in zip(row, layout.columns, strict=True)] for row in layout.rows
    ]
    return Layout(layout.columns, rows)


def _natural(layout: Layout) -> list[int]:
    widths = [cell_width(c.header) for c in layout.columns]
    for row in layout.rows:
        widths = [max(w, cell_width(str(cell))) for w, cell in zip(widths, row, strict=True)]
    return widths


def _least(layout: Layout, index: int, natural: int) -> int:
    """How narrow a column may get: a value column not at all, free text to its longest
    word (up to WORD_MAX) and at least WRAP_MIN, and never below its header."""
    column = layout.columns[index]
    if not column.wrap:
        return natural
    words = (w for row in layout.rows for w in str(row[index]).split(" "))
    longest = max((min(cell_width(w), WORD_MAX) for w in words), default=0)
    return min(natural, max(cell_width(column.header), longest, WRAP_MIN))


def fit(layout: Layout, width: int, frame: _Frame = _PLAIN) -> list[int] | None:
    """Column widths that fit `width` with this frame, or None: free text gets what the
    values leave, shared out in proportion to what each would need to stay on one line."""
    natural = _natural(layout)
    least = [_least(layout, i, n) for i, n in enumerate(natural)]
    frame_cost = frame.per_column * len(natural) + frame.once
    room = width - frame_cost
    if sum(least) > room:
        return None
    spare = room - sum(least)
    wanted = [n - m for n, m in zip(natural, least, strict=True)]
    if sum(wanted) <= spare:
        return natural
    widths = list(least)
    total_wanted = sum(wanted)
    for i, want in enumerate(wanted):
        widths[i] += want * spare // total_wanted
    leftover = room - sum(widths)
    for i in sorted(range(len(widths)), key=lambda i: -wanted[i]):
        if leftover <= 0:
            break
        if widths[i] < natural[i]:
            widths[i] += 1
            leftover -= 1
    return widths


def _render(
    layout: Layout,
    widths: list[int] | None,
    frame: _Frame,
    title: str | None,
    stream: TextIO,
    rich: bool,
) -> None:
    if rich:
        _rich_table(layout, widths, frame, title, stream)
    else:
        _plain_table(layout, widths or _natural(layout), title, stream)


def _pad(text: str, width: int, numeric: bool) -> str:
    space = " " * max(0, width - cell_width(text))
    return space + text if numeric else text + space


def _plain_table(layout: Layout, widths: list[int], title: str | None, stream: TextIO) -> None:
    columns = layout.columns

    def lines(values: Sequence[str]) -> list[str]:
        folded = [
            _fold(v, w) if c.wrap else [v] for v, w, c in zip(values, widths, columns, strict=True)
        ]
        height = max(len(f) for f in folded)
        return [
            "  ".join(
                _pad(f[n] if n < len(f) else "", w, c.numeric)
                for f, w, c in zip(folded, widths, columns, strict=True)
            ).rstrip(" ")
            for n in range(height)
        ]

    if title:
        stream.write(one_line(title) + "\n")
    stream.write("\n".join(lines([c.header for c in columns])) + "\n")
    for row in layout.rows:
        stream.write("\n".join(lines([str(cell) for cell in row])) + "\n")


def _fold(text: str, width: int) -> list[str]:
    """Free text on lines of `width`, broken at spaces: never inside a date's hyphens,
    nor where `keep_together` tied two words (the tie is shown as a space)."""
    if cell_width(text) <= width:
        return [text.replace(TIE, " ")]
    lines = textwrap.wrap(text, width, break_on_hyphens=False) or [""]
    return [line.replace(TIE, " ") for line in lines]


TIE = "\x1f"  # a control character: in an escaped cell it can only be ours
_NUMBER_AFTER = re.compile(r"(?<=\S) (?=[-+]?\d|->|vs\b)")
_AFTER_ARROW = re.compile(r"(?<=->|vs) (?=\S)")


def keep_together(text: str) -> str:
    """`bond 9.5 vs 6.5`, `cut-off 21.0`, `(18.5 -> 14.5)` never split over two lines:
    the space before a number (or `->`, `vs`) and after `->` / `vs` becomes a tie,
    which `_fold` breaks nowhere and prints as a space."""
    return _AFTER_ARROW.sub(TIE, _NUMBER_AFTER.sub(TIE, text))


def _rich_table(
    layout: Layout, widths: list[int] | None, frame: _Frame, title: str | None, stream: TextIO
) -> None:
    """With `widths` (a fitted layout) each column gets exactly its width; without,
    Rich's own sharing (it may wrap or cut: only for tables that do not ask to fit)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    heading = Text(one_line(title)) if title else None
    if frame.boxed:
        table = Table(title=heading, title_justify="left")
    else:  # no edges, a rule under the header, two spaces between columns
        table = Table(
            title=heading,
            title_justify="left",
            box=box.SIMPLE_HEAVY,
            show_edge=False,
            pad_edge=False,
            padding=(0, 1, 0, 0),
        )
    sizes: Sequence[int | None] = widths or [None] * len(layout.columns)
    for column, width in zip(layout.columns, sizes, strict=True):
        justify: Literal["left", "right"] = "right" if column.numeric else "left"
        if width is None:
            table.add_column(column.header, justify=justify)
        elif column.wrap:
            table.add_column(column.header, justify=justify, width=width, overflow="fold")
        else:
            table.add_column(column.header, justify=justify, min_width=width, no_wrap=True)
    for row in layout.rows:
        cells = []
        for cell, column, width in zip(row, layout.columns, sizes, strict=True):
            text = str(cell)
            if (
                column.wrap and width is not None
            ):  # folded as in plain text: the same breaks, none inside a value
                text = "\n".join(_fold(text, width))
            cells.append(Text(text, style=cell.style if isinstance(cell, Styled) else ""))
        table.add_row(*cells)
    rich_console(stream).print(table)


def _stacked(layout: Layout, title: str | None, stream: TextIO, rich: bool) -> None:
    """Each record as `header: value` lines, long values folded under themselves: the last
    resort, which cuts nothing."""
    console = rich_console(stream) if rich else None
    if title:
        stream.write(one_line(title) + "\n")
    label = max(cell_width(c.header) for c in layout.columns)
    room = max(table_width(stream) - label - 2, WRAP_MIN)
    for number, row in enumerate(layout.rows):
        if number:
            stream.write("\n")
        for column, cell in zip(layout.columns, row, strict=True):
            if not str(cell):
                continue
            lines = _fold(str(cell), room) if column.wrap else [str(cell).replace(TIE, " ")]
            text = ("\n" + " " * (label + 2)).join(lines)
            head = _pad(column.header, label, False) + "  "
            if console is not None and isinstance(cell, Styled):
                from rich.text import Text

                console.print(Text(head) + Text(text, style=cell.style), soft_wrap=True)
            else:
                stream.write(head + text + "\n")
