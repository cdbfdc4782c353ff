"""Typed errors and the exit-code enum: the one vocabulary shared by every layer.

Each error carries the exit code it maps to and a one-line message that is safe to
show (it names what the user typed, never stored patient data).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (README, "Exit codes")."""

    OK = 0
    ERROR = 1  # bad input or a request the data cannot satisfy
    USAGE = 2  # the command line itself is wrong (unknown option, missing argument)
    ALERTS = 3  # a report found alerts and --fail-on-flags was given
    DATABASE = 4  # the database cannot be opened or used (missing, locked, not SQLite, read-only)
    INTERNAL = 5  # a bug in alliance; rerun with --debug to see the traceback
    INTERRUPTED = 130  # cancelled with Ctrl-C


class AllianceError(Exception):
    """Base of every error we expect and explain; never shown with a traceback."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(
        self, message: str, hint: str | None = None, details: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details  # further lines, e.g. each bad row of an import

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidInput(AllianceError):
    """A value typed by the user is malformed or out of range."""


class MissingOption(AllianceError):
    """The command line lacks something that only a terminal could have asked for (exit
    2, as a usage error, but said on one line)."""

    exit_code = ExitCode.USAGE


class NotFound(AllianceError):
    """A patient, goal, task or session the user named does not exist."""


class Conflict(AllianceError):
    """The request clashes with what is stored (duplicate code, second rating set)."""


class Cancelled(AllianceError):
    """The user declined a confirmation, or no confirmation was possible."""


class OutputLost(AllianceError):
    """stdout did not take all of the output (a full disk, a file size limit, an I/O
    error): what was written is incomplete, so the command must not end in success."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"could not write the output ({reason})")


class StorageError(AllianceError):
    """The database cannot be opened, read or written."""

    exit_code = ExitCode.DATABASE


class DatabaseMissing(StorageError):
    """The database the user pointed at does not exist (yet). A report over it would be an
    empty "all clear", so commands that only read stop here instead of creating it."""
