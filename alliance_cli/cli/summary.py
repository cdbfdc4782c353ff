"""`alliance summary`: the weekly summary, ready for cron."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from alliance_cli.cli.common import AllCliniciansOption, database, settings, to_date, today
from alliance_cli.errors import ExitCode, InvalidInput


class SummaryFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def summary(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="The last N days, today included (7).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Start of the period.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="DATE", help="End of the period (today).")
    ] = None,
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = SummaryFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (0600), atomically.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output.")] = False,
    fail_on_flags: Annotated[
        bool, typer.Option("--fail-on-flags", help="Exit 3 when any alert was raised.")
    ] = False,
    all_clinicians: AllCliniciansOption = False,
) -> None:
    """Summarise a period: sessions, patients seen with their change, flags (alerts first),
    repaired ruptures, goals reviewed, task adherence and patients with no contact."""
    from alliance_cli.cli.output import deliver
    from alliance_cli.domain.summary import Period
    from alliance_cli.render.summary import summary_json, summary_markdown, summary_text
    from alliance_cli.services.summary import period_summary

    if days is not None and since is not None:
        raise InvalidInput("give --days or --since, not both")
    end = to_date(until, "--until") or today()
    start = to_date(since, "--since") or end - timedelta(days=(days or 7) - 1)
    if start > end:
        raise InvalidInput(f"--since {start.isoformat()} is after --until {end.isoformat()}")
    with database(ctx) as db:
        result = period_summary(
            db, settings(ctx), Period(start, end), all_clinicians=all_clinicians
        )
    render = {
        SummaryFormat.text: summary_text,
        SummaryFormat.markdown: summary_markdown,
        SummaryFormat.json: summary_json,
    }[fmt]
    deliver(render(result), output, force=force)
    if fail_on_flags and result.alerts:
        raise typer.Exit(int(ExitCode.ALERTS))
