"""What every command shares: the opened database, option types, parsing, confirmation.

Nothing here imports SQLAlchemy at module level, so `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.completion import complete_code
from alliance_cli.domain.dates import parse_date
from alliance_cli.domain.text import is_utf8, optional_text
from alliance_cli.errors import Cancelled, InvalidInput
from alliance_cli.paths import DatabaseLocation, resolve_database
from alliance_cli.render.safe_text import one_line

if TYPE_CHECKING:
    from alliance_cli.config import Settings
    from alliance_cli.services.database import Database


@dataclass
class AppState:
    """Global options, kept on the root context."""

    db_option: str | None = None
    clinician_option: str | None = None
    debug: bool = False
    _settings: Settings | None = None

    def location(self) -> DatabaseLocation:
        location = resolve_database(self.db_option)
        if not is_utf8(location.url):  # before anything is looked for or created
            if location.path is None:
                raise InvalidInput(f"the database URL from {location.source} is not UTF-8 text")
            raise InvalidInput(f"the database path from {location.source} {NOT_UTF8}", RENAME)
        return location

    def clinician(self) -> str:
        """Whose caseload (see alliance_cli/clinician.py); the config is read only if needed."""
        from alliance_cli.clinician import CLINICIAN_ENV, local_clinician, name_problem

        configured = None
        if self.clinician_option is None and not os.environ.get(CLINICIAN_ENV):
            configured = self.settings().clinician
        name, source = local_clinician(self.clinician_option, configured)
        problem = name_problem(name)
        if problem:
            raise InvalidInput(f"the clinician name from {source} {problem}")
        return name

    def settings(self) -> Settings:
        """The config file, read once per command (and only by commands that need it)."""
        if self._settings is None:
            from alliance_cli.config import load_settings

            self._settings = load_settings()
        return self._settings


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class TextFormat(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table on a terminal, or json / csv for scripts."),
]
TextFormatOption = Annotated[
    TextFormat, typer.Option("--format", "-f", help="text, or json for scripts.")
]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
CodeArgument = Annotated[
    str,
    typer.Argument(help="Pseudonymous patient code, e.g. P014.", autocompletion=complete_code),
]


NOT_UTF8 = "is not a UTF-8 file name"
RENAME = "SQLite opens only UTF-8 names: rename the file, or choose another"


def sqlite_path(param: typer.CallbackParam, value: Path | None) -> Path | None:
    """Callback of a file argument that SQLite will open or write (a backup, a demo
    database): its name must be UTF-8, as Python's sqlite3 encodes file names that way; a
    name with other bytes failed inside the driver as an internal error (exit 5)."""
    if value is not None and not is_utf8(str(value)):
        typed = param.opts[0] if param.opts else str(param.name)
        raise InvalidInput(
            f"{typed if typed.startswith('-') else typed.upper()} {NOT_UTF8}", RENAME
        )
    return value


def state(ctx: typer.Context) -> AppState:
    root = ctx.find_root()
    if not isinstance(root.obj, AppState):
        root.obj = AppState()
    return root.obj


@contextmanager
def database(ctx: typer.Context, *, create: bool = False) -> Iterator[Database]:
    """The database chosen by --db / ALLIANCE_DB / default, opened and migrated.

    A missing database is an error (`DatabaseMissing`, exit 4) unless `create` is given:
    only commands that can store something into a new database pass it, so a report
    over a mistyped path never answers with an empty "all clear".
    """
    from alliance_cli.services.database import open_database

    current = state(ctx)
    db = open_database(
        current.location(),
        create=create,
        clinician=current.clinician(),
        explicit_clinician=current.clinician_option is not None,
    )
    try:
        yield db
    finally:
        db.close()


def settings(ctx: typer.Context) -> Settings:
    return state(ctx).settings()


AllCliniciansOption = Annotated[
    bool,
    typer.Option(
        "--all-clinicians",
        help="Every clinician's patients (supervisors; on PostgreSQL, as far as your role "
        "may read), each with its clinician.",
    ),
]


def today() -> date:
    """Today's local date, from the one clock (alliance_cli/clock.py)."""
    from alliance_cli import clock

    return clock.today()


def to_date(value: str | None, what: str) -> date | None:
    return None if value is None else parse_date(value, today(), what=what)


AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        metavar="DATE",
        help="The report as it would have been on DATE: nothing dated later is used.",
    ),
]


def report_day(as_of: str | None) -> date:
    """The day a report is made as of: today, or an earlier day (`--as-of`) to make a past
    report again; a later one is refused, as what has not happened cannot be reported."""
    from alliance_cli.domain.dates import check_not_future

    day = to_date(as_of, "--as-of") or today()
    check_not_future(day, today(), what="--as-of")
    return day


def text_or_none(value: str | None, what: str) -> str | None:
    """Optional free text: NUL refused, blank means none."""
    return optional_text(value, what)


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def ask(question: str) -> str | None:
    """One line typed at the terminal (the question on stderr); None at end of input.

    Every prompt reads through here. Ctrl-C is left to the error boundary (cli/root.py),
    which exits 130 ("interrupted"): Typer's prompt and confirm turn Ctrl-C and Ctrl-D
    into the same Abort, so an interrupted prompt used to end as a refusal (exit 1).
    """
    try:
        sys.stderr.write(one_line(question) + ": ")
        sys.stderr.flush()
        return input()
    except EOFError:
        sys.stderr.write("\n")  # Ctrl-D leaves the cursor after the question
        return None
    except KeyboardInterrupt:
        sys.stderr.write("\n")  # the terminal echoed ^C without ending the line
        raise


def confirm(question: str, *, yes: bool, refusal: str) -> None:
    """Ask before something irreversible; without a terminal, require --yes."""
    if yes:
        return
    if not stdin_is_terminal():
        raise Cancelled(refusal, "pass --yes to confirm when not on a terminal")
    while True:
        answer = ask(f"{question} [y/N]")
        reply = "" if answer is None else answer.strip().lower()
        if reply in ("y", "yes"):
            return
        if answer is None or reply in ("", "n", "no"):
            raise Cancelled("nothing was changed")
        sys.stderr.write("Answer y or n.\n")
