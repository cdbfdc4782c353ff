"""What stdout writes for a character its encoding cannot take.

Under `PYTHONIOENCODING=ascii` or a latin-1 locale, the arrows, dashes and chart lines
alliance draws (and a name with an umlaut) used to fail the command half-way through its
output (exit 5). The error handler registered here writes a plain ASCII stand-in for
what alliance draws itself (arrows, dashes, box lines: one character for one where a
column must stay aligned) and a backslash escape for anything else (`M\\xfcller`), as
Python does on stderr: nothing is lost, nothing fails.
"""

from __future__ import annotations

import codecs

HANDLER = "alliance-ascii"

STAND_INS = {
    "\u2191": "^",  # ↑ trend up
    "\u2193": "v",  # ↓ trend down
    "\u2192": ">",  # → flat / "to"
    "\u2190": "<",
    "\u2013": "-",  # – en dash
    "\u2014": "-",  # — em dash (also "none" in reports)
    "\u2026": "...",  # … a cut-short cell
    "\u00b1": "+/-",  # ± change
    "\u2022": "*",  # • bullet
}


def stand_in(char: str) -> str:
    """ASCII for one character: its stand-in, a box line, or a backslash escape."""
    known = STAND_INS.get(char)
    if known is not None:
        return known
    if "\u2500" <= char <= "\u257f":  # box drawing: tables and chart frames
        import unicodedata

        name = unicodedata.name(char, "")
        if " AND " not in name and "HORIZONTAL" in name:
            return "-"
        if " AND " not in name and "VERTICAL" in name:
            return "|"
        return "+"
    return char.encode("ascii", "backslashreplace").decode("ascii")


def _handle(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(stand_in(char) for char in text), error.end


def register() -> str:
    """Register the handler (once per process is enough; again is harmless); its name."""
    codecs.register_error(HANDLER, _handle)
    return HANDLER
