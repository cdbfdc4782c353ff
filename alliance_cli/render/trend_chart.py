"""Turn trend data into a chart spec and text (the plotting itself is in charts.py)."""

from __future__ import annotations

from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.trends import TrendData, chart_dimensions, chart_range, flagged_points
from alliance_cli.render.charts import ChartSeries, ChartSpec, chart_size, render_chart
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.values import PATIENT_WORDS, fmt_score

# Below this many rows, three lines on one scale hide each other (and the cut-off): a chart
# whose dimension was not chosen shows the total only. README, "Flags".
ALL_DIMENSIONS_MIN_HEIGHT = 16


def shown_dimension(dimension: str | None, height: int | None) -> str:
    """`dimension` as asked; when not asked (None), `all` if the chart has room, else total."""
    if dimension is not None:
        return dimension
    _, rows = chart_size(80, height)
    return "all" if rows >= ALL_DIMENSIONS_MIN_HEIGHT else "total"


def trend_chart(
    data: TrendData,
    dimension: str | None = None,
    *,
    width: int | None = None,
    height: int | None = None,
    color: bool = False,
    for_patient: bool = False,
) -> str:
    """The chart of `data`; `for_patient`: in the handout's words, without flags or cut-off."""
    shown = chart_dimensions(shown_dimension(dimension, height))
    low, high = chart_range(data.instrument, shown)
    cutoff = data.cutoff_total if shown == ("total",) else data.cutoff_dimension
    if for_patient or (cutoff is not None and not low <= cutoff <= high):
        cutoff = None
    if for_patient:
        title = "Your ratings after each session"
    else:
        title = f"{data.patient}: {data.instrument.name}, {data.rater} ratings"
    spec = ChartSpec(
        title=one_line(title),
        series=tuple(
            ChartSeries(
                name=name,
                points=tuple((r.date, r.score(name)) for r in data.ratings),
                label=PATIENT_WORDS[name] if for_patient else "",
            )
            for name in shown
        ),
        y_min=low,
        y_max=high,
        cutoff=cutoff,
        cutoff_label=f"cut-off {cutoff:g}" if cutoff is not None else "cut-off",
        flagged=() if for_patient else flagged_points(data, shown),
        width=width,
        height=height,
        color=color,
    )
    return render_chart(spec)


def describe_single(data: TrendData) -> str:
    """One session: a line instead of a chart."""
    rating = data.ratings[0]
    scores = ", ".join(f"{name} {fmt_score(rating.score(name))}" for name in SCORES)
    return one_line(
        f"{data.patient}: one session so far ({rating.date.isoformat()}): {scores}. "
        "A trend needs at least two."
    )
