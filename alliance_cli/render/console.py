"""Where output goes: data on stdout, messages on stderr; Rich only on a real terminal.

Plain text (no ANSI codes at all) when the stream is not a terminal, when `NO_COLOR`
is set, or when TERM is `dumb`; Rich is imported only when it will be used.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from alliance_cli.render.safe_text import one_line

if TYPE_CHECKING:
    from rich.console import Console


def wants_rich(stream: TextIO) -> bool:
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def rich_console(stream: TextIO | None = None) -> Console:
    from rich.console import Console

    return Console(file=stream or sys.stdout, highlight=False, markup=False, emoji=False)


def out(text: str = "") -> None:
    """A line of data on stdout (callers make user text safe first)."""
    sys.stdout.write(text + "\n")


def message(text: str) -> None:
    """A line for the human on stderr; never parsed as markup."""
    sys.stderr.write(one_line(text) + "\n")


def error_line(text: str, *, prefix: str = "error: ") -> None:
    sys.stderr.write(prefix + one_line(text) + "\n")
