"""Turn trend data into a chart spec and text (the plotting itself is in charts.py)."""

from __future__ import annotations

from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.trends import TrendData, chart_dimensions, flagged_points
from alliance_cli.render.charts import ChartSeries, ChartSpec, render_chart
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.values import fmt_score


def trend_chart(
    data: TrendData,
    dimension: str,
    *,
    width: int | None = None,
    height: int | None = None,
    color: bool = False,
) -> str:
    shown = chart_dimensions(dimension)
    scale_of = "total" if shown == ("total",) else shown[0]
    low, high = data.instrument.dimension_range(scale_of)
    cutoff = data.cutoff_total if scale_of == "total" else data.cutoff_dimension
    if cutoff is not None and not low <= cutoff <= high:
        cutoff = None
    title = f"{data.patient}: {data.instrument.name}, {data.rater} ratings"
    spec = ChartSpec(
        title=one_line(title),
        series=tuple(
            ChartSeries(name=name, points=tuple((r.date, r.score(name)) for r in data.ratings))
            for name in shown
        ),
        y_min=low,
        y_max=high,
        cutoff=cutoff,
        cutoff_label=f"cut-off {cutoff:g}" if cutoff is not None else "cut-off",
        flagged=flagged_points(data, shown),
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
