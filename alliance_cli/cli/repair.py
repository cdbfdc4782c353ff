"""`alliance repair ...`: what was tried after a flag, and whether it worked."""

from __future__ import annotations

from typing import Annotated

import typer

from alliance_cli.cli.common import (
    CodeArgument,
    FormatOption,
    OutputFormat,
    database,
    settings,
    text_or_none,
    to_date,
    today,
)
from alliance_cli.render.console import message, out

app = typer.Typer(
    help="Repair attempts after a rupture, drop or low score, followed up by later sessions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("add")
def add(
    ctx: typer.Context,
    code: CodeArgument,
    strategy: Annotated[
        str,
        typer.Option(
            "--strategy",
            metavar="NAME",
            help="acknowledge, explore, validate, metacommunicate, revisit-goals, "
            "renegotiate-tasks, other (or one of the config file's [repair] strategies).",
        ),
    ],
    when: Annotated[
        str, typer.Option("--date", metavar="DATE", help="When it was tried (default today).")
    ] = "today",
    note: Annotated[str | None, typer.Option("--note", help="What was tried, briefly.")] = None,
) -> None:
    """Record a repair attempt; it links itself to the patient's current rupture, drop or
    low flag (the most severe, latest). Prints the new repair's id."""
    from alliance_cli.render.repairs import answered
    from alliance_cli.services.care.repairs import add_repair

    on = to_date(when, "--date")
    assert on is not None
    note_text = text_or_none(note, "note")
    config = settings(ctx)
    with database(ctx) as db:
        repair = add_repair(
            db,
            code,
            on=on,
            strategy=strategy.strip(),
            note=note_text,
            settings=config,
            today=today(),
        )
    out(str(repair.id))
    link = f" for the {answered(repair.flag)}" if repair.flag else " (no current flag to link)"
    message(f"Added repair {repair.id} of {repair.patient}{link}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    code: CodeArgument,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List a patient's repair attempts, oldest first, with their outcome: repaired,
    not-yet (later sessions, none back) or pending (no later session yet)."""
    from alliance_cli.render.repairs import repairs
    from alliance_cli.services.care.repairs import list_repairs

    with database(ctx) as db:
        found = list_repairs(db, code, settings(ctx))
    if not found and fmt == OutputFormat.table:
        message("No repair attempts recorded: `alliance repair add CODE --strategy NAME`.")
        return
    repairs(found, fmt.value)
