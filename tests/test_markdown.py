"""The Markdown export, checked by parsing it with markdown-it-py (CommonMark + GFM tables).

(a) the clinician's document: headings in order, tables with one row per record, the
    chart fenced so it cannot close early, a Mermaid chart of the patient's ratings;
(b) hostile user text (HTML, links, headings, pipes, emphasis, code, list markers,
    newlines) everywhere creates no HTML, link, heading, list or emphasis token and
    still reads back literally;
(c) the version for the patient leaves out notes, therapist ratings, ids and flag jargon;
(d) property: any text escaped into a paragraph or table cell reads back unchanged.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from markdown_it.token import Token

from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.flags import Flag
from alliance_cli.domain.instruments import QUICK
from alliance_cli.domain.records import (
    GoalRecord,
    GoalReviewRecord,
    PatientProfile,
    SessionRecord,
    TaskRecord,
    TaskReviewRecord,
)
from alliance_cli.render.markdown import escape_markdown, patient_markdown
from alliance_cli.render.safe_text import one_line

NASTY_PARTS = (
    "<script>alert(1)</script>",
    "](javascript:alert(1))",
    "[x](http://evil)",
    "# heading",
    "| pipe |",
    "*bold*",
    "`code`",
    "\n- listed",
    "www.evil.com",
    "<http://evil>",
    "&amp; &#60;",
    "![img](x.png)",
    "~~gone~~",
    "_under_",
    "\\",
)
NASTY = " ".join(NASTY_PARTS)
FORBIDDEN = {"html_inline", "html_block", "link_open", "image", "em_open", "code_inline", "s_open"}
CODE = "P-<1>"


def parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def text_of(token: Token) -> str:
    """The text an inline token shows: its children's text, entities and escapes decoded."""
    assert token.type == "inline"
    return "".join(child.content for child in token.children or [] if child.type == "text")


def flat(text: str) -> str:
    """What user text should read as: newlines as spaces, control characters escaped."""
    return one_line(re.sub(r"\r\n|\r|\n", " ", text))


def session(id: int, day: int, rater: str, score: float, note: str | None = None) -> SessionRecord:
    return SessionRecord(
        id=id,
        patient=CODE,
        date=date(2024, 1, day),
        rater=rater,
        instrument="quick",
        bond=score,
        goal=score - 1,
        task=score,
        items=(score, score - 1, score),
        note=note,
        total=3 * score - 1,
    )


def make_export(nasty: str = NASTY) -> PatientExport:
    profile = PatientProfile(
        code=CODE,
        name=f"Ann Example {nasty}",
        status="active",
        since=date(2024, 1, 1),
        instrument="quick",
        expectations=f"hopes {nasty}",
        beliefs=None,
        emotional_state="anxious",
        social_context=f"lives alone {nasty}",
        note=f"PROFILE-NOTE {nasty}",
        discharged_on=None,
        discharge_reason=None,
    )
    goals = (
        GoalRecord(
            3,
            CODE,
            f"sleep better {nasty}",
            "patient",
            "active",
            date(2024, 3, 1),
            date(2024, 1, 1),
            (GoalReviewRecord(date(2024, 1, 15), "active", f"GOAL-REVIEW {nasty}"),),
        ),
        GoalRecord(7, CODE, "see friends", "joint", "achieved", None, date(2024, 1, 1)),
    )
    tasks = (
        TaskRecord(
            11,
            CODE,
            3,
            f"walk daily {nasty}",
            "active",
            date(2024, 2, 1),
            (TaskReviewRecord(date(2024, 1, 15), "partly"),),
        ),
    )
    sessions = (
        session(1, 8, "patient", 8.0, f"SESSION-NOTE {nasty}"),
        session(2, 8, "therapist", 3.3, "THERAPIST-NOTE"),
        session(3, 15, "patient", 4.0),
        session(4, 22, "patient", 8.0, "SESSION-NOTE-2"),
    )
    rupture = Flag(
        CODE,
        "rupture",
        "info",
        "total",
        date(2024, 1, 15),
        "rupture: total 11.0 is 12.0 below the usual 23.0, repaired on 2024-01-22",
        rater="patient",
        repaired_on=date(2024, 1, 22),
        instrument="quick",
    )
    discrepancy = Flag(
        CODE,
        "discrepancy",
        "watch",
        "bond",
        date(2024, 1, 8),
        f"patient and therapist differ {nasty}",
        rater="both",
    )
    return PatientExport(
        profile=profile,
        goals=goals,
        tasks=tasks,
        sessions=sessions,
        flags=(rupture, discrepancy),
        current_flags=(discrepancy,),
        instruments=(QUICK,),
        generated=date(2024, 2, 1),
    )


def headings(tokens: list[Token], *tags: str) -> list[str]:
    return [
        text_of(tokens[i + 1])
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and token.tag in tags
    ]


def tables(tokens: list[Token]) -> list[list[list[str]]]:
    """Each table as rows of cell texts (the header row first)."""
    found: list[list[list[str]]] = []
    for index, token in enumerate(tokens):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            found[-1].append([])
        elif token.type in ("th_open", "td_open"):
            found[-1][-1].append(text_of(tokens[index + 1]))
    return found


