"""Alliance scores over time as a text chart, drawn with plotext 6.

plotext is imported only inside `render_chart` (start-up budget, ruff TID253). Its one
master figure (`plotext.figure`) is global: every call clears it before and after use, under
a lock, and restores the terminal size limits it lifts, so two calls never share state.

What plotext draws here is only the frame, the ticks and the data. The title row above and
the legend rows below are composed by this module, so that:

- a title wider than the chart is shortened with "…" instead of silently dropped (plotext
  drops a title that does not fit), and East Asian wide characters are counted as two
  terminal cells (plotext counts every character as one);
- the legend never covers the first sessions (plotext draws its legend box inside the
  canvas, two rows per entry).

Colourless output comes from `matrix.string(colorless=True)` on the built figure plus the
"colorless" theme: plotext 6 emits `ESC[0m` around every row even with that theme alone.
Values plotext cannot draw are dealt with before they reach its C kernel, which aborts the
whole process (std::bad_alloc, not an exception) on NaN, infinity or a huge score: non-finite
points are left out and the others are clamped to [y_min, y_max]. Both axes get explicit
limits and ticks: left to itself, plotext takes the x range from the points inside the y
limits only, and may label two ticks with the same day.
"""

from __future__ import annotations

import math
import shutil
import threading
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from alliance_cli.adapters.plotext_internals import import_plotext, unclipped
from alliance_cli.render.safe_text import one_line

# Smallest chart that still shows the title, a few rows of data and a wrapped legend.
MIN_WIDTH = 30
MIN_HEIGHT = 10
# What plotext draws: top frame, bottom frame, x tick labels and three rows of canvas at least.
_MIN_PLOT_HEIGHT = 6
_FALLBACK_WIDTH = 80
_FALLBACK_HEIGHT = 20
_MAX_FIT_HEIGHT = 25
_PROMPT_ROWS = 2

# One character per series when there is no colour to tell the lines apart; names outside
# the four known ones take the spare characters in turn.
_PLAIN_MARKERS = {"bond": "o", "goal": "+", "task": "*", "total": "#"}
_SPARE_MARKERS = ("@", "%", "=", "~", "&", "$")
# 256-colour codes (plotext's palette numbers): a fixed colour per series, so that "bond" is
# the same colour on every chart; red and orange are kept for flags and the cut-off.
_SERIES_COLOURS = {"bond": 12, "goal": 10, "task": 13, "total": 14}
_SPARE_COLOURS = (11, 6, 5, 4, 2, 7)
_FLAG_COLOUR = 9
_CUTOFF_COLOUR = 3

_FLAG_MARKER = "X"
_CUTOFF_MARKER = "┈"
_COLOUR_SERIES_GLYPH = "━"
_LEGEND_GAP = "  "

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"

_LOCK = threading.Lock()


@dataclass(frozen=True)
class ChartSeries:
    name: str  # "bond", "goal", "task" or "total": picks the marker and colour
    points: tuple[tuple[date, float], ...]  # in date order, at least 2 points
    label: str = ""  # what the legend calls it (default: the name)


@dataclass(frozen=True)
class ChartSpec:
    title: str
    series: tuple[ChartSeries, ...]
    y_min: float  # scale of the instrument, e.g. 0 and 10
    y_max: float
    cutoff: float | None = None  # drawn as a horizontal line, labelled cutoff_label
    cutoff_label: str = "cut-off"
    flagged: tuple[tuple[date, float], ...] = ()  # sessions that raised a flag: marked distinctly
    width: int | None = None  # None = fit the terminal (fallback 80)
    height: int | None = None  # None = fit the terminal (fallback 20, capped at ~25)
    color: bool = False  # False: the text must contain NO byte '\x1b' at all


@dataclass(frozen=True)
class _Style:
    """How one series (or the flags, or the cut-off) is drawn and shown in the legend."""

    label: str
    marker: str  # what plotext draws with: a character, or "hd" (quarter blocks)
    glyph: str  # what the legend shows
    colour: int | None  # 256-colour code, None when colourless
    bold: bool = False


def render_chart(spec: ChartSpec) -> str:
    """Return the chart as text (no trailing print)."""
    _check(spec)
    width, height = chart_size(spec.width, spec.height)
    series = [(style, _plottable(s.points, spec)) for style, s in _series_styles(spec)]
    flagged = _plottable(spec.flagged, spec)
    xs = [x for _, points in series for x, _ in points] + [x for x, _ in flagged]
    if not xs:
        raise ValueError("nothing to plot: no point has a finite score")

    legend_items = [style for style, _ in series]
    if flagged:
        legend_items.append(_flag_style(spec.color))
    if spec.cutoff is not None:
        legend_items.append(_cutoff_style(spec.cutoff_label, spec.color))
    legend = _legend_rows(legend_items, width)
    title = one_line(spec.title).strip()
    title_rows = [_title_row(title, width, spec.color)] if title else []

    plot_height = height - len(legend) - len(title_rows)
    if plot_height < _MIN_PLOT_HEIGHT and title_rows:
        title_rows = []
        plot_height = height - len(legend)
    if plot_height < _MIN_PLOT_HEIGHT:
        raise ValueError(f"a {width}x{height} chart is too small for this legend")

    plot = _plot(spec, series, flagged, (min(xs), max(xs)), width, plot_height)
    return "\n".join([*title_rows, *plot, *legend])


