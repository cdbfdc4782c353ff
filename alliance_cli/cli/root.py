"""The root command (the Typer tree): global options and the one error boundary.

Every expected failure is an `AllianceError` that becomes a one-line message on
stderr and its exit code; anything else is reported as an internal error without
details (they could hold patient data) unless `--debug` is given.
"""

from __future__ import annotations

import errno
import os
from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from alliance_cli import __version__
from alliance_cli.adapters.typer_internals import (
    CheapGroup,
    coerce_cheaply,
    is_no_args_help,
    without_completion,
)
from alliance_cli.cli.app import DEBUG_MARK, PRIVATE_UMASK
from alliance_cli.cli.common import AppState, state
from alliance_cli.errors import AllianceError, ExitCode
from alliance_cli.render.console import error_line
from alliance_cli.render.safe_text import one_line

# Commands are built only when their name is typed (or all of them for the root's
# --help): Typer inspects every command's signature while building it, and each module
# imports what its commands need, so `alliance session add` builds and imports only the
# session group. Name -> (module, function); a function of None means the module's `app`
# is a noun group. The order is the order of `alliance --help`.
LAZY: dict[str, tuple[str, str | None]] = {
    "rate": ("alliance_cli.cli.session", "add"),
    "flags": ("alliance_cli.cli.flags", "flags"),
    "prep": ("alliance_cli.cli.prep", "prep"),
    "trend": ("alliance_cli.cli.trend", "trend"),
    "summary": ("alliance_cli.cli.summary", "summary"),
    "outcomes": ("alliance_cli.cli.outcomes", "outcomes"),
    "log": ("alliance_cli.cli.audit_cmd", "log"),
    "undo": ("alliance_cli.cli.audit_cmd", "undo"),
    "where": ("alliance_cli.cli.tools", "where"),
    "demo": ("alliance_cli.cli.tools", "demo"),
    "export": ("alliance_cli.cli.transfer", "export"),
    "import": ("alliance_cli.cli.transfer", "import_"),
    "backup": ("alliance_cli.cli.maintenance", "backup"),
    "restore": ("alliance_cli.cli.maintenance", "restore"),
    "doctor": ("alliance_cli.cli.maintenance", "doctor"),
    "encrypt": ("alliance_cli.cli.maintenance", "encrypt"),
    "decrypt": ("alliance_cli.cli.maintenance", "decrypt"),
    "patient": ("alliance_cli.cli.patient", None),
    "goal": ("alliance_cli.cli.goal", None),
    "task": ("alliance_cli.cli.task", None),
    "session": ("alliance_cli.cli.session", None),
    "repair": ("alliance_cli.cli.repair", None),
    "admin": ("alliance_cli.cli.admin", None),
    "config": ("alliance_cli.cli.config_cmd", None),
}
HELP = {"rate": "Record a session's ratings (same as `alliance session add`)."}


def build_command(name: str) -> Any:
    """The Click command for `name` (see LAZY), with the root's plain help."""
    import importlib

    import typer.main

    from alliance_cli.cli.help_style import plain_help

    module_name, function = LAZY[name]
    module = importlib.import_module(module_name)
    if function is None:
        holder: typer.Typer = module.app
        holder.info.cls = CheapGroup
    else:
        holder = typer.Typer()
        holder.command(name, help=HELP.get(name))(getattr(module, function))
    holder.rich_markup_mode = None  # as the root: plain help, no Rich import
    without_completion(holder)  # completion is installed from the root only
    command = typer.main.get_command(holder)
    command.name = name
    plain_help(command)
    coerce_cheaply(command)
    return command


def listed_help(name: str) -> str | None:
    """The help of command `name` as Typer gives it, read without building the command."""
    import importlib
    import inspect

    module_name, function = LAZY[name]
    module = importlib.import_module(module_name)
    if function is None:
        info = module.app.info
        return info.help or (inspect.getdoc(info.callback) if info.callback else None)
    return HELP.get(name) or inspect.getdoc(getattr(module, function))


class AllianceGroup(CheapGroup):
    """The root group: turns errors into messages and exit codes (see module doc), and
    builds commands on demand (LAZY)."""

    def list_commands(self, ctx: Any) -> list[str]:
        listed = list(super().list_commands(ctx))
        return listed + [name for name in LAZY if name not in listed]

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """Typer's command list, where a command not built yet is listed from its help
        text alone: building all of them for `alliance --help` took ~50 ms."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or TyperCommand(
                name, help=listed_help(name), rich_markup_mode=None
            )
            if not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in LAZY:
            for name in LAZY:  # a typo: "Did you mean" considers every command
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in LAZY and cmd_name not in self.commands:
            self.add_command(build_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort):
            raise
        except typer.TyperException as error:
            # A usage error may quote what was typed: never let it drive the terminal.
            # (A group typed alone "fails" with its own help, which is ours and multi-line.)
            if not is_no_args_help(error):
                error.message = one_line(error.message).removeprefix(PYDANTIC_PREFIX)
            raise
        except BrokenPipeError:
            # The reader went away (`alliance ... | head`): stop quietly.
            _silence_stdout()
            raise typer.Exit(int(ExitCode.OK)) from None
        except KeyboardInterrupt:
            error_line("interrupted; nothing more was written")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as error:
            if _debug(ctx):
                # The entry point (app.py) prints the traceback, then `report`s the error:
                # the same line and exit code as without --debug.
                setattr(error, DEBUG_MARK, True)
                raise
            raise typer.Exit(report(error)) from None


def report(error: Exception, *, traceback_shown: bool = False) -> int:
    """Say on stderr why the command failed, in one line, and give its exit code.

    The one mapping from an error to a message and an exit code, with or without --debug:
    `--debug` only adds the traceback before it (`traceback_shown`), never another code.
    """
    if isinstance(error, AllianceError):
        error_line(str(error))
        for detail in error.details:
            error_line(detail, prefix="  ")
        return int(error.exit_code)
    if isinstance(error, OSError) and error.errno in DISK_FULL:
        # Files alliance writes turn this into their own message (fsync_file); what
        # is left is stdout on a full disk: the output is incomplete.
        error_line(f"could not write the output ({os.strerror(error.errno)})")
        _silence_stdout()
        return int(ExitCode.ERROR)
    then = (
        "The traceback is above" if traceback_shown else "Rerun with --debug to see the traceback"
    )
    error_line(f"internal error ({type(error).__name__}); the database was left as it was. {then}")
    return int(ExitCode.INTERNAL)


DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # errors only a write can meet
# Typer checks values with pydantic, which starts the message of a refused value with this.
PYDANTIC_PREFIX = "Value error, "


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
    invoke_without_command=True,  # `alliance` alone: the caseload at a glance
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
    from alliance_cli.cli.keys import install

    install()  # the store asks the keyring, then the terminal, for an encrypted file's key
    current = state(ctx)
    current.db_option = db
    current.clinician_option = clinician
    current.debug = debug
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        _glance(ctx)


def _glance(ctx: typer.Context) -> None:
    """`alliance` typed alone: like `git status`, what needs attention now (exit 0); a
    missing database is exit 4, as for every report (`alliance --help` lists commands)."""
    from alliance_cli.cli.common import database, settings, today
    from alliance_cli.render.glance import show_glance
    from alliance_cli.services.reports.glance import glance

    with database(ctx) as db:
        found = glance(db, settings(ctx), today())
    show_glance(found)
