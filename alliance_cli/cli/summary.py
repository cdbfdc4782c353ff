"""`alliance summary`: the weekly summary, ready for cron."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    AllCliniciansOption,
    AsOfOption,
    database,
    report_day,
    settings,
)
from alliance_cli.errors import ExitCode, InvalidInput

if TYPE_CHECKING:
    from alliance_cli.domain.summary import Period


class SummaryFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def summary(
    ctx: typer.Context,
    days: Annotated[
        int | None, typer.Option("--days", min=1, help="The last N days, today included (7).")
    ] = None,
    last_week: Annotated[
        bool,
        typer.Option(
            "--last-week", help="The last full Monday-Sunday week that ended before today."
        ),
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Start of the period.")
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            metavar="DATE",
            help="End of the period (today); nothing dated later is used.",
        ),
    ] = None,
    as_of: AsOfOption = None,
    fmt: Annotated[
        SummaryFormat, typer.Option("--format", "-f", help="text, markdown or json.")
    ] = SummaryFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (0600), atomically.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --output.")] = False,
    fail_on_flags: Annotated[
        bool,
        typer.Option(
            "--fail-on-flags",
            help="Exit 3 when an alert was raised in the period or is still open at its "
            "end (an unrepaired rupture of weeks ago), so a cron job never reports all clear "
            "while one is open.",
        ),
    ] = False,
    all_clinicians: AllCliniciansOption = False,
) -> None:
    """Summarise a period: sessions, patients seen with their change, flags (alerts first),
    what is still open from before, repaired ruptures, goals reviewed, task adherence and
    patients with no contact. Only what had happened by the end of the period is used.

    --as-of DATE moves "today": --days, --last-week and the default period count back
    from it (and `today`/`yesterday` in --since mean that day and the one before)."""
    from alliance_cli.cli.output import deliver
    from alliance_cli.render.summary import summary_json, summary_markdown, summary_text
    from alliance_cli.render.wrap import output_width
    from alliance_cli.services.reports.summary import period_summary

    period = _period(days, last_week, since, until, as_of)
    with database(ctx) as db:
        result = period_summary(db, settings(ctx), period, all_clinicians=all_clinicians)
    if fmt == SummaryFormat.text:
        # The terminal's width; 80 in a pipe, a cron mail or a file.
        text = summary_text(result, width=output_width(None if output else sys.stdout))
    else:
        text = (summary_markdown if fmt == SummaryFormat.markdown else summary_json)(result)
    deliver(text, output, force=force)
    if fail_on_flags and (result.alerts or result.still_open_alerts):
        raise typer.Exit(int(ExitCode.ALERTS))


def _period(
    days: int | None, last_week: bool, since: str | None, until: str | None, as_of: str | None
) -> Period:
    """The period the options ask for (one-line errors for options that contradict)."""
    from alliance_cli.domain.dates import parse_date
    from alliance_cli.domain.summary import Period, last_days
    from alliance_cli.domain.summary import last_week as week_before

    given = {"--days": days, "--since": since, "--until": until}
    other = next((name for name, value in given.items() if value is not None), None)
    if last_week and other is not None:
        raise InvalidInput(f"give --last-week or {other}, not both")
    if days is not None and since is not None:
        raise InvalidInput("give --days or --since, not both")
    if as_of is not None and until is not None:
        raise InvalidInput(
            "give --as-of or --until, not both", "--until ends the period; --as-of moves today"
        )
    today = report_day(as_of)
    if last_week:
        return week_before(today)
    end = today if until is None else parse_date(until, today, what="--until")
    if since is None:
        return last_days(end, days or 7)
    start = parse_date(since, today, what="--since")
    if start > end:
        end_name = "--until" if until is not None else "--as-of" if as_of else "today"
        raise InvalidInput(f"--since {start.isoformat()} is after {end_name} {end.isoformat()}")
    return Period(start, end)
