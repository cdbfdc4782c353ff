"""User text in the Markdown documents (export and weekly summary) stays text and reads cleanly.

(a) only what would become structure is escaped: numbers, `->`, `snake_case`, `a < b`
    come out as typed (no `35\\.0`, `\\(`, `\\-&gt;` in a mail);
(b) property: arbitrary user text in every place the summary and the export put it gives
    exactly the structure the document has with harmless text (markdown-it-py, CommonMark
    with GFM tables and strikethrough): no link, image, emphasis, heading, code or HTML,
    and it reads back literally;
(c) the same with cmark-gfm (GitHub's renderer: tables, strikethrough, autolinks, tag
    filter, raw HTML let through) when installed: the same HTML elements as the harmless
    document but for the e-mail autolinks cmark-gfm finds in plain text (`mailto:` the
    address shown), which no escaping can prevent.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, example, given, settings
from markdown_it.token import Token

from alliance_cli.domain.summary import ClinicianLine, GoalEvent, NoContact, Summary
from alliance_cli.render.markdown import escape_markdown, patient_markdown
from alliance_cli.render.summary import summary_markdown
from tests.test_markdown import NASTY, all_text, flat, make_export, nasty_text, parser
from tests.test_summary_text import demo_summary

CMARK = shutil.which("cmark-gfm")
CMARK_ARGS = ["-e", "table", "-e", "strikethrough", "-e", "autolink", "-e", "tagfilter"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Summary:
    return demo_summary(tmp_path_factory.mktemp("demo"), days=28)


def hostile_summary(summary: Summary, text: str) -> Summary:
    """`summary` with `text` everywhere a summary shows user text (codes, goals, notes,
    clinicians), in the first row of each list."""
    first = summary.flags[0]
    patient = summary.patients[0]
    return replace(
        summary,
        flags=(replace(first, patient=text), *summary.flags[1:]),
        still_open=(replace(first, patient=text),),
        patients=(replace(patient, patient=text), *summary.patients[1:]),
        repaired=(replace(first, kind="rupture", patient=text, repaired_on=first.date),),
        goal_events=(GoalEvent(text, text, first.date, "achieved", text),),
        no_contact=(NoContact(text, None, None),),
        clinicians=(ClinicianLine(text, 1, 2, 1, 0, 0),),
    )


# ------------------------------------------------------------------ (a) minimal


def test_plain_words_and_numbers_are_not_escaped() -> None:
    plain = "total 35.0 (8.5 -> 4.5), cut-off 21: a < b; snake_case, C:\\Users 50% #1 a=b {x}"
    assert escape_markdown(plain) == plain


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("# heading", "\\# heading"),
        ("> quote", "\\> quote"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("=====", "\\====="),
        ("-3.5 since", "-3.5 since"),
        ("12. item", "12\\. item"),
        ("3) item", "3\\) item"),
        ("*em* and a*b", "\\*em\\* and a\\*b"),
        ("_em_ snake_case", "\\_em\\_ snake_case"),
        ("[a](b) ![i](x)", "\\[a](b) !\\[i](x)"),
        ("<b> <!-- --> </i> <http://x>", "\\<b> \\<!-- --> \\</i> \\<http\\://x>"),
        ("&amp; & AT&T", "\\&amp; & AT&T"),
        ("a | b", "a \\| b"),
        ("`code`", "\\`code\\`"),
        ("~~gone~~", "\\~\\~gone\\~\\~"),
        ("www.evil.com https://x", "www\\.evil.com https\\://x"),
        ("code #", "code \\#"),
        ("end\\", "end\\\\"),
        ("\\*", "\\\\\\*"),
        ("\\n", "\\n"),
    ],
)
def test_what_would_become_structure_is_escaped(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_the_summary_reads_cleanly_in_a_raw_file(demo: Summary) -> None:
    document = summary_markdown(demo)
    for ugly in ("\\.", "\\(", "\\-", "&gt;", "\\:", "\\+"):
        assert ugly not in document
    assert "-> " in document and "cut-off 21.0" in document


# ------------------------------------------------------------------ (b) markdown-it


def shape(tokens: list[Token]) -> list[tuple[str, ...]]:
    """Every block token, and for an inline one the kinds of its children but text."""
    return [
        (
            token.type,
            token.tag,
            *(c.type for c in token.children or [] if c.type not in ("text", "text_special")),
        )
        for token in tokens
    ]


def same_structure(document: str, clean: str, text: str) -> None:
    tokens, clean_tokens = parser().parse(document), parser().parse(clean)
    assert shape(tokens) == shape(clean_tokens)
    assert flat(text) in all_text(tokens)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(nasty_text)
@example(NASTY)
@example("1. x")
@example("    code")
@example("x #")
@example("a@b.org")
def test_user_text_in_the_summary_stays_text(demo: Summary, text: str) -> None:
    document = summary_markdown(hostile_summary(demo, text))
    same_structure(document, summary_markdown(hostile_summary(demo, "plain")), text)


@settings(deadline=None)
@given(nasty_text)
@example("- x")
@example("=====")
def test_user_text_in_the_export_stays_text(text: str) -> None:
    for for_patient in (False, True):
        document = patient_markdown(make_export(text), for_patient=for_patient)
        same_structure(
            document, patient_markdown(make_export("plain"), for_patient=for_patient), text
        )


# ------------------------------------------------------------------ (c) cmark-gfm

MAILTO = re.compile(r'<a href="mailto:[^"]*">(.*?)</a>')
TAG = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9]*)")


def gfm(document: str) -> str:
    assert CMARK is not None
    done = subprocess.run(
        [CMARK, "--unsafe", *CMARK_ARGS], input=document, capture_output=True, text=True, check=True
    )
    return MAILTO.sub(r"\1", done.stdout)


def same_html(document: str, clean: str, text: str) -> None:
    rendered = gfm(document)
    assert TAG.findall(rendered) == TAG.findall(gfm(clean))
    assert flat(text) in html.unescape(re.sub(r"<[^>]+>", "", rendered))


needs_cmark = pytest.mark.skipif(CMARK is None, reason="cmark-gfm is not installed")


@needs_cmark
@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(nasty_text)
@example(NASTY + " https://x.org www.x.org a@b.org")
def test_cmark_gfm_shows_user_text_in_the_summary_as_text(demo: Summary, text: str) -> None:
    document = summary_markdown(hostile_summary(demo, text))
    same_html(document, summary_markdown(hostile_summary(demo, "plain")), text)


@needs_cmark
@settings(max_examples=40, deadline=None)
@given(nasty_text)
@example(NASTY + " https://x.org www.x.org")
def test_cmark_gfm_shows_user_text_in_the_export_as_text(text: str) -> None:
    for for_patient in (False, True):
        document = patient_markdown(make_export(text), for_patient=for_patient)
        same_html(document, patient_markdown(make_export("plain"), for_patient=for_patient), text)
