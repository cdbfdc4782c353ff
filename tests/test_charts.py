"""Text charts of the alliance over time (render.charts, drawn with plotext 6).

(a) colourless output holds no ESC byte at all, whatever the spec, the title included;
    colour output holds ANSI colour codes;
(b) an explicit width and height are respected exactly, the terminal size otherwise;
(c) the title, the series names, the dates, the y scale, the cut-off and the flags show;
(d) plotext's global figure leaks nothing from one call into the next;
(e) data plotext cannot draw (NaN, infinity, scores off the scale) neither crashes it
    (its C kernel aborts the process on NaN) nor bends the axes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unicodedata
from dataclasses import replace
from datetime import date, timedelta

import pytest

from alliance_cli.render.charts import ChartSeries, ChartSpec, render_chart

ANSI = re.compile(r"\x1b\[[0-9;]*m")
START = date(2024, 1, 8)
CUTOFF_GLYPH = "┈"


def plain(text: str) -> str:
    return ANSI.sub("", text)


def cells(line: str) -> int:
    """Terminal cells of a line: wide East Asian characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in line)


def weekly(name: str, values: list[float], start: date = START) -> ChartSeries:
    return ChartSeries(
        name, tuple((start + timedelta(days=7 * i), v) for i, v in enumerate(values))
    )


def spec(**changes: object) -> ChartSpec:
    base = ChartSpec(
        title="Alliance P-001",
        series=(
            weekly("bond", [5, 6, 6.5, 7, 7.5, 8]),
            weekly("goal", [4, 4.5, 5, 6, 6, 7]),
            weekly("task", [6, 5, 5.5, 6, 7, 7]),
        ),
        y_min=0,
        y_max=10,
        width=80,
        height=20,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


FLAGS = ((START + timedelta(days=7), 4.5), (START + timedelta(days=21), 3.0))

COLOURLESS_SPECS = {
    "plain": spec(),
    "cutoff": spec(cutoff=5.0),
    "flags": spec(flagged=FLAGS),
    "cutoff and flags": spec(cutoff=5.0, cutoff_label="clinical cut-off", flagged=FLAGS),
    "four series": spec(series=(*spec().series, weekly("total", [5, 5, 6, 6, 7, 7]))),
    "hostile title": spec(title="\x1b[31mred\x1b[0m [bold]x[/bold] 100% %s %(a)d {0} \\"),
    "narrow": spec(width=30, height=10, cutoff=5.0, flagged=FLAGS),
    "one day": spec(series=(ChartSeries("bond", ((START, 5.0), (START, 6.0))),)),
}


# ------------------------------------------------------------------ (a) colour


@pytest.mark.parametrize("name", COLOURLESS_SPECS)
def test_colourless_output_holds_no_escape_byte(name: str) -> None:
    text = render_chart(COLOURLESS_SPECS[name])
    assert "\x1b" not in text
    assert text.strip()


def test_colour_output_holds_ansi_colour_codes() -> None:
    text = render_chart(spec(color=True, cutoff=5.0, flagged=FLAGS))
    assert "\x1b[" in text
    assert re.search(r"\x1b\[38;5;\d+m", text), "no foreground colour code"


def test_a_raw_escape_in_the_title_is_shown_not_sent() -> None:
    text = render_chart(spec(title="\x1b]0;pwned\x07 evil"))
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;pwned\\x07 evil" in text


# ------------------------------------------------------------------ (b) size


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("width, height", [(30, 10), (80, 20), (123, 37), (200, 12)])
def test_width_and_height_are_respected_exactly(width: int, height: int, color: bool) -> None:
    text = render_chart(spec(width=width, height=height, color=color, cutoff=5.0, flagged=FLAGS))
    lines = plain(text).split("\n")
    assert len(lines) == height
    assert {len(line) for line in lines} == {width}


def test_a_wide_character_title_keeps_the_width_in_terminal_cells() -> None:
    text = render_chart(spec(title="同盟の評価 — 山田さん", width=40))
    lines = text.split("\n")
    assert "同盟の評価" in lines[0]
    assert {cells(line) for line in lines} == {40}


def test_a_title_wider_than_the_chart_is_shortened_not_dropped() -> None:
    text = render_chart(spec(title="A" * 50 + "Z", width=40))
    first = text.split("\n")[0]
    assert first.startswith("A" * 30) and first.endswith("…")
    assert len(first) == 40


def test_without_a_size_the_chart_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: os.terminal_size((100, 60)))
    lines = render_chart(spec(width=None, height=None)).split("\n")
    assert len(lines) == 25  # 60 rows, capped
    assert {len(line) for line in lines} == {100}

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: os.terminal_size((90, 16)))
    lines = render_chart(spec(width=None, height=None)).split("\n")
    assert len(lines) == 14  # two rows left for the prompt
    assert {len(line) for line in lines} == {90}