def table_rows(tokens: list[Token]) -> list[int]:
    """The number of rows (header included) of each table, in order."""
    return [len(table) for table in tables(tokens)]


def all_text(tokens: list[Token]) -> str:
    return "\n".join(text_of(t) for t in tokens if t.type == "inline")


def all_types(tokens: list[Token]) -> set[str]:
    types = {t.type for t in tokens}
    for token in tokens:
        types |= {child.type for child in token.children or []}
    return types


# ------------------------------------------------------------------ (a) the clinician's document

CHART = "chart ``` with\n````\n  fences ``` inside"


def test_clinician_headings_in_order() -> None:
    tokens = parser().parse(patient_markdown(make_export(), chart=CHART))
    assert headings(tokens, "h1") == [f"Alliance history: {CODE}"]
    assert headings(tokens, "h2") == [
        "Profile",
        "Goals",
        "Tasks",
        "Sessions",
        "Trend",
        "Flags",
        "Notes",
    ]
    assert headings(tokens, "h3") == [
        "Goal reviews",
        "Current flags",
        "Ruptures and repairs",
        "Flag history",
    ]
    assert all_types(tokens) >= {"table_open", "fence", "bullet_list_open"}


def test_clinician_tables_have_one_row_per_record() -> None:
    found = tables(parser().parse(patient_markdown(make_export())))
    # goals, goal reviews, tasks, sessions, current flags, ruptures, flag history
    assert [len(table) for table in found] == [1 + 2, 1 + 1, 1 + 1, 1 + 4, 1 + 1, 1 + 1, 1 + 1]
    goals, reviews, tasks, sessions, current, ruptures, history = found
    assert goals[0] == ["id", "goal", "proposed by", "status", "target"]
    assert goals[1] == ["3", flat(f"sleep better {NASTY}"), "patient", "active", "2024-03-01"]
    assert reviews[1] == ["3", "2024-01-15", "active", flat(f"GOAL-REVIEW {NASTY}")]
    assert tasks[0] == ["id", "task", "goal", "status", "due", "adherence reviews"]
    assert tasks[1][2:] == ["3", "active", "2024-02-01", "2024-01-15 partly"]
    assert sessions[0] == ["date", "rater", "instrument", "bond", "goal", "task", "total", "note"]
    assert sessions[1] == [
        "2024-01-08",
        "patient",
        "quick",
        "8.0",
        "7.0",
        "8.0",
        "23.0",
        flat(f"SESSION-NOTE {NASTY}"),
    ]
    assert sessions[2][1] == "therapist"
    assert current[0] == ["severity", "kind", "dimension", "date", "message"]
    assert current[1][:4] == ["watch", "discrepancy", "bond", "2024-01-08"]
    assert ruptures[1][0] == "2024-01-15" and ruptures[1][-1] == "2024-01-22"
    assert history[1][2] == "discrepancy"


def test_chart_is_fenced_verbatim_and_mermaid_follows_the_patient_ratings() -> None:
    tokens = parser().parse(patient_markdown(make_export(), chart=CHART))
    fences = [t for t in tokens if t.type == "fence"]
    assert [f.info for f in fences] == ["text", "mermaid"]
    assert fences[0].content == CHART + "\n"
    mermaid = fences[1].content.splitlines()
    assert mermaid[0].startswith("%%{init: ") and "plotColorPalette" in mermaid[0]
    assert mermaid[1] == "xychart-beta"
    assert mermaid[2] == '    title "quick: patient ratings, 2024-01-08 to 2024-01-22"'
    assert mermaid[3] == '    x-axis "date" ["01-08", "01-15", "01-22"]'
    assert mermaid[4] == '    y-axis "score" 0 --> 10'
    assert mermaid[5:] == [
        '    line "bond" [8.0, 4.0, 8.0]',
        '    line "goal" [7.0, 3.0, 7.0]',
        '    line "task" [8.0, 4.0, 8.0]',
    ]  # no cut-off line: this export knows none (`dimension_cutoffs` empty)


def test_chart_control_characters_are_escaped() -> None:
    tokens = parser().parse(patient_markdown(make_export(), chart="\x1b[31mred\x1b[0m"))
    assert [t.content for t in tokens if t.type == "fence" and t.info == "text"] == [
        "\\x1b[31mred\\x1b[0m\n"
    ]


def test_no_mermaid_when_off_or_too_few_ratings() -> None:
    export = make_export()
    tokens = parser().parse(patient_markdown(export, mermaid=False))
    assert not [t for t in tokens if t.type == "fence"]
    one = replace(export, sessions=export.sessions[:2])
    assert not [t for t in parser().parse(patient_markdown(one)) if t.type == "fence"]


def test_empty_history_renders_every_section_without_tables() -> None:
    export = make_export()
    profile = replace(export.profile, discharged_on=date(2024, 5, 1), discharge_reason="moved")
    empty = replace(export, profile=profile, goals=(), tasks=(), sessions=(), flags=())
    empty = replace(empty, current_flags=(), instruments=())
    for for_patient in (False, True):
        tokens = parser().parse(patient_markdown(empty, for_patient=for_patient))
        assert len(headings(tokens, "h2")) == (4 if for_patient else 7)
        assert not tables(tokens)
    assert "Discharge: 2024-05-01 moved" in all_text(parser().parse(patient_markdown(empty)))


