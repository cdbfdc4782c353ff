"""The caseload at a glance, as a few lines of text that fit the terminal (or 80 columns)."""

from __future__ import annotations

import shutil
import sys
import textwrap

from alliance_cli.domain.glance import Attention, Glance
from alliance_cli.domain.words import plural
from alliance_cli.render.console import out, rich_console, wants_color, wants_rich
from alliance_cli.render.safe_text import one_line

LABEL_WIDTH = 12
STYLES = {"alert": "bold red", "watch": "yellow", "no contact": "yellow"}
HINT = "`alliance flags` says why, `alliance trend CODE` charts one patient."


def _width() -> int:
    if wants_rich(sys.stdout):
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def _named(who: Attention) -> str:
    code = one_line(who.patient)
    return f"{code} ({', '.join(who.kinds)})" if who.kinds != ("no-contact",) else code


def _pack(items: list[str], width: int) -> list[str]:
    """Items joined by ", " into lines of at most `width`, never splitting an item (one
    longer than the width stands alone on its line, whole)."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + 2 + len(item) + 1 <= width:
            lines[-1] += ", " + item
        else:
            if lines:
                lines[-1] += ","
            lines.append(item)
    return lines


def glance_lines(glance: Glance, width: int = 80) -> list[tuple[str, str]]:
    """(label, line) pairs: the label is the severity a line is coloured by, or ""."""
    head = (
        f"Caseload on {glance.as_of.isoformat()}: {plural(glance.in_care, 'patient')} in care, "
        f"{glance.seen_this_week} seen in the last 7 days."
    )
    lines = [("", line) for line in textwrap.wrap(head, width)] + [("", "")]
    if glance.in_care == 0:
        lines.append(("", "No patients in care: `alliance patient add CODE` adds one."))
        return lines
    if glance.quiet:
        quiet = "Nothing needs attention: no alerts, no watch flags, no one out of contact."
        lines.extend(("", line) for line in textwrap.wrap(quiet, width))
        return lines
    groups = (("alert", glance.alerts), ("watch", glance.watch), ("no contact", glance.no_contact))
    for label, people in groups:
        if not people:
            continue
        packed = _pack([_named(who) for who in people], width - LABEL_WIDTH)
        indents = [label.ljust(LABEL_WIDTH)] + [" " * LABEL_WIDTH] * (len(packed) - 1)
        lines.extend((label, indent + line) for indent, line in zip(indents, packed, strict=True))
    lines += [("", ""), ("", HINT)]
    return lines


def show_glance(glance: Glance) -> None:
    width = _width()
    lines = glance_lines(glance, width)
    if not wants_color(sys.stdout):
        for _, line in lines:
            out(line)
        return
    from rich.text import Text

    console = rich_console()
    for label, line in lines:
        text = Text(line, no_wrap=True, overflow="ignore")
        if label:
            text.stylize(STYLES[label], 0, len(label))
        console.print(text, soft_wrap=True)