def test_without_a_terminal_the_chart_takes_the_fallback_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback: os.terminal_size(fallback))
    lines = render_chart(spec(width=None, height=None)).split("\n")
    assert len(lines) == 20
    assert {len(line) for line in lines} == {80}


@pytest.mark.parametrize(
    "changes",
    [
        {"y_min": 10, "y_max": 0},
        {"y_min": 5, "y_max": 5},
        {"y_max": float("nan")},
        {"cutoff": 11.0},
        {"width": 10},
        {"height": 3},
    ],
)
def test_an_impossible_spec_is_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        render_chart(spec(**changes))


# ------------------------------------------------------------------ (c) content


@pytest.mark.parametrize("color", [False, True])
def test_title_series_names_and_dates_show(color: bool) -> None:
    text = plain(render_chart(spec(color=color)))
    assert "Alliance P-001" in text.split("\n")[0]
    for name in ("bond", "goal", "task"):
        assert name in text
    assert "2024-01-08" in text  # first session, ISO
    assert "2024-02-12" in text  # last session


def test_dates_are_written_as_day_and_month_when_two_iso_dates_do_not_fit() -> None:
    wide = render_chart(spec(width=30, height=12))
    assert "2024-01-08" in wide and "2024-02-12" in wide
    # Five-digit y labels leave the x axis 23 cells: too few for two ISO dates.
    narrow = render_chart(spec(width=30, height=12, y_max=10_000))
    assert "08/01" in narrow and "12/02" in narrow and "2024" not in narrow


def test_the_y_axis_spans_the_whole_instrument_scale() -> None:
    # All the scores sit between 4 and 8: the axis still runs from 0 to 10.
    lines = render_chart(spec()).split("\n")
    labels = [line.split("┤")[0].strip() for line in lines if "┤" in line]
    assert labels[0] == "10" and labels[-1] == "0"


def test_scores_land_on_the_rows_of_their_value() -> None:
    top = weekly("bond", [10, 10, 10])
    bottom = weekly("goal", [0, 0, 0])
    lines = render_chart(spec(series=(top, bottom))).split("\n")
    canvas = [line for line in lines if line.rstrip().endswith(("│", "┤"))]
    assert "o" in canvas[0] and "+" not in canvas[0]
    assert "+" in canvas[-1] and "o" not in canvas[-1]


def test_the_cutoff_is_drawn_across_and_named_in_the_legend() -> None:
    text = render_chart(spec(series=(weekly("bond", [9, 9, 9]),), cutoff=5.0))
    assert "cut-off" in text
    rows = [line for line in text.split("\n") if line.count(CUTOFF_GLYPH) > 30]
    assert len(rows) == 1

    none = render_chart(spec(series=(weekly("bond", [9, 9, 9]),)))
    assert "cut-off" not in none and CUTOFF_GLYPH not in none


def test_the_cutoff_row_follows_its_value() -> None:
    def cutoff_row(value: float) -> int:
        lines = render_chart(spec(cutoff=value, cutoff_label="limit")).split("\n")
        return next(i for i, line in enumerate(lines) if line.count(CUTOFF_GLYPH) > 30)

    assert cutoff_row(9.0) < cutoff_row(5.0) < cutoff_row(1.0)


def test_a_custom_cutoff_label_is_shown() -> None:
    assert "WAI-SR threshold" in render_chart(spec(cutoff=3.0, cutoff_label="WAI-SR threshold"))


def test_flagged_sessions_are_marked() -> None:
    flagged = render_chart(spec(flagged=FLAGS))
    assert "flagged" in flagged
    plot = flagged.split("\n")[1:-2]
    assert sum(line.count("X") for line in plot) == 2

    unflagged = render_chart(spec())
    assert "X" not in unflagged and "flagged" not in unflagged


def test_flagged_sessions_are_red_in_colour() -> None:
    text = render_chart(spec(flagged=FLAGS, color=True))
    assert re.search(r"\x1b\[38;5;9m(\x1b\[1m)?X", text)


