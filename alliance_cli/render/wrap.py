"""Plain text folded to a width at spaces, for reports read in a terminal or a mail.

A line is broken only at a space, so a code, a date or a score is never split; a word
is cut only when it is wider than the whole line (a long URL in a note). Widths count
terminal columns: a wide East Asian character takes two, a combining mark none.
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import TextIO

DEFAULT_WIDTH = 80  # what a pipe, a file or a cron mail gets
MIN_WIDTH = 30  # narrower terminals get this (lines then run past their edge)
GLUE = "\x1f"  # joins words that must stay on one line ("bond 9.0"); shown as a space
# A number stays beside the word that names it (`bond -5.0`, `SD 0.0`, `total down about
# 3.8`), an arrow beside both values (`18.5 -> 14.5`).
_NAMED_NUMBER = re.compile(r"(\b[A-Za-z][A-Za-z-]*) (?=(?:down )?(?:about )?[-+±(]?\d)")


def keep_numbers_named(text: str) -> str:
    """`text` with GLUE where a line must not fold: between a score and its name, and
    around an arrow between two values (flag texts, in every folded view)."""
    return _NAMED_NUMBER.sub(rf"\1{GLUE}", text).replace(" -> ", f"{GLUE}->{GLUE}")


_TOKENS = re.compile("[^ ]+| +")


def cell_width(text: str) -> int:
    """The columns `text` takes on a terminal."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in "WF" else 1
    return width


def output_width(stream: TextIO | None, default: int = DEFAULT_WIDTH) -> int:
    """The terminal's width (`COLUMNS` when set) when `stream` is a terminal, else
    `default`: a report piped, mailed by cron or written to a file is the same every time."""
    isatty = getattr(stream, "isatty", None)
    if stream is None or not (isatty and isatty()):
        return default
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        return max(os.get_terminal_size(stream.fileno()).columns, MIN_WIDTH)
    except (OSError, ValueError):
        return default


def _cut(word: str, room: int) -> tuple[str, str]:
    """The longest head of `word` that fits in `room` columns (one character at least)."""
    width = 0
    for index, char in enumerate(word):
        width += cell_width(char)
        if width > room and index:
            return word[:index], word[index:]
    return word, ""


def wrap(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    """`text` as lines of at most `width` columns: the first starts with `indent`, the
    others with `hang` (default: `indent`). Runs of spaces inside a line are kept (they
    align columns); a `GLUE` joins two words like a space that never breaks."""
    hang = indent if hang is None else hang
    lines: list[str] = []
    line, used, pending = indent, cell_width(indent), ""
    fresh = True  # nothing but the indent on this line yet
    for token in _TOKENS.findall(text):
        if token.startswith(" "):
            pending = token
            continue
        word = token.replace(GLUE, " ")
        size = cell_width(word)
        if not fresh and used + len(pending) + size > width:
            lines.append(line)
            line, used, fresh = hang, cell_width(hang), True
        if not fresh:
            line, used = line + pending, used + len(pending)
        pending = ""
        while used + size > width:  # only on a fresh line: a word wider than any line
            head, word = _cut(word, max(width - used, 1))
            lines.append(line + head)
            line, used = hang, cell_width(hang)
            size = cell_width(word)
        line, used, fresh = line + word, used + size, False
    lines.append(line)
    return lines
