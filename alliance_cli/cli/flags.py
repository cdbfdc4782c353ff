"""`alliance flags`: which alliances are weakening, most severe first, with reasons."""

from __future__ import annotations

from typing import Annotated

import typer

from alliance_cli.cli.common import (
    AllCliniciansOption,
    AsOfOption,
    FormatOption,
    OutputFormat,
    database,
    report_day,
    settings,
)
from alliance_cli.cli.completion import complete_code
from alliance_cli.domain.vocabulary import Severity
from alliance_cli.render.console import message


def flags(
    ctx: typer.Context,
    code: Annotated[
        str | None,
        typer.Argument(
            help="One patient's code (default: every active patient).",
            autocompletion=complete_code,
        ),
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option("--severity", help="Only flags at least this severe: alert, watch, info."),
    ] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Every flag every session ever raised.")
    ] = False,
    suggest: Annotated[
        bool,
        typer.Option(
            "--suggest",
            help="Add what to try for each flag (suggestions with their sources; you decide).",
        ),
    ] = False,
    as_of: AsOfOption = None,
    all_clinicians: AllCliniciansOption = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show what needs attention now: low scores, drops, declines, ruptures, discrepancies,
    early risk, no contact and missed tasks. --as-of DATE shows what needed attention on
    DATE (later sessions and reviews ignored, no contact counted to DATE)."""
    from alliance_cli.domain.flags import filter_severity
    from alliance_cli.render import views
    from alliance_cli.services.reports.flags import caseload_flags, patient_flags

    day = report_day(as_of)
    config = settings(ctx)
    with database(ctx) as db:
        if code is None:
            found = caseload_flags(db, config, day, history=history, all_clinicians=all_clinicians)
        else:
            found = patient_flags(db, code, config, day, history=history)
    found = filter_severity(found, severity)
    if not found and fmt == OutputFormat.table:
        when = day.isoformat()
        if history:
            message("No flags ever raised." if as_of is None else f"No flags raised by {when}.")
        elif as_of is None:
            message("No flags: nothing needs attention.")
        else:
            message(f"No flags: nothing needed attention on {when}.")
        return
    clinic_wide = all_clinicians and code is None
    if suggest and fmt != OutputFormat.table:
        from alliance_cli.render.suggestions import flag_suggestions

        flag_suggestions(found, config.suggestions, fmt.value, clinicians=clinic_wide)
        return
    views.flag_table(found, fmt.value, clinicians=clinic_wide)
    if suggest:
        from alliance_cli.render.suggestions import flag_suggestions

        flag_suggestions(found, config.suggestions, fmt.value, clinicians=clinic_wide)
