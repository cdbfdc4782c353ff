"""The caseload at a glance, as a few lines of text that fit the terminal (or 80 columns)."""

from __future__ import annotations

import sys

from alliance_cli.domain.glance import Attention, Glance
from alliance_cli.domain.words import plural
from alliance_cli.render.console import out, rich_console, wants_color
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.wrap import GLUE, cell_width, output_width, wrap

LABEL_WIDTH = 12
STYLES = {"alert": "bold red", "watch": "yellow", "no contact": "yellow"}
HINT = "`alliance flags` says why, `alliance trend CODE` charts one patient."


def _named(who: Attention, room: int) -> str:
    """One patient and its kinds, kept on one line when it fits in `room` columns (a
    line never splits a patient's entry), else breakable only after its commas."""
    code = one_line(who.patient).replace(" ", GLUE)
    if who.kinds == ("no-contact",):
        return code
    whole = f"{code} ({', '.join(who.kinds)})"
    if cell_width(whole) <= room:
        return whole.replace(" ", GLUE)
    kinds = ", ".join(kind.replace(" ", GLUE) for kind in who.kinds)
    return f"{code}{GLUE}({kinds})"


def glance_lines(glance: Glance, width: int = 80) -> list[tuple[str, str]]:
    """(label, line) pairs: the label is the severity a line is coloured by, or ""."""
    head = (
        f"Caseload on {glance.as_of.isoformat()}: {plural(glance.in_care, 'patient')} in care, "
        f"{glance.seen_this_week} seen in the last 7 days."
    )
    lines = [("", line) for line in wrap(head, width)] + [("", "")]
    if glance.in_care == 0:
        lines.append(("", "No patients in care: `alliance patient add CODE` adds one."))
        return lines
    if glance.quiet:
        quiet = "Nothing needs attention: no alerts, no watch flags, no one out of contact."
        lines.extend(("", line) for line in wrap(quiet, width))
        return lines
    groups = (("alert", glance.alerts), ("watch", glance.watch), ("no contact", glance.no_contact))
    for label, people in groups:
        if not people:
            continue
        named = ", ".join(_named(who, width - LABEL_WIDTH) for who in people)
        wrapped = wrap(named, width, label.ljust(LABEL_WIDTH), " " * LABEL_WIDTH)
        lines.extend((label, line) for line in wrapped)
    lines += [("", ""), ("", HINT)]
    return lines


def show_glance(glance: Glance) -> None:
    width = output_width(sys.stdout)
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
