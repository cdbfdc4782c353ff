"""`alliance admin`: clinic set-up on PostgreSQL (who is a clinician, who supervises)."""

from __future__ import annotations

from typing import Annotated

import typer

from alliance_cli.cli.common import FormatOption, OutputFormat, database, state
from alliance_cli.render.console import message

app = typer.Typer(
    help="Clinic set-up on PostgreSQL: make database roles clinicians or supervisors.",
    no_args_is_help=True,
)

RoleArgument = Annotated[str, typer.Argument(metavar="ROLE", help="An existing login role.")]


def _refuse_a_sqlite_file(ctx: typer.Context, what: str) -> None:
    """On a SQLite file `admin` has nothing to do, whether the file exists or not."""
    location = state(ctx).location()
    if location.path is not None:
        from alliance_cli.services.maintenance.admin import not_postgres

        raise not_postgres(location, what)


@app.command("grant-clinician")
def grant_clinician(ctx: typer.Context, role: RoleArgument) -> None:
    """Let ROLE keep its own caseload (it sees only its own patients)."""
    from alliance_cli.services.maintenance.admin import grant

    _refuse_a_sqlite_file(ctx, "admin grant-clinician")
    with database(ctx) as db:
        grant(db, role, "clinician")
    message(f"{role} is a clinician: it reads and writes its own caseload only.")


@app.command("grant-supervisor")
def grant_supervisor(ctx: typer.Context, role: RoleArgument) -> None:
    """Let ROLE read every clinician's caseload (`--all-clinicians`)."""
    from alliance_cli.services.maintenance.admin import grant

    _refuse_a_sqlite_file(ctx, "admin grant-supervisor")
    with database(ctx) as db:
        grant(db, role, "supervisor")
    message(f"{role} is a supervisor: it reads every caseload.")


@app.command("roles")
def roles(ctx: typer.Context, fmt: FormatOption = OutputFormat.table) -> None:
    """List the clinician and supervisor roles."""
    from alliance_cli.render.formats import print_csv, print_json
    from alliance_cli.render.tables import Column, print_table
    from alliance_cli.services.maintenance.admin import members

    _refuse_a_sqlite_file(ctx, "admin roles")
    with database(ctx) as db:
        found = members(db)
    rows = [{"role": m.role, "kinds": list(m.kinds)} for m in found]
    if fmt == OutputFormat.json:
        print_json(rows)
    elif fmt == OutputFormat.csv:
        print_csv(("role", "kinds"), ({"role": m.role, "kinds": " ".join(m.kinds)} for m in found))
    else:
        print_table(
            [Column("role"), Column("kinds")], [[m.role, ", ".join(m.kinds)] for m in found]
        )
