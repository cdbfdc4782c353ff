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


# ------------------------------------------------------------------ Markdown
# Only what would otherwise become structure is escaped, so that a note reads as typed in
# a mail or a raw file (`35.0`, `(8.5 -> 4.5)`, `snake_case`, `a < b` stay as they are).
# Anywhere: `` ` * [ | ~ `` (code, emphasis, links and images, table cells, GFM
# strikethrough), `_` but inside a word, `<` before what could open a tag or an autolink,
# `&` before what could be an entity, `\` before punctuation or at the end, and the `.` of
# `www.` and `:` of `://` (GFM autolinks). At the start (a line start in a list item): the
# block markers `#`, `>`, `-`, `+`, `=` (not before a digit: `-3.5`) and the `.` or `)` of
# `1.`; a trailing run of `#` after a space (a heading's closing sequence).
_INLINE_MARKERS = frozenset("`*[|~")
_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_NEWLINES = re.compile(r"\r\n|\r|\n")
_ENTITY = re.compile(r"&#?[0-9A-Za-z]+;")
_AUTOLINKS = re.compile(r"(?i)(?<![0-9a-z])www(\.)|(:)//")
_ORDERED = re.compile(r"[0-9]{1,9}([.)])")
_CLOSING_HASHES = re.compile(r"(?<= )#+ *$")


def _escaped_at(body: str) -> set[int]:
    """The positions in `body` that get a backslash."""
    marks: set[int] = set()
    for index, char in enumerate(body):
        before = body[index - 1] if index else ""
        after = body[index + 1] if index + 1 < len(body) else ""
        if (
            char in _INLINE_MARKERS
            or (char == "_" and not (before.isalnum() and after.isalnum()))
            or (char == "<" and ((after.isascii() and after.isalpha()) or after in ("/", "!", "?")))
            or (char == "&" and _ENTITY.match(body, index))
            or (char == "\\" and (not after or after in _ASCII_PUNCTUATION))
        ):
            marks.add(index)
    marks.update(m.start(1) if m.group(1) else m.start(2) for m in _AUTOLINKS.finditer(body))
    if body[:1] in ("#", ">") or (body[:1] in ("-", "+", "=") and not body[1:2].isdigit()):
        marks.add(0)
    if ordered := _ORDERED.match(body):
        marks.add(ordered.start(1))
    if closing := _CLOSING_HASHES.search(body):
        marks.add(closing.start())
    return marks


def _entities(text: str) -> str:
    return "".join(f"&#x{ord(char):x};" for char in text)


def escape_markdown(text: str) -> str:
    """Inline user text that can create no structure and reads back exactly as typed.

    Wherever a document puts it (a heading, a list item, a table cell, a paragraph), it
    makes no heading, list, quote, code, table cell, link, image, emphasis or raw HTML.
    Newlines become spaces, control characters a visible escape (`one_line`), leading or
    trailing whitespace (which a paragraph or cell would strip) numeric entities.
    (cmark-gfm links an e-mail address, `a@b.org`, whatever is escaped: it finds them in
    the text after parsing. The link is `mailto:` the address shown, nothing else.)
    """
    flat = one_line(_NEWLINES.sub(" ", text))
    start, end = 0, len(flat)
    while start < end and (flat[start].isspace() or flat[start] == "\ufeff"):
        start += 1
    while end > start and (flat[end - 1].isspace() or flat[end - 1] == "\ufeff"):
        end -= 1
    body = flat[start:end]
    marks = _escaped_at(body)
    escaped = "".join("\\" + char if i in marks else char for i, char in enumerate(body))
    return _entities(flat[:start]) + escaped + _entities(flat[end:])