# ------------------------------------------------------------------ checks and sizes


def _check(spec: ChartSpec) -> None:
    if not (math.isfinite(spec.y_min) and math.isfinite(spec.y_max)):
        raise ValueError("y_min and y_max must be finite numbers")
    if spec.y_min >= spec.y_max:
        raise ValueError("y_min must be below y_max")
    if spec.cutoff is not None and not spec.y_min <= spec.cutoff <= spec.y_max:
        raise ValueError("the cut-off must lie within [y_min, y_max]")
    if spec.width is not None and spec.width < MIN_WIDTH:
        raise ValueError(f"width must be at least {MIN_WIDTH}")
    if spec.height is not None and spec.height < MIN_HEIGHT:
        raise ValueError(f"height must be at least {MIN_HEIGHT}")


def chart_size(width: int | None, height: int | None) -> tuple[int, int]:
    """The size asked for, or the terminal's: its width, its height minus a prompt, capped."""
    if width is not None and height is not None:
        return width, height
    # A 0 fallback tells "unknown" apart from a real size (COLUMNS / LINES or the terminal).
    columns, lines = shutil.get_terminal_size(fallback=(0, 0))
    width = width if width is not None else columns or _FALLBACK_WIDTH
    if height is None:
        height = min(lines - _PROMPT_ROWS, _MAX_FIT_HEIGHT) if lines else _FALLBACK_HEIGHT
    return max(width, MIN_WIDTH), max(height, MIN_HEIGHT)


def _plottable(points: tuple[tuple[date, float], ...], spec: ChartSpec) -> list[tuple[int, float]]:
    """Day numbers and scores plotext can take: finite, clamped to the scale."""
    return [
        (day.toordinal(), min(max(float(value), spec.y_min), spec.y_max))
        for day, value in points
        if math.isfinite(value)
    ]


# ------------------------------------------------------------------ styles and legend


def _series_styles(spec: ChartSpec) -> list[tuple[_Style, ChartSeries]]:
    spare_markers = iter(m for m in _SPARE_MARKERS if m not in _PLAIN_MARKERS.values())
    spare_colours = iter(_SPARE_COLOURS)
    styles = []
    for series in spec.series:
        name = one_line(series.label or series.name)
        if spec.color:
            colour = _SERIES_COLOURS.get(series.name)
            colour = colour if colour is not None else next(spare_colours, 7)
            style = _Style(name, "hd", _COLOUR_SERIES_GLYPH, colour)
        else:
            marker = _PLAIN_MARKERS.get(series.name) or next(spare_markers, ".")
            style = _Style(name, marker, marker, None)
        styles.append((style, series))
    return styles


def _flag_style(color: bool) -> _Style:
    colour = _FLAG_COLOUR if color else None
    return _Style("flagged", _FLAG_MARKER, _FLAG_MARKER, colour, bold=True)


def _cutoff_style(label: str, color: bool) -> _Style:
    colour = _CUTOFF_COLOUR if color else None
    return _Style(one_line(label), _CUTOFF_MARKER, _CUTOFF_MARKER * 2, colour)


def _legend_rows(items: list[_Style], width: int) -> list[str]:
    """The legend entries, wrapped to the width, each row padded to exactly `width` cells."""
    rows: list[str] = []
    row, used = "", 0
    for item in items:
        label = _shorten(item.label, width - _cells(item.glyph) - 1)
        glyph = _paint(item.glyph, item.colour, item.bold)
        cells = _cells(item.glyph) + 1 + _cells(label)
        gap = len(_LEGEND_GAP) if used else 0
        if used and used + gap + cells > width:
            rows.append(row + " " * (width - used))
            row, used, gap = "", 0, 0
        row += (_LEGEND_GAP if gap else "") + glyph + " " + label
        used += gap + cells
    if used:
        rows.append(row + " " * (width - used))
    return rows


def _title_row(title: str, width: int, color: bool) -> str:
    title = _shorten(title, width)
    left = (width - _cells(title)) // 2
    right = width - _cells(title) - left
    text = f"{_BOLD}{title}{_RESET}" if color else title
    return " " * left + text + " " * right


def _paint(text: str, colour: int | None, bold: bool = False) -> str:
    if colour is None:
        return text
    return f"\x1b[38;5;{colour}m{_BOLD if bold else ''}{text}{_RESET}"


def _cells(text: str) -> int:
    """Terminal cells the text takes: wide East Asian characters two, combining marks none."""
    return sum(_char_cells(char) for char in text)


