"""Trend arrows and charts that tell the truth, and a handout in the patient's words.

(a) the trend arrow follows the `decline` rule's least-squares line, not the last step;
(b) chart markers come only from the charted rater's own flags;
(c) the y axis covers every shown score's real range (sum-scored dimensions of different
    item counts), and the cut-off is drawn on a row labelled with the cut-off;
(d) a small chart shows the total only unless a dimension is asked for;
(e) the handout (`export --for-patient`) has no flag, cut-off or bond/goal/task wording.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from alliance_cli.config import Settings, load_settings
from alliance_cli.domain.flags import History, Rating
from alliance_cli.domain.rules import DEFAULT_THRESHOLDS, Thresholds
from alliance_cli.domain.trends import TrendData, direction
from alliance_cli.render.charts import ChartSeries, ChartSpec, render_chart
from alliance_cli.render.trend_chart import ALL_DIMENSIONS_MIN_HEIGHT, trend_chart
from alliance_cli.services.reports.trend import trend_from
from tests.conftest import Cli

START = date(2026, 9, 7)
CUTOFF_GLYPH = "┈"
WAI_SR = DEFAULT_THRESHOLDS["wai-sr"]


def weekly(totals: list[float], instrument: str = "wai-sr", rater: str = "patient") -> list[Rating]:
    """Ratings a week apart whose dimensions are a third of the total each."""
    return [
        Rating(START + timedelta(days=7 * i), rater, instrument, t / 3, t / 3, t / 3, t)
        for i, t in enumerate(totals)
    ]


def wai_items(total: int) -> str:
    """Twelve WAI-SR item values (1-5) that add up to `total`."""
    items, rest = [1] * 12, total - 12
    for i in range(12):
        items[i] += min(4, rest)
        rest -= items[i] - 1
    return ",".join(map(str, items))


def y_labels(chart: str) -> list[tuple[int, str]]:
    """(row index, label) of each labelled row of a chart."""
    lines = chart.split("\n")
    return [(i, line.split("┤")[0].strip()) for i, line in enumerate(lines) if "┤" in line]


def canvas(chart: str) -> dict[int, str]:
    """Row index -> what is drawn inside the frame, for each row of the plot area."""
    rows = {}
    for i, line in enumerate(chart.split("\n")):
        inside = re.fullmatch(r"\s*[\d.]*[┤│](.*)│\s*", line)
        if inside:
            rows[i] = inside.group(1)
    return rows


# ------------------------------------------------------------------ (a) arrows


def test_trend_arrow_of_a_slow_slide_is_down() -> None:
    # 45 -> 35 in five sessions, no step bigger than 4: each step alone looks flat
    # (2 points is under 5 % of the 48-point scale), the fitted line falls 10 points.
    slide = weekly([45, 41, 39, 37, 35])
    assert direction(slide, WAI_SR, 48) == "down"
    assert direction(weekly([35, 37, 39, 41, 45]), WAI_SR, 48) == "up"


def test_trend_arrow_ignores_a_last_step_against_the_trend_line() -> None:
    # A zigzag ending on a fall of 4 points: no trend. A steady rise ending on a dip: up.
    assert direction(weekly([40, 44, 40, 44, 40]), WAI_SR, 48) == "flat"
    assert direction(weekly([30, 34, 38, 42, 40]), WAI_SR, 48) == "up"


def test_trend_arrow_uses_the_decline_window_and_threshold() -> None:
    # Only the last `decline_sessions` totals count: an old fall is history.
    assert direction(weekly([60, 50, 40, 40, 40, 40, 40]), WAI_SR, 48) == "flat"
    # The threshold is decline's: a fitted fall of 3.6 is under wai-sr's 4, over quick's 3.
    assert direction(weekly([40, 39.1, 38.2, 37.3, 36.4]), WAI_SR, 48) == "flat"
    quick = weekly([24, 23.1, 22.2, 21.3, 20.4], instrument="quick")
    assert direction(quick, DEFAULT_THRESHOLDS["quick"], 30) == "down"
    # With decline off, a tenth of the total range.
    off = Thresholds(decline_total=None)
    assert direction(quick, off, 30) == "down" and direction(quick, off, 40) == "flat"


def test_trend_arrow_needs_two_ratings_of_the_rater_and_instrument() -> None:
    assert direction(weekly([40]), WAI_SR, 48) == ""
    switched = [*weekly([20], instrument="quick"), weekly([40, 30])[1]]  # quick, then wai-sr
    assert direction(switched, WAI_SR, 48) == ""
    assert direction(weekly([45, 35], rater="therapist"), WAI_SR, 48) == ""


def test_patient_list_shows_the_slow_slide(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "W01", "--instrument", "wai-sr", "--since", "2026-01-01")
    for week, total in enumerate([45, 41, 39, 37, 35]):
        day = (date(2026, 3, 2) + timedelta(days=7 * week)).isoformat()
        cli.ok("session", "add", "W01", "--date", day, "--items", wai_items(total))
    row = next(line for line in cli.ok("patient", "list").stdout.splitlines() if "W01" in line)
    assert "↓" in row and "→" not in row, row


# ------------------------------------------------------------------ (b) markers


def compliant_patient() -> History:
    """Patient rates 9 every session; the therapist 5.5-6 (low, and far apart)."""
    days = [START + timedelta(days=7 * i) for i in range(6)]
    own = [Rating(d, "patient", "quick", 9.0, 9.0, 9.0, 27.0) for d in days]
    theirs = [Rating(d, "therapist", "quick", 6.0, 5.5, 6.0, 17.5) for d in days]
    return History("C01", tuple(own + theirs), since=START)


def test_chart_markers_from_the_charted_rater_only() -> None:
    settings = load_settings(Path("/nowhere/config.toml"))
    history = compliant_patient()
    patient = trend_from(history, "quick", settings)
    assert any(f.kind == "discrepancy" for f in patient.flags)  # raised, but not hers alone
    chart = trend_chart(patient, "all", width=80, height=20)
    assert "X" not in chart and "flagged" not in chart

    therapist = trend_from(history, "quick", settings, rater="therapist")
    chart = trend_chart(therapist, "total", width=80, height=20)
    assert "flagged" in chart
    assert sum(row.count("X") for row in canvas(chart).values()) == 6  # all below 21


# ------------------------------------------------------------------ (c) axis and cut-off

MIXED_SUMS = """
[instruments.mix]
title = "sums over 3 and 4 items"
items = 10
min = 1
max = 7
score = "sum"
bond = [1, 2, 3]
goal = [4, 5, 6]
task = [7, 8, 9, 10]
"""


def mixed_sums_settings(tmp_path: Path) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(MIXED_SUMS, encoding="utf-8")
    return load_settings(path)


def test_the_custom_sum_scored_instruments_axis(tmp_path: Path) -> None:
    settings = mixed_sums_settings(tmp_path)
    ratings = tuple(
        Rating(START + timedelta(days=7 * i), "patient", "mix", b, b, t, b * 2 + t)
        for i, (b, t) in enumerate([(15, 25), (16, 26), (18, 28)])
    )
    data = trend_from(History("M01", ratings), "mix", settings)
    chart = trend_chart(data, "all", width=80, height=20)
    labels = y_labels(chart)
    assert labels[0][1] == "28" and labels[-1][1] == "3"  # bond 3-21, task 4-28: one axis
    task_rows = [i for i, row in canvas(chart).items() if "*" in row]
    assert len(task_rows) >= 2, chart  # 25, 26, 28 are drawn apart, not flat at a clamp
    assert task_rows[0] == labels[0][0]  # 28 on the top row


SCALES = [(0.0, 10.0, 6.0), (0.0, 30.0, 21.0), (12.0, 60.0, 36.0), (1.0, 5.0, 3.0), (0, 40, 36)]


@pytest.mark.parametrize(("low", "high", "cutoff"), SCALES)
@pytest.mark.parametrize("height", range(10, 26))
def test_the_cutoff_is_drawn_on_a_row_labelled_with_it(
    low: float, high: float, cutoff: float, height: int
) -> None:
    points = tuple((START + timedelta(days=7 * i), low) for i in range(3))
    spec = ChartSpec(
        "t", (ChartSeries("total", points),), low, high, cutoff, width=60, height=height
    )
    chart = render_chart(spec)
    row = next(i for i, line in enumerate(chart.split("\n")) if line.count(CUTOFF_GLYPH) > 30)
    assert (row, f"{cutoff:g}") in y_labels(chart), chart


# ------------------------------------------------------------------ (d) series by size


def sliding(settings: Settings) -> TrendData:
    ratings = tuple(weekly([27, 24, 21, 18], instrument="quick"))
    return trend_from(History("S01", ratings), "quick", settings)


def legend_names(chart: str) -> set[str]:
    return set(re.findall(r"[o+*#] (bond|goal|task|total)\b", chart))


def test_a_small_chart_shows_the_total_unless_asked() -> None:
    data = sliding(load_settings(Path("/nowhere/config.toml")))
    small, big = ALL_DIMENSIONS_MIN_HEIGHT - 1, ALL_DIMENSIONS_MIN_HEIGHT
    assert legend_names(trend_chart(data, width=80, height=small)) == {"total"}
    assert legend_names(trend_chart(data, width=80, height=big)) == {"bond", "goal", "task"}
    asked = trend_chart(data, "all", width=80, height=small)
    assert legend_names(asked) == {"bond", "goal", "task"}


def test_patient_show_draws_the_total_chart(p014: Cli) -> None:
    p014.ok(
        "session",
        "add",
        "P014",
        "--date",
        "2026-02-09",
        "--bond",
        "5",
        "--goal",
        "6",
        "--task",
        "4",
    )
    shown = p014.ok("patient", "show", "P014").stdout
    chart = re.split(r"P014: quick, patient ratings *\n", shown)[1]
    assert "# total" in chart and "bond" not in chart


# ------------------------------------------------------------------ (e) the handout

JARGON = re.compile(r"flag|cut-off|cutoff|\bbond\b|\btask\b|\btotal\b|patient ratings|quick")


def test_the_handout_has_no_flag_or_cutoff_wording(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "H01", "--since", "2026-01-01")
    for week, (patient, therapist) in enumerate([(9, 6), (8, 5.5), (6, 4), (5, 4), (4.5, 4)]):
        day = (date(2026, 3, 2) + timedelta(days=7 * week)).isoformat()
        for rater, score in (("patient", patient), ("therapist", therapist)):
            values = [str(score)] * 3
            cli.ok(
                "session",
                "add",
                "H01",
                "--date",
                day,
                "--rater",
                rater,
                "--bond",
                values[0],
                "--goal",
                values[1],
                "--task",
                values[2],
            )
    clinician = cli.ok("export", "H01").stdout
    assert "flagged" in clinician and "cut-off" in clinician  # the clinician's chart has them
    handout = cli.ok("export", "H01", "--for-patient").stdout
    assert not JARGON.search(handout.lower()), JARGON.search(handout.lower())
    assert "connection" in handout and "way of working" in handout
    chart = handout.split("```text\n", 1)[1].split("```", 1)[0]
    assert "Your ratings" in chart and "o connection" in chart and "X" not in chart
