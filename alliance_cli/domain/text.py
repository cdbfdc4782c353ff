"""Rules for free text typed by users (codes, names, notes, goal and task text)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from alliance_cli.errors import InvalidInput

MAX_CODE_LENGTH = 64
MAX_TEXT_LENGTH = 20_000
_CODE_SPACE = re.compile(r"\s")
_SURROGATE = re.compile("[\ud800-\udfff]")  # bytes that were not UTF-8 (surrogateescape)


def is_utf8(value: str) -> bool:
    """Whether `value` came from valid UTF-8: Python decodes other bytes of an argument, a
    variable or a file name to lone surrogates, which no database (nor SQLite's file
    names) can take."""
    return _SURROGATE.search(value) is None


def clean_text(value: str, what: str, *, required: bool = True) -> str | None:
    """Text is stored exactly as typed, except that NUL is refused and blank means none."""
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character", "remove it and try again")
    if not is_utf8(value):
        raise InvalidInput(f"{what} is not valid UTF-8 text", "check the terminal's encoding")
    if len(value) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT_LENGTH} characters")
    if not value.strip():
        if required:
            raise InvalidInput(f"{what} is empty", f"give the {what} as text")
        return None
    return value


def optional_text(value: str | None, what: str) -> str | None:
    return None if value is None else clean_text(value, what, required=False)


def required_text(value: str, what: str) -> str:
    cleaned = clean_text(value, what, required=True)
    assert cleaned is not None
    return cleaned


def text_field(value: object, what: str, *, required: bool = False) -> str | None:
    """Text that arrived from a file (an import): what a typed value would be after
    Typer, then the same checks; a number or a list where text belongs is refused."""
    if value is None:
        if required:
            raise InvalidInput(f"{what} is missing")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text")
    return clean_text(value, what, required=required)


def one_of(value: object, choices: Sequence[str], what: str) -> str:
    """One of a fixed set of words (a status, a rater), as the command line's choices."""
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"{what} must be one of {', '.join(choices)}")
    return value


def check_code(code: str) -> str:
    """A patient code is a short pseudonym without spaces, e.g. P014."""
    clean = required_text(code, "patient code")
    if len(clean) > MAX_CODE_LENGTH or _CODE_SPACE.search(clean):
        raise InvalidInput(
            "patient code must be at most 64 characters with no spaces",
            "use a short pseudonym such as P014",
        )
    if not clean.isprintable():
        raise InvalidInput("patient code contains control characters", "use letters and digits")
    return clean
