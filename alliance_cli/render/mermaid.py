"""Mermaid `xychart-beta` line charts for the Markdown export (GitHub, GitLab, Obsidian...).

Readable at any number of sessions: up to `MAX_DATE_LABELS` sessions the x axis names
each one by its `MM-DD`; beyond that (or when two share a day, or the dates span more
than a year) it is numeric, `session 1 --> N`, whose ticks Mermaid spaces itself; the
title gives the date range either way. Mermaid 11 draws no legend, so the caller puts
`legend(...)` beside the block; the colours come from a palette set in an `init`
directive (the default theme draws the first line in near-white), and a level line
marks the cut-off. Everything in the block is generated or filtered: no user text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

MAX_DATE_LABELS = 12
# Okabe-Ito colours (told apart with the common colour-vision deficiencies), the same
# hues as the terminal chart: bond blue, goal green, task purple, the cut-off orange.
COLOURS = {
    "bond": ("blue", "#0072B2"),
    "goal": ("green", "#009E73"),
    "task": ("purple", "#CC79A7"),
    "cut-off": ("orange", "#E69F00"),
}
_SPARE = (("grey", "#999999"), ("sky blue", "#56B4E9"), ("vermilion", "#D55E00"))
_UNQUOTABLE = re.compile(r"[^A-Za-z0-9 ._:,()-]")


@dataclass(frozen=True)
class Line:
    """One series: `key` picks its colour ("bond", "goal", "task", "cut-off"), `label`
    is what the legend calls it (the handout's own words, say)."""

    key: str
    label: str
    values: tuple[float, ...]


def _quoted(text: str) -> str:
    """A Mermaid string: only characters no Mermaid version reads as syntax."""
    return '"' + (_UNQUOTABLE.sub("", text).strip() or "-") + '"'


def _colours(lines: Sequence[Line]) -> list[tuple[str, str]]:
    spare = iter(_SPARE * (len(lines) // len(_SPARE) + 1))
    return [COLOURS.get(line.key) or next(spare) for line in lines]


def legend(lines: Sequence[Line]) -> str:
    """The chart's legend as words: `bond (blue), goal (green), ..., cut-off 6 (orange)`."""
    return ", ".join(
        f"{line.label} ({name})" for line, (name, _) in zip(lines, _colours(lines), strict=True)
    )


def _x_axis(days: Sequence[date]) -> str:
    labels = [day.strftime("%m-%d") for day in days]
    span = (days[-1] - days[0]).days if days else 0
    if len(days) <= MAX_DATE_LABELS and len(set(labels)) == len(labels) and span < 365:
        return f'x-axis "date" [{", ".join(_quoted(label) for label in labels)}]'
    return f'x-axis "session" 1 --> {len(days)}'


def _number(value: float) -> str:
    """A plain decimal, one place at least (`8.0`, `4.25`; never `1e-05`, which Mermaid's
    grammar does not take)."""
    text = f"{value:.4f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def xychart(
    title: str,
    days: Sequence[date],
    lines: Sequence[Line],
    y_range: tuple[float, float] | None = None,
) -> str:
    """The body of a ```mermaid block: one line per series over `days` (in order)."""
    if any(len(line.values) != len(days) for line in lines):
        raise ValueError("every line needs one value per day")
    palette = ", ".join(hex_code for _, hex_code in _colours(lines))
    theme = {"themeVariables": {"xyChart": {"plotColorPalette": palette}}}
    dates = f"{days[0].isoformat()} to {days[-1].isoformat()}" if days else ""
    y_axis = f" {y_range[0]:g} --> {y_range[1]:g}" if y_range else ""
    return "\n".join(
        [
            f"%%{{init: {json.dumps(theme)}}}%%",
            "xychart-beta",
            f"    title {_quoted(', '.join(filter(None, [title, dates])))}",
            f"    {_x_axis(days)}",
            f'    y-axis "score"{y_axis}',
            *(
                f"    line {_quoted(line.label)} [{', '.join(map(_number, line.values))}]"
                for line in lines
            ),
        ]
    )
