"""Where output goes: data on stdout, messages on stderr; Rich only on a real terminal.

Plain text (no ANSI codes at all) when the stream is not a terminal or TERM is `dumb`;
on a terminal, Rich draws tables with borders, and `NO_COLOR` switches off colour only
(no-color.org): no ANSI codes at all, the borders stay. Rich is imported only when it
will be used.

Every byte of stdout goes through `WholeWrites` (installed by `guard_stdout` when the
program starts): a write is whole or it is `OutputLost`, never silently cut short.
"""

from __future__ import annotations

import io
import os
import select
import sys
from typing import TYPE_CHECKING, TextIO

from alliance_cli.errors import OutputLost
from alliance_cli.render import ascii_fallback
from alliance_cli.render.safe_text import one_line

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer
    from rich.console import Console


def wants_rich(stream: TextIO) -> bool:
    """A terminal that can take Rich's layout (borders, the terminal's width)."""
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def no_color() -> bool:
    """NO_COLOR set and not empty (no-color.org)."""
    return bool(os.environ.get("NO_COLOR"))


def wants_color(stream: TextIO) -> bool:
    """Colour (ANSI codes) on this stream: a Rich terminal, unless NO_COLOR is set."""
    return wants_rich(stream) and not no_color()


def rich_console(stream: TextIO | None = None) -> Console:
    """A console that never reads markup; with NO_COLOR it writes no ANSI code at all
    (Rich's own NO_COLOR support keeps bold and dim)."""
    from rich.console import Console

    return Console(
        file=stream or sys.stdout,
        highlight=False,
        markup=False,
        emoji=False,
        color_system=None if no_color() else "auto",
    )


def out(text: str = "") -> None:
    """A line of data on stdout (callers make user text safe first)."""
    sys.stdout.write(text + "\n")


def message(text: str) -> None:
    """A line for the human on stderr; never parsed as markup."""
    sys.stderr.write(one_line(text) + "\n")


def error_line(text: str, *, prefix: str = "error: ") -> None:
    sys.stderr.write(prefix + one_line(text) + "\n")


class WholeWrites(io.RawIOBase):
    """A file descriptor (stdout's) on which every write is whole or raises `OutputLost`.

    Python's own stdout returns from a write the system cut short (a full disk took 64 KiB
    of a 300 KiB export; a file size limit does the same) as if all of it was written, and
    the command ended with status 0 and a truncated file. Here a short write is continued
    until the system refuses, and that refusal is an error. After one, the rest of the
    output is dropped, so the loss is reported once (not again by the final flush).
    A reader that went away stays `BrokenPipeError`: that ends a command quietly.
    """

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd
        self._lost = False

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: ReadableBuffer) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        done = 0
        while done < size and not self._lost:
            try:
                written = os.write(self._fd, view[done:])
            except BlockingIOError:  # a non-blocking descriptor inherited from the shell
                select.select([], [self._fd], [])
                continue
            except BrokenPipeError:
                raise
            except OSError as error:
                self._lost = True
                raise OutputLost(os.strerror(error.errno) if error.errno else "failed") from None
            if written <= 0:
                self._lost = True
                raise OutputLost("the system took none of it")
            done += written
        return size


def guard_stdout() -> None:
    """Put `WholeWrites` under `sys.stdout`, keeping its encoding and buffering.

    A character the encoding cannot take (`PYTHONIOENCODING=ascii`, a latin-1 locale:
    an arrow, a dash, a name with an umlaut) is written in ASCII (`ascii_fallback`)
    instead of failing the command half-way through its output; an error handler the
    user chose is kept. Called once, first thing, by the console
    script; a stdout that is not a file descriptor (closed, or replaced by a test
    harness) is left as it is.
    """
    stream = sys.stdout
    if not isinstance(stream, io.TextIOWrapper):
        return
    try:
        stream.flush()
        fd = stream.fileno()
    except (OSError, ValueError):
        return
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(WholeWrites(fd)),
        encoding=stream.encoding,
        errors=ascii_fallback.register() if stream.errors == "strict" else stream.errors,
        newline="\n",  # as Python's own stdout on POSIX: no translation
        line_buffering=stream.line_buffering,
        write_through=stream.write_through,
    )
