"""`alliance outcomes`: what the alliance told you, over the patients whose care ended."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from alliance_cli.cli.common import AllCliniciansOption, database, settings, today
from alliance_cli.errors import InvalidInput


class OutcomesFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def outcomes(
    ctx: typer.Context,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="DATE", help="First discharge day counted (default: all)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="Last discharge day counted (default: all)."),
    ] = None,
    fmt: Annotated[
        OutcomesFormat, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = OutcomesFormat.text,
    all_clinicians: AllCliniciansOption = False,
) -> None:
    """Endings, dropout rate, early alliance of dropouts vs mutual endings, ruptures and
    their repair, and goal attainment (GAS T) over the patients discharged in the period,
    with the correlation of the alliance with the final GAS T from 10 patients on: this
    caseload's association, not a prediction for one patient."""
    from alliance_cli.domain.dates import parse_date
    from alliance_cli.render.outcomes import show_outcomes
    from alliance_cli.services.reports.outcomes import caseload_outcomes

    day = today()
    start = None if since is None else parse_date(since, day, what="--since")
    end = None if until is None else parse_date(until, day, what="--until")
    if start is not None and end is not None and start > end:
        raise InvalidInput(f"--since {start.isoformat()} is after --until {end.isoformat()}")
    with database(ctx) as db:
        clinic, clinicians = caseload_outcomes(
            db, settings(ctx), start, end, all_clinicians=all_clinicians
        )
    show_outcomes(clinic, clinicians, start, end, fmt.value)
