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


_FHIR_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def fhir_text(text: str) -> str:
    """A FHIR string: control characters below U+0020 but tab, CR and LF (which R4 says
    strings SHOULD NOT hold) as visible escapes (`\\x1b`); all else as stored."""
    return _FHIR_FORBIDDEN.sub(_escape, text)


def printable(text: str) -> str:
    """Escape control characters; keep tabs and newlines (for multi-line display)."""
    return _UNSAFE.sub(_escape, text)


def one_line(text: str) -> str:
    """Escape control characters and newlines too (for table cells and messages)."""
    return _UNSAFE_OR_NEWLINE.sub(_escape, text)


def keep_newlines(text: str) -> str:
    """Escape control characters and tabs, keep newlines."""
    return _UNSAFE_BUT_NEWLINE.sub(_escape, text)


# Reversible escaping (CSV cells): what `keep_newlines` escapes, always as `\xHH` or
# `\uHHHH` (a tab too: `\t` would make every `\t` typed in a Windows path ambiguous), and
# a backslash as `\\` only where it would otherwise read as the start of an escape.
_ESCAPED = f"\x00-\x09\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}"
_TO_ESCAPE = re.compile(
    f"[{_ESCAPED}]|\\\\(?=[\\\\{_ESCAPED}]|x[0-9a-fA-F]{{2}}|u[0-9a-fA-F]{{4}})"
)
_AN_ESCAPE = re.compile(r"\\(?:(\\)|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4}))")


def _escape_reversibly(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_reversibly(text: str) -> str:
    """Escape control characters but newline, so that `unescape` gives `text` back."""
    return _TO_ESCAPE.sub(_escape_reversibly, text)


def _unescape(match: re.Match[str]) -> str:
    backslash, byte, wide = match.groups()
    return backslash or chr(int(byte or wide, 16))


def unescape(text: str) -> str:
    """The text `escape_reversibly` was given; any other backslash stays as it is."""
    return _AN_ESCAPE.sub(_unescape, text)
