"""`alliance prep`: what to read in the minute before the next session."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from alliance_cli.cli.common import database, settings, today
from alliance_cli.cli.completion import complete_code
from alliance_cli.render.console import message


class BriefFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def prep(
    ctx: typer.Context,
    code: Annotated[
        str | None,
        typer.Argument(
            help="The patient's code (default: list every patient with a current alert).",
            autocompletion=complete_code,
        ),
    ] = None,
    fmt: Annotated[
        BriefFormat,
        typer.Option("--format", "-f", help="text (one screen), markdown, or json."),
    ] = BriefFormat.text,
) -> None:
    """The brief before the next session: profile, last ratings and their change, flags,
    goals, tasks, the last note, and at most three points to focus on with suggestions
    (supportive, never prescriptive). Without a code: who has a current alert."""
    from alliance_cli.render.prep import show_brief, show_waiting
    from alliance_cli.services.reports.prep import patient_brief, patients_needing_prep

    config = settings(ctx)
    with database(ctx) as db:
        if code is None:
            waiting = patients_needing_prep(db, config, today())
        else:
            brief = patient_brief(db, code, config, today())
    if code is not None:
        show_brief(brief, fmt.value)
        return
    if not waiting and fmt != BriefFormat.json:
        message("No patient has a current alert: `alliance flags` lists watch flags.")
        return
    show_waiting(waiting, fmt.value)
