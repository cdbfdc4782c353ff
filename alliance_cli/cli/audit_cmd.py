"""`alliance log` and `alliance undo`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    FormatOption,
    OutputFormat,
    YesOption,
    confirm,
    database,
    to_date,
)
from alliance_cli.cli.completion import complete_code
from alliance_cli.render.console import message

if TYPE_CHECKING:
    from alliance_cli.services.care.audit import LogEntry


def log(
    ctx: typer.Context,
    code: Annotated[
        str | None,
        typer.Argument(help="Only this patient's changes.", autocompletion=complete_code),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", metavar="DATE", help="Only changes from DATE on.")
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show the audit trail: when, who, which action, which record (never the content)."""
    from alliance_cli.services.care.audit import audit_log

    with database(ctx) as db:
        entries = audit_log(db, code, to_date(since, "--since"))
    if not entries and fmt == OutputFormat.table:
        message("No changes recorded.")
        return
    _print(entries, fmt.value)


def _print(entries: list[LogEntry], fmt: str) -> None:
    from alliance_cli.render.formats import print_csv, print_json
    from alliance_cli.render.tables import Column, print_table

    keys = ("id", "at", "actor", "machine", "action", "entity", "record_id", "patient", "undone")
    rows = [
        {
            "id": e.id,
            "at": e.at.replace(microsecond=0).isoformat(),
            "actor": e.actor,
            "machine": e.machine,
            "action": e.action,
            "entity": e.entity,
            "record_id": e.record_id,
            "patient": e.patient,
            "undone": e.undone,
        }
        for e in entries
    ]
    if fmt == "json":
        print_json(rows)
    elif fmt == "csv":
        print_csv(keys, rows)
    else:
        print_table(
            [Column(k, numeric=k in ("id", "record_id")) for k in keys],
            [["" if r[k] is None else str(r[k]) for k in keys] for r in rows],
        )


def undo(ctx: typer.Context, yes: YesOption = False) -> None:
    """Revert the last change made from this machine (asks first, showing what)."""
    from alliance_cli.services.care.audit import plan_undo
    from alliance_cli.services.care.audit import undo as run_undo

    with database(ctx) as db:
        plan = plan_undo(db)
        what = "; ".join(
            f"{e.action} {e.entity} {e.record_id or ''}".rstrip()
            + (f" of {e.patient}" if e.patient else "")
            for e in plan.entries
        )
        first = plan.entries[0]
        confirm(
            f"Undo {what} (by {first.actor} at {first.at.replace(microsecond=0).isoformat()})?",
            yes=yes,
            refusal="refusing to undo without confirmation",
        )
        run_undo(db, plan.txn)
    message(f"Undone: {what}.")