def test_a_thousand_point_series_renders() -> None:
    long = tuple(
        weekly(name, [(i * (k + 3)) % 11 * 0.9 for i in range(1000)])
        for k, name in enumerate(["bond", "goal", "task", "total"])
    )
    text = render_chart(spec(series=long, cutoff=4.5, flagged=FLAGS, color=True))
    lines = plain(text).split("\n")
    assert len(lines) == 20 and {len(line) for line in lines} == {80}
    assert "total" in text
    assert (START + timedelta(days=7 * 999)).isoformat() in plain(text)


# ------------------------------------------------------------------ (d) independence


def test_two_calls_are_independent() -> None:
    first = spec(title="First chart", series=(weekly("bond", [1, 9, 1]),), cutoff=5.0)
    second = spec(title="Second chart", series=(weekly("goal", [5, 6, 7]),))
    alone = render_chart(second)

    render_chart(first)
    after = render_chart(second)

    assert after == alone
    assert "bond" not in after and "First" not in after and "cut-off" not in after


def test_plotext_settings_are_left_as_found() -> None:
    import plotext

    plotext.terminal.limit(True, True)
    before = repr(plotext.terminal)
    render_chart(spec(width=150, height=40))
    assert repr(plotext.terminal) == before  # size limits restored
    assert "limited True" in before
    leftover = plotext.figure.build().string(colorless=True)
    assert "2024" not in leftover  # no tick, no signal left on the global figure


def test_a_figure_left_dirty_by_other_code_does_not_leak_in() -> None:
    import plotext

    figure = plotext.figure
    try:
        figure.title("LEFTOVER TITLE")
        figure.draw(figure.signal([1, 2, 3], [100, 200, 300]).label("leftover"))
        text = render_chart(spec())
    finally:
        figure.clear()
    assert "LEFTOVER" not in text and "leftover" not in text
    assert text == render_chart(spec())


def test_importing_the_module_does_not_import_plotext() -> None:
    code = "import sys, alliance_cli.render.charts; print('plotext' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


SKIPPED_DOC_PROBE = """
import sys
from datetime import date
from alliance_cli.render.charts import ChartSeries, ChartSpec, render_chart
points = ((date(2024, 1, 1), 5.0), (date(2024, 1, 8), 6.0))
spec = ChartSpec("t", (ChartSeries("bond", points),), 0, 7)
first = render_chart(spec)
print("doc loaded while charting:", "plotext._doc.doc" in sys.modules)
import plotext._doc.doc
print("real doc afterwards:", plotext._doc.doc.docs is not None)
print("same chart:", render_chart(spec) == first)
"""


def test_plotext_is_imported_without_its_documentation_browser() -> None:
    """plotext's `doc` costs a third of its import and a chart never reads it; whoever
    asks for it later still gets the real module."""
    out = subprocess.run(
        [sys.executable, "-c", SKIPPED_DOC_PROBE], capture_output=True, text=True, check=True
    )
    assert out.stdout.splitlines() == [
        "doc loaded while charting: False",
        "real doc afterwards: True",
        "same chart: True",
    ]


# ------------------------------------------------------------------ (e) bad data


def test_scores_off_the_scale_are_clamped_to_its_edges() -> None:
    odd = weekly("bond", [5, 15, -3, 6])
    lines = render_chart(spec(series=(odd,))).split("\n")
    canvas = [line for line in lines if line.rstrip().endswith(("│", "┤"))]
    assert "o" in canvas[0]  # 15 on the top row
    assert "o" in canvas[-1]  # -3 on the bottom row
    assert "2024-01-08" in "\n".join(lines)  # the x axis still starts at the first session


CRASH_PROBE = """
from datetime import date
from alliance_cli.render.charts import ChartSeries, ChartSpec, render_chart
points = tuple((date(2024, 1, d), float(v)) for d, v in enumerate({values!r}, start=1))
text = render_chart(ChartSpec("t", (ChartSeries("bond", points),), 0, 10, width=60, height=15))
print("rendered", len(text.splitlines()))
"""


@pytest.mark.parametrize(
    "values",
    [
        ["5", "nan", "6"],
        ["5", "inf", "6"],
        ["5", "-inf", "6"],
        ["5", "1e300", "-1e300", "6"],
    ],
)
def test_scores_plotext_cannot_draw_do_not_crash(values: list[str]) -> None:
    # plotext's C kernel aborts the whole process on these (std::bad_alloc): run it apart.
    code = CRASH_PROBE.format(values=values)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "rendered 15"


def test_a_series_of_only_nan_scores_is_refused() -> None:
    with pytest.raises(ValueError):
        render_chart(spec(series=(weekly("bond", [float("nan"), float("nan")]),)))