# ------------------------------------------------------------------ (b) hostile text


@pytest.mark.parametrize("for_patient", [False, True])
def test_hostile_text_creates_no_structure(for_patient: bool) -> None:
    md = parser()
    clean = patient_markdown(make_export("plain"), for_patient=for_patient)
    document = patient_markdown(make_export(), for_patient=for_patient)
    tokens, clean_tokens = md.parse(document), md.parse(clean)
    assert not all_types(tokens) & (FORBIDDEN - {"em_open"})  # the document's own italics
    # exactly the structure the harmless document has: no extra heading, list, table, row
    assert [t.type for t in tokens] == [t.type for t in clean_tokens]
    html = md.render(document)
    assert "<script" not in html
    assert "href=" not in html
    assert "<img" not in html
    text = all_text(tokens)
    assert flat(NASTY) in text
    for part in NASTY_PARTS:
        assert flat(part) in text


def test_hostile_code_in_heading() -> None:
    export = make_export()
    profile = replace(export.profile, code="# <b>x</b> [a](b)\n# two")
    hostile = replace(export, profile=profile)
    tokens = parser().parse(patient_markdown(hostile))
    assert headings(tokens, "h1") == ["Alliance history: # <b>x</b> [a](b) # two"]
    assert not all_types(tokens) & FORBIDDEN


# ------------------------------------------------------------------ (c) the patient's version


def test_patient_version_leaves_out_therapist_content() -> None:
    document = patient_markdown(make_export(), for_patient=True)
    tokens = parser().parse(document)
    text = all_text(tokens)
    assert headings(tokens, "h1") == ["How our work together is going"]
    assert headings(tokens, "h2") == [
        "Your goals",
        "What we agreed to try",
        "How the sessions felt",
        "How things have changed",
    ]
    for secret in ("SESSION-NOTE", "THERAPIST-NOTE", "PROFILE-NOTE", "GOAL-REVIEW", "Ann Example"):
        assert secret not in document
    assert "3.3" not in document and "therapist rating" not in document  # therapist's ratings
    assert "discrepancy" not in document.lower() and "differ" not in document
    assert "rupture" not in document.lower()
    assert not re.search(r"\b(goal|task|session|id)\s*#?\s*(3|7|11)\b", text, re.IGNORECASE)
    assert "sleep better" in text and "walk daily" in text  # the patient's own goals and tasks
    assert "Your ratings dipped on 2024-01-15 and recovered by 2024-01-22." in text
    # the patient's three ratings, no more
    assert table_rows(tokens) == [1 + 2, 1 + 1, 1 + 3]


def test_clinician_version_has_the_notes() -> None:
    text = all_text(parser().parse(patient_markdown(make_export())))
    for content in ("SESSION-NOTE", "THERAPIST-NOTE", "PROFILE-NOTE", "GOAL-REVIEW", "Ann Example"):
        assert content in text
    assert "3.3" in text and "differ" in text


# ------------------------------------------------------------------ (d) escaping


def test_escaped_text_has_no_raw_html_or_link_syntax() -> None:
    escaped = escape_markdown(NASTY + " https://x.org mailto:a@b.c")
    assert not re.search(r"(?<!\\)[<`*\[|~]|(?<!\\)&\w+;|https?:|www\.|\n", escaped)
    assert escaped.startswith("\\<script>alert(1)\\</script>")
    assert escape_markdown(" a\tb ") == "&#x20;a\\tb&#x20;"  # edge spaces kept, tab escaped


EXTRA_PARTS = ("\r\n", "\r", "\t", "\x1b", "\u202e", "    ", "1. ", "> ", "---", "+ ", "===", "&")
MORE_PARTS = ("\u00a0", "\ufeff", "\u2028", "==x==", "$x$", ":smile:", "[^1]", "<!-- -->")
nasty_text = (
    st.lists(st.sampled_from(NASTY_PARTS + EXTRA_PARTS + MORE_PARTS) | st.text(), max_size=8)
    .map("".join)
    .filter(bool)
)


@given(nasty_text)
@example("    indented code")
@example("1) item")
@example(" \u00a0x\u3000 ")
@example("\\")
def test_escaped_text_is_one_literal_paragraph(text: str) -> None:
    tokens = parser().parse(escape_markdown(text))
    assert [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]
    assert {child.type for child in tokens[1].children or []} <= {"text"}
    assert text_of(tokens[1]) == flat(text)


@given(nasty_text)
def test_escaped_text_is_one_literal_table_cell(text: str) -> None:
    tokens = parser().parse(f"| a | b |\n| --- | --- |\n| {escape_markdown(text)} | z |\n")
    cells = [text_of(tokens[i + 1]) for i, t in enumerate(tokens) if t.type == "td_open"]
    assert cells == [flat(text), "z"]
    assert not all_types(tokens) & FORBIDDEN
