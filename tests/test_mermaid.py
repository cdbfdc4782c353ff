"""The export's Mermaid charts stay readable: short x labels, a legend, colours, the cut-off.

Checked on the Markdown the export writes (markdown-it-py finds the fence and its legend):
with 40 sessions no x label is longer than 5 characters (the axis is numbered) and the
date range is in the title; a few sessions are labelled `MM-DD`; the legend names each
line's colour; the palette gives each line its own colour (none near-white); the cut-off
is a level line for the clinician and absent from the patient's handout.
(The blocks were also parsed with Mermaid 11 and 12 when this was written.)
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import pytest

from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.records import SessionRecord
from alliance_cli.render.markdown import patient_markdown
from tests.test_markdown import CODE, make_export, parser

START = date(2024, 1, 8)


def ratings(count: int, *, every: int = 7) -> tuple[SessionRecord, ...]:
    scores = [5.0 + (i % 9) / 2 for i in range(count)]
    return tuple(
        SessionRecord(
            id=i + 1,
            patient=CODE,
            date=START + timedelta(days=every * i),
            rater="patient",
            instrument="quick",
            bond=score,
            goal=score - 1,
            task=score,
            items=(score, score - 1, score),
            note=None,
            total=3 * score - 1,
        )
        for i, score in enumerate(scores)
    )


def export_with(count: int, *, every: int = 7, cutoff: float | None = 6.0) -> PatientExport:
    cutoffs = {} if cutoff is None else {"quick": cutoff}
    return replace(
        make_export("x"), sessions=ratings(count, every=every), dimension_cutoffs=cutoffs
    )


def chart(export: PatientExport, *, for_patient: bool = False) -> tuple[str, list[str]]:
    """The legend paragraph before the Mermaid block, and the block's lines."""
    tokens = parser().parse(patient_markdown(export, for_patient=for_patient))
    index = next(i for i, t in enumerate(tokens) if t.type == "fence" and t.info == "mermaid")
    legend = tokens[index - 2].content  # paragraph_open, inline, paragraph_close, fence
    return legend, tokens[index].content.splitlines()


def x_labels(block: list[str]) -> list[str]:
    axis = next(line for line in block if line.strip().startswith("x-axis"))
    band = re.search(r"\[(.*)\]", axis)
    return re.findall(r'"([^"]*)"', band.group(1)) if band else []


def palette(block: list[str]) -> list[str]:
    found = re.search(r'"plotColorPalette": "([^"]*)"', block[0])
    assert found, block[0]
    return [colour.strip() for colour in found.group(1).split(",")]


def series(block: list[str]) -> list[tuple[str, list[float]]]:
    found = [re.match(r'\s*line "([^"]*)" \[(.*)\]', line) for line in block]
    return [(m.group(1), [float(v) for v in m.group(2).split(", ")]) for m in found if m]


def test_mermaid_blocks_with_40_sessions_have_labels_no_longer_than_5_characters() -> None:
    legend, block = chart(export_with(40))
    assert all(len(label) <= 5 for label in x_labels(block))
    assert '    x-axis "session" 1 --> 40' in block  # numbered; Mermaid spaces the ticks
    assert '    title "quick: patient ratings, 2024-01-08 to 2024-10-07"' in block
    assert legend.endswith("Lines: bond (blue), goal (green), task (purple), cut-off 6 (orange).")
    lines = series(block)
    assert [name for name, _ in lines] == ["bond", "goal", "task", "cut-off 6"]
    assert all(len(values) == 40 for _, values in lines)
    assert lines[-1][1] == [6.0] * 40  # the cut-off: a level line


def test_a_few_sessions_are_labelled_by_month_and_day() -> None:
    _, block = chart(export_with(5))
    assert x_labels(block) == ["01-08", "01-15", "01-22", "01-29", "02-05"]


@pytest.mark.parametrize(
    ("count", "every"), [(13, 7), (3, 0), (3, 200)]
)  # too many, the same day, over a year
def test_ambiguous_or_crowded_dates_are_numbered(count: int, every: int) -> None:
    _, block = chart(export_with(count, every=every))
    assert f'    x-axis "session" 1 --> {count}' in block and not x_labels(block)


def test_each_line_has_its_own_visible_colour() -> None:
    _, block = chart(export_with(8))
    colours = palette(block)
    assert len(colours) == len(series(block)) == 4 and len(set(colours)) == 4
    for colour in colours:
        red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
        assert red + green + blue < 3 * 0xE0, colour  # not near-white (#ECECFF was)


def test_no_cut_off_line_when_there_is_none_or_it_is_off_the_scale() -> None:
    for cutoff in (None, 12.0):
        legend, block = chart(export_with(4, cutoff=cutoff))
        assert [name for name, _ in series(block)] == ["bond", "goal", "task"]
        assert "cut-off" not in legend and len(palette(block)) == 3


def test_the_handout_chart_has_the_handouts_words_and_no_cut_off() -> None:
    legend, block = chart(export_with(6), for_patient=True)
    assert [name for name, _ in series(block)] == ["connection", "goals", "way of working"]
    assert "cut-off" not in "\n".join(block) and "cut-off" not in legend
    assert "connection (blue)" in legend
    assert block[2].startswith('    title "Your ratings, 2024-01-08 to ')
