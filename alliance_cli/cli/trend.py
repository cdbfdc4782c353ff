"""`alliance trend`: a patient's alliance scores per session as a terminal chart."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from alliance_cli.cli.common import CodeArgument, database, settings
from alliance_cli.domain.vocabulary import Rater
from alliance_cli.render.console import message, out


class Dimension(StrEnum):
    bond = "bond"
    goal = "goal"
    task = "task"
    total = "total"
    all = "all"


def trend(
    ctx: typer.Context,
    code: CodeArgument,
    last: Annotated[
        int | None, typer.Option("--last", min=2, help="Only the last N sessions.")
    ] = None,
    dimension: Annotated[
        Dimension | None,
        typer.Option(
            "--dimension",
            "-d",
            help="bond, goal, task, total, or all (the three). "
            "Default: all on a chart of 16 rows or more, total on a smaller one.",
        ),
    ] = None,
    rater: Annotated[
        Rater, typer.Option("--rater", help="Whose ratings: patient or therapist.")
    ] = Rater.PATIENT,
    width: Annotated[
        int | None,
        typer.Option("--width", min=30, max=1000, help="Chart width, 30-1000 (default: terminal)."),
    ] = None,
    height: Annotated[
        int | None,
        typer.Option("--height", min=10, max=500, help="Chart height, 10-500 (default: terminal)."),
    ] = None,
) -> None:
    """Chart the alliance over time, with the cut-off line and flagged sessions marked."""
    from alliance_cli.render.console import wants_color
    from alliance_cli.render.trend_chart import describe_single, trend_chart
    from alliance_cli.services.reports.trend import trend_data

    config = settings(ctx)
    with database(ctx) as db:
        data = trend_data(db, code, config, rater=rater, last=last)
    if data.other_instruments:
        message(
            f"Earlier {rater} ratings used {', '.join(data.other_instruments)}; "
            f"only {data.instrument.name} sessions are charted (scores are not comparable)."
        )
    if not data.ratings:
        message(f"No {rater} ratings with {data.instrument.name} yet for {data.patient}.")
        return
    if len(data.ratings) == 1:
        out(describe_single(data))
        return
    color = wants_color(sys.stdout)
    chosen = None if dimension is None else dimension.value
    out(trend_chart(data, chosen, width=width, height=height, color=color))
