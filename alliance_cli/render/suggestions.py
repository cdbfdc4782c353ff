"""`flags --suggest`: the flags, then what to try for each event (suggestions only)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from alliance_cli.domain.flag_groups import group_by_event
from alliance_cli.domain.flag_model import Flag
from alliance_cli.domain.suggestions import Library, Suggestion, suggestions_for
from alliance_cli.render.console import out
from alliance_cli.render.formats import (
    CLINIC_FLAG_KEYS,
    FLAG_KEYS,
    flag_dict,
    print_csv,
    print_json,
)
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.values import fmt_date
from alliance_cli.render.wrap import output_width, wrap

JSON, CSV = "json", "csv"
HEADING = "What to try (suggestions only: you decide)"
PER_EVENT = 3  # suggestions shown per event in text; JSON and CSV give every one


def _for(flag: Flag, library: Library) -> tuple[Suggestion, ...]:
    return suggestions_for(library, flag.kind, flag.dimension, flag.marker)


def _interleaved(lists: Sequence[Sequence[Suggestion]]) -> list[Suggestion]:
    """The first suggestion of each flag (most severe first), then the second of each...:
    a rupture with a bond drop shows one for the rupture and one for the bond."""
    picked: list[Suggestion] = []
    for rank in range(max((len(items) for items in lists), default=0)):
        for items in lists:
            if rank < len(items) and items[rank] not in picked:
                picked.append(items[rank])
    return picked


def flag_suggestions(
    flags: Sequence[Flag], library: Library, fmt: str, *, clinicians: bool = False
) -> None:
    """JSON and CSV: each flag with its suggestions (`suggestions`: text and source; in
    CSV the texts joined by ` | `). Text: after the flag listing, each event's flags with
    the suggestions for each of their kinds and dimensions, once."""
    keys = CLINIC_FLAG_KEYS if clinicians else FLAG_KEYS
    if fmt == JSON:
        print_json(
            [
                {
                    **flag_dict(f, keys),
                    "suggestions": [{"text": s.text, "source": s.source} for s in _for(f, library)],
                }
                for f in flags
            ]
        )
        return
    if fmt == CSV:
        rows = (
            {**flag_dict(f, keys), "suggestions": " | ".join(s.text for s in _for(f, library))}
            for f in flags
        )
        print_csv((*keys, "suggestions"), rows)
        return
    width = output_width(sys.stdout)
    out()
    out(HEADING)
    for event in group_by_event(flags):
        if event.severity == "info":
            continue
        out()
        out(one_line(f"{event.patient}  {fmt_date(event.date)}  {', '.join(event.kinds)}"))
        picked = _interleaved([_for(flag, library) for flag in event.flags])
        for item in picked[:PER_EVENT]:
            for line in wrap(f"- {item.text}", width, "  ", "    "):
                out(line)
        sources = "; ".join(dict.fromkeys(item.source for item in picked[:PER_EVENT]))
        for line in wrap(f"(sources: {sources})", width, "  ", "   "):
            out(line)