def _char_cells(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _shorten(text: str, cells: int) -> str:
    """The text, cut with "…" to fit in `cells` terminal cells."""
    if _cells(text) <= cells:
        return text
    kept, used = [], 0
    for char in text:
        if used + _char_cells(char) > cells - 1:
            break
        kept.append(char)
        used += _char_cells(char)
    return "".join(kept) + "…"


# ------------------------------------------------------------------ ticks


def _x_ticks(first: int, last: int, canvas: int) -> tuple[list[int], list[str]]:
    """Whole days spread over the range, as YYYY-MM-DD, or day/month when space is short."""
    form = "%Y-%m-%d" if canvas >= 2 * 10 + 4 else "%d/%m"
    label_cells = len(date(2000, 1, 1).strftime(form))
    count = max(2, min(7, canvas // (label_cells + 3), last - first + 1))
    days = sorted({first + round(i * (last - first) / (count - 1)) for i in range(count)})
    return days, [date.fromordinal(day).strftime(form) for day in days]


def _y_ticks(
    low: float, high: float, canvas: int, cutoff: float | None = None
) -> tuple[list[float], list[str]]:
    """Up to five evenly spaced values, one every other row at most, plus the cut-off.

    A row of `canvas` rows stands for the values within half a row of its own, and the
    cut-off line lands on the row nearest its value: that row is labelled with the
    cut-off itself. An even tick on the same row is left out (the line must never sit on
    a row labelled with another number), and so is one on the next row unless it is an
    end of the axis (labels stay a row apart).
    """
    count = max(2, min(5, (canvas + 1) // 2))
    values = [low + i * (high - low) / (count - 1) for i in range(count)]
    if cutoff is not None:
        row = (high - low) / max(canvas - 1, 1)  # the value one row stands for

        def clear(value: float) -> bool:
            rows_apart = abs(value - cutoff) / row
            return rows_apart >= (1 if value in (low, high) else 2) - 1e-9

        values = sorted([v for v in values if clear(v)] + [cutoff])
    return values, [_number(value) for value in values]


def _number(value: float) -> str:
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.2f}".rstrip("0")


def _plot(
    spec: ChartSpec,
    series: list[tuple[_Style, list[tuple[int, float]]]],
    flagged: list[tuple[int, float]],
    x_range: tuple[int, int],
    width: int,
    height: int,
) -> list[str]:
    """The frame, ticks and data drawn by plotext: exactly `height` rows of `width` cells."""
    with _LOCK:
        plt: Any = import_plotext()
        fig: Any = plt.figure
        try:
            with unclipped(plt):
                fig.interactive(False)
                fig.clear()
                fig.plot_size(width, height)
                fig.theme("simple" if spec.color else "colorless")
                _draw(plt, fig, spec, series, flagged, x_range, width, height)
                text: str = fig.build().string(colorless=not spec.color)
        finally:
            fig.clear()
    return text.rstrip("\n").split("\n")


def _draw(
    plt: Any,
    fig: Any,
    spec: ChartSpec,
    series: list[tuple[_Style, list[tuple[int, float]]]],
    flagged: list[tuple[int, float]],
    x_range: tuple[int, int],
    width: int,
    height: int,
) -> None:
    first, last = x_range
    if first == last:  # one day only: centre it
        first, last = first - 1, last + 1
    y_values, y_labels = _y_ticks(spec.y_min, spec.y_max, height - 3, spec.cutoff)
    # canvas = width - y tick labels - the two vertical frame lines
    x_canvas = width - max(len(label) for label in y_labels) - 2
    x_days, x_labels = _x_ticks(first, last, x_canvas)

    fig.ruler("x").lim(first, last)
    fig.ruler("x").ticks(x_days, labels=x_labels)
    fig.ruler("y").lim(spec.y_min, spec.y_max)
    fig.ruler("y").ticks(y_values, labels=y_labels)

    # First drawn, first covered: the cut-off goes under the series, the flags over them.
    # A segment rather than fig.line(): plotext paints a line's background white, whatever
    # the theme, which shows as a white bar on a dark terminal.
    if spec.cutoff is not None:
        style = _cutoff_style(spec.cutoff_label, spec.color)
        marker = _marker(plt, _CUTOFF_MARKER, style.colour)
        fig.draw(fig.segment((first, last), (spec.cutoff, spec.cutoff), marker=marker))
    for style, points in series:
        if points:
            signal = fig.signal(*_columns(points), marker=_marker(plt, style.marker, style.colour))
            fig.draw(signal.lines(len(points) > 1))
    if flagged:
        style = _flag_style(spec.color)
        marker = _marker(plt, style.marker, style.colour, style.bold)
        fig.draw(fig.signal(*_columns(flagged), marker=marker))


def _marker(plt: Any, symbol: str, colour: int | None, bold: bool = False) -> Any:
    if colour is None:
        return plt.marker(symbol, pixel=plt.pixel())
    return plt.marker(symbol, pixel=plt.pixel(colour, None, "bold" if bold else None))


def _columns(points: list[tuple[int, float]]) -> tuple[list[int], list[float]]:
    return [x for x, _ in points], [y for _, y in points]
