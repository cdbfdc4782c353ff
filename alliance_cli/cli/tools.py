"""Top-level helpers: `alliance where` and `alliance demo`."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated

import typer

from alliance_cli.cli.common import (
    TextFormat,
    TextFormatOption,
    settings,
    sqlite_path,
    state,
    today,
)
from alliance_cli.render.console import message


def where(ctx: typer.Context, fmt: TextFormatOption = TextFormat.text) -> None:
    """Show where the database and config live, the schema version and counts."""
    from alliance_cli.render import views
    from alliance_cli.services.maintenance.info import database_info

    views.database_info(database_info(state(ctx).location()), fmt.value)


def demo(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            help="Where to write the demo database (default: demo.db in the data dir).",
            callback=sqlite_path,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite the file even if it holds more than an untouched demo caseload.",
        ),
    ] = False,
) -> None:
    """Write a synthetic caseload to a separate demo database and show it.

    An existing file is rewritten only if it holds nothing but a demo caseload that no
    command has changed (else exit 1, unless --force)."""
    from alliance_cli.paths import DatabaseLocation, default_demo_path, sqlite_url
    from alliance_cli.render import views
    from alliance_cli.services.care.patients import list_patients
    from alliance_cli.services.maintenance.demo import write_demo

    target = (path or default_demo_path()).expanduser().absolute()
    location = DatabaseLocation(
        url=sqlite_url(target), path=target, source="demo", is_default=path is None
    )
    from alliance_cli.render.progress import progress

    with progress("Writing the demo caseload"):
        db = write_demo(location, real=state(ctx).location(), force=force)
    try:
        rows = list_patients(db, settings(ctx), today())
    finally:
        db.close()
    views.patients(rows, "table")
    message(f"Demo caseload written to {target} (synthetic patients, invented data).")
    quoted = shlex.quote(str(target))
    message(f"Try:  alliance --db {quoted} prep D02")
    message(f"Or:   export ALLIANCE_DB={quoted}")
    message("Then: alliance prep  (who needs a brief before the next session)")
    message("And:  alliance outcomes  (how care ended for 12 discharged patients)")
