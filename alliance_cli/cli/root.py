"""The root command (the Typer tree): global options and the one error boundary.

Every expected failure is an `AllianceError` that becomes a one-line message on
stderr and its exit code; anything else is reported as an internal error without
details (they could hold patient data) unless `--debug` is given.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from alliance_cli import __version__
from alliance_cli.cli import (
    admin,
    audit_cmd,
    config_cmd,
    flags,
    goal,
    maintenance,
    patient,
    session,
    summary,
    task,
    tools,
    transfer,
    trend,
)
from alliance_cli.cli.app import PRIVATE_UMASK
from alliance_cli.cli.common import AppState, state
from alliance_cli.errors import AllianceError, ExitCode
from alliance_cli.render.console import error_line
from alliance_cli.render.safe_text import one_line


class AllianceGroup(TyperGroup):
    """The root group: turns errors into messages and exit codes (see module doc)."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as error:
            # A usage error may quote what was typed: never let it drive the terminal.
            error.message = one_line(error.message)
            raise
        except AllianceError as error:
            if _debug(ctx):
                raise
            error_line(str(error))
            for detail in error.details:
                error_line(detail, prefix="  ")
            raise typer.Exit(int(error.exit_code)) from None
        except BrokenPipeError:
            # The reader went away (`alliance ... | head`): stop quietly.
            _silence_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None
        except KeyboardInterrupt:
            error_line("interrupted; nothing more was written")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as error:
            if _debug(ctx):
                raise
            error_line(
                f"internal error ({type(error).__name__}); the database was left as it was. "
                "Rerun with --debug to see the traceback"
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the final flush cannot fail again."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _debug(ctx: Any) -> bool:
    obj = ctx.find_root().obj
    return bool(isinstance(obj, AppState) and obj.debug)


app = typer.Typer(
    name="alliance",
    cls=AllianceGroup,
    help="Track the therapeutic alliance (bond, goals, tasks) with each patient.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"alliance {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="PATH_OR_URL",
            help="Database file or SQLAlchemy URL (default: $ALLIANCE_DB, "
            "else alliance.db in the user data directory).",
        ),
    ] = None,
    clinician: Annotated[
        str | None,
        typer.Option(
            "--clinician",
            metavar="NAME",
            help="Whose caseload to work on, on a SQLite file (default: $ALLIANCE_CLINICIAN, "
            "else general.clinician in the config, else your user name). On PostgreSQL, "
            "the role you connect as.",
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Track the therapeutic alliance (bond, goals, tasks) with each patient."""
    os.umask(PRIVATE_UMASK)
    current = state(ctx)
    current.db_option = db
    current.clinician_option = clinician
    current.debug = debug


app.add_typer(patient.app, name="patient")
app.add_typer(goal.app, name="goal")
app.add_typer(task.app, name="task")
app.add_typer(session.app, name="session")
app.add_typer(admin.app, name="admin")
app.command("rate", help="Record a session's ratings (same as `alliance session add`).")(
    session.add
)
app.command("flags")(flags.flags)
app.command("trend")(trend.trend)
app.command("summary")(summary.summary)
app.command("log")(audit_cmd.log)
app.command("undo")(audit_cmd.undo)
app.add_typer(config_cmd.app, name="config")
tools.register(app)
transfer.register(app)
maintenance.register(app)
