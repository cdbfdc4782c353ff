"""What to try after a flag: a small library of suggestions, each with its source.

Written in our own words (never copied from a manual), short, supportive and never
prescriptive: the clinician decides. Keyed by flag kind and by what the flag is about: a
dimension (`bond`, `goal`, `task`, `total`), a rupture's marker (`withdrawal`,
`confrontation`), or `*` for the kind as a whole. A clinic replaces or extends entries in
the config file (`[suggestions.rupture]`, see `config.py`).

Sources: ../shared/reference/clinical.md, "Repair".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ANY = "*"
TOPICS = ("bond", "goal", "task", "total", "withdrawal", "confrontation", ANY)

SAFRAN_MURAN = "Safran & Muran 2000; Eubanks, Muran & Safran 2018 (rupture repair)"
EXPLORE_FIRST = "Eubanks, Burckell & Goldfried 2018 (validate and explore first)"
BORDIN = "Bordin 1979 (goals and tasks are agreed, not prescribed)"
IMMEDIATE = "Eubanks, Muran & Safran 2018 (immediate strategies: goals and tasks)"
RECOGNISED = "Chen et al. 2018 (a recognised rupture loses its effect on the next session)"
EARLY = "Sharf, Primavera & Diener 2010 (early alliance and dropout)"
SUPPORT_TOOLS = "Lambert's clinical support tools (Psychother Res 2023, 33(7):841-855)"


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str


def _s(text: str, source: str) -> Suggestion:
    return Suggestion(text, source)


_BOND = (
    _s("Name the strain gently and ask how the last session felt for them.", SAFRAN_MURAN),
    _s("Invite them to say what did not feel right, and hear it without defending.", SAFRAN_MURAN),
    _s("Acknowledge your own part in what happened, if you see one.", SAFRAN_MURAN),
    _s("Validate how they experienced it before moving on to change.", EXPLORE_FIRST),
)
_GOAL = (
    _s("Revisit the goals together: are they still theirs, in their own words?", BORDIN),
    _s("Re-agree one goal for now; park or drop what no longer fits.", IMMEDIATE),
    _s("Ask what would make the work feel worthwhile to them at the moment.", BORDIN),
)
_TASK = (
    _s("Ask how the task fits their week; agree a smaller or different step.", BORDIN),
    _s(
        "Go over why the task should help, and ask whether that makes sense to them.",
        IMMEDIATE,
    ),
    _s("Offer two ways of working and let them choose.", IMMEDIATE),
)
_TOTAL = (
    _s("Check in about the last session before the planned agenda.", RECOGNISED),
    _s("Ask what they would change about how you work together.", SAFRAN_MURAN),
    _s("Talk about what is happening between you, not only about the problem.", SAFRAN_MURAN),
)
_WITHDRAWAL = (
    _s(
        "If they went quiet or very agreeable, make room to disagree.",
        SAFRAN_MURAN,
    ),
    _s("Slow down and follow what they bring rather than the plan.", EXPLORE_FIRST),
)
_CONFRONTATION = (
    _s(
        "If they are critical or frustrated, explore the complaint first.",
        SAFRAN_MURAN,
    ),
    _s("Acknowledge what is valid in the criticism, including your part.", SAFRAN_MURAN),
)
_UNNOTICED = _s(
    "They reported a rupture you did not notice: ask about it, without blame.", RECOGNISED
)

BUILTIN: dict[str, dict[str, tuple[Suggestion, ...]]] = {
    "rupture": {
        ANY: _TOTAL,
        "bond": _BOND,
        "goal": _GOAL,
        "task": _TASK,
        "withdrawal": _WITHDRAWAL,
        "confrontation": _CONFRONTATION,
    },
    "reported-rupture": {ANY: _TOTAL, "withdrawal": _WITHDRAWAL, "confrontation": _CONFRONTATION},
    "unnoticed-rupture": {
        ANY: (_UNNOTICED, *_BOND[1:3]),
        "withdrawal": (_UNNOTICED, *_WITHDRAWAL),
        "confrontation": (_UNNOTICED, *_CONFRONTATION),
    },
    "drop": {ANY: _TOTAL, "bond": _BOND, "goal": _GOAL, "task": _TASK},
    "low": {ANY: _TOTAL, "bond": _BOND, "goal": _GOAL, "task": _TASK},
    "decline": {
        ANY: (
            _s("A slow slide: ask what has changed, in their life or in the work.", SUPPORT_TOOLS),
            _s("Review progress towards each goal together and re-agree the next step.", BORDIN),
            *_TOTAL[1:2],
        ),
        "bond": _BOND,
        "goal": _GOAL,
        "task": _TASK,
    },
    "discrepancy": {
        ANY: (
            _s(
                "You see the work differently: ask about the session from their side first.",
                RECOGNISED,
            ),
            _s("Share your impression tentatively and compare notes.", SAFRAN_MURAN),
        ),
        "bond": _BOND[:2],
        "goal": _GOAL[:2],
        "task": _TASK[:2],
    },
    "early-risk": {
        ANY: (
            _s("Talk about what they expect from therapy and how you will work together.", EARLY),
            _s("Agree a first goal in their words and a first small step.", BORDIN),
            _s("Ask what would make it easier to keep coming.", EARLY),
        )
    },
    "no-contact": {
        ANY: (
            _s(
                "Reach out briefly, without blame; ask whether and how they want to go on.",
                EARLY,
            ),
            _s(
                "At the next contact, ask what got in the way before picking up the work.",
                SAFRAN_MURAN,
            ),
        )
    },
    "tasks-missed": {
        ANY: (
            _s(
                "Ask what got in the way of the task, with curiosity rather than judgement.", BORDIN
            ),
            _s("Renegotiate the task: its size, its timing or why it should help.", IMMEDIATE),
            _s("Let them choose or design the next step.", BORDIN),
        )
    },
}

Library = Mapping[str, Mapping[str, tuple[Suggestion, ...]]]


def suggestions_for(
    library: Library, kind: str, dimension: str | None = None, marker: str | None = None
) -> tuple[Suggestion, ...]:
    """The suggestions for one flag: its marker's, else its dimension's, else its kind's."""
    entries = library.get(kind, {})
    for topic in (marker, dimension, ANY):
        if topic is not None and entries.get(topic):
            return entries[topic]
    return ()


def merged(
    base: Library, changes: Mapping[str, Mapping[str, tuple[Suggestion, ...]]], extend: set[str]
) -> dict[str, dict[str, tuple[Suggestion, ...]]]:
    """`base` with a clinic's entries: they replace the built-in ones of their topic, or
    come after them for the kinds in `extend`."""
    result = {kind: dict(topics) for kind, topics in base.items()}
    for kind, topics in changes.items():
        target = result.setdefault(kind, {})
        for topic, items in topics.items():
            target[topic] = (*target.get(topic, ()), *items) if kind in extend else items
    return result
