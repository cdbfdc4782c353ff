"""Make user-typed text safe to print: it is shown literally, never interpreted.

Rich passes terminal escape sequences straight through, so control characters (C0 but
tab and newline, DEL, C1) and the bidirectional overrides that can reorder what a
reader sees are replaced with a visible escape such as `\\x1b` before printing.
Rich markup is never parsed in user text: renderers wrap it in `rich.text.Text`.
"""

from __future__ import annotations

import re

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_UNSAFE_OR_NEWLINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_UNSAFE_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """Escape control characters; keep tabs and newlines (for multi-line display)."""
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """Escape control characters and newlines too (for table cells and messages)."""
    return _UNSAFE_OR_NEWLINE.sub(_escape, text)


def keep_newlines(text: str) -> str:
    """Escape control characters and tabs, keep newlines (for CSV cells)."""
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)
