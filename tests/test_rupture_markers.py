"""The rupture marker everywhere it belongs (issue 15, parts 4 and 6): corrected with
`session edit --rupture`, in flag JSON/CSV, the Markdown and FHIR exports, the brief's
focus (withdrawal or confrontation suggestions), and the demo's story: a rupture with a
repair attempt that worked, and a rupture the patient reported that the therapist missed."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from alliance_cli.domain.flag_model import Flag
from alliance_cli.domain.prep import focus_points
from alliance_cli.domain.suggestions import BUILTIN
from alliance_cli.render.fhir import RUPTURE_EXTENSION
from alliance_cli.render.formats import FLAG_KEYS
from tests.conftest import Cli

WITHDRAWAL = BUILTIN["rupture"]["withdrawal"]
CONFRONTATION = BUILTIN["rupture"]["confrontation"]


@pytest.fixture
def room(fixed_today: date, cli: Cli) -> Cli:
    cli.make_room()
    cli.ok("patient", "add", "P1", "--since", (fixed_today - timedelta(days=30)).isoformat())
    return cli


def rate(cli: Cli, when: date, value: float, *extra: str) -> dict[str, Any]:
    score = f"{value:g}"
    args = ("--bond", score, "--goal", score, "--task", score)
    stored = cli.ok("session", "add", "P1", "--date", when.isoformat(), *args, *extra, "-f", "json")
    found: dict[str, Any] = json.loads(stored.stdout)
    return found


def kinds(cli: Cli, *args: str) -> set[str]:
    return {f["kind"] for f in json.loads(cli.ok("flags", *args, "-f", "json").stdout)}


# ------------------------------------------------------------------ session edit --rupture


def test_session_edit_sets_and_removes_the_rupture_answer_and_undo_takes_it_back(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    rate(cli, fixed_today, 8, "--rupture", "withdrawal")
    therapist = rate(cli, fixed_today, 8, "--rater", "therapist", "--rupture", "none")
    therapist_id = str(therapist["session"]["id"])
    assert "unnoticed-rupture" in kinds(cli)

    edited = cli.ok("session", "edit", therapist_id, "--rupture", "withdrawal")
    assert f"Updated session {therapist_id} of P1." in edited.stderr + edited.stdout
    assert "withdrawal" in edited.stdout  # the table shows the answer now stored
    assert kinds(cli) == {"reported-rupture"}  # the therapist saw it after all
    *_, entry = json.loads(cli.ok("log", "-f", "json").stdout)
    assert (entry["action"], entry["record_id"]) == ("session.edit", int(therapist_id))

    cli.ok("undo", "--yes")
    assert "unnoticed-rupture" in kinds(cli)

    cli.ok("session", "edit", therapist_id, "--rupture", "")  # not asked after all
    listed = json.loads(cli.ok("session", "list", "P1", "-f", "json").stdout)
    assert [(s["rater"], s["rupture"]) for s in listed] == [
        ("patient", "withdrawal"),
        ("therapist", None),
    ]
    assert "unnoticed-rupture" not in kinds(cli)  # the therapist was not asked


def test_session_edit_refuses_an_unknown_marker_on_one_line(fixed_today: date, room: Cli) -> None:
    cli = room
    stored = rate(cli, fixed_today, 8, "--rupture", "none")
    before = cli.dump()
    bad = cli("session", "edit", str(stored["session"]["id"]), "--rupture", "sulk")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        "error: rupture 'sulk' is not one of none, withdrawal, confrontation "
        '(or "" to remove the answer)'
    ]
    assert "Traceback" not in bad.stderr
    assert cli.dump() == before


# ------------------------------------------------------------------ flag JSON and CSV


def test_flag_json_and_csv_end_with_the_marker(fixed_today: date, room: Cli) -> None:
    cli = room
    rate(cli, fixed_today - timedelta(days=1), 8)
    rate(cli, fixed_today, 5, "--rupture", "confrontation")  # a drop, too
    flags = json.loads(cli.ok("flags", "-f", "json").stdout)
    assert all(tuple(f) == FLAG_KEYS for f in flags) and FLAG_KEYS[-1] == "marker"
    markers = {f["kind"]: f["marker"] for f in flags}
    assert markers["reported-rupture"] == "confrontation"
    assert markers["drop"] is None
    rows = list(csv.DictReader(io.StringIO(cli.ok("flags", "-f", "csv").stdout)))
    assert list(rows[0]) == list(FLAG_KEYS)
    assert {r["kind"]: r["marker"] for r in rows}["reported-rupture"] == "confrontation"
    assert {r["kind"]: r["marker"] for r in rows}["drop"] == ""


def test_flags_suggest_gives_the_markers_suggestions(fixed_today: date, room: Cli) -> None:
    cli = room
    rate(cli, fixed_today, 8, "--rupture", "withdrawal")
    found = json.loads(cli.ok("flags", "--suggest", "-f", "json").stdout)
    (reported,) = [f for f in found if f["kind"] == "reported-rupture"]
    assert [s["text"] for s in reported["suggestions"]] == [s.text for s in WITHDRAWAL]


# ------------------------------------------------------------------ exports


def test_the_markdown_sessions_table_shows_the_marker_but_the_handout_does_not(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    rate(cli, fixed_today - timedelta(days=1), 8)  # not asked
    rate(cli, fixed_today, 8, "--rupture", "withdrawal")
    document = cli.ok("export", "P1").stdout
    sessions = document.split("## Sessions", 1)[1].split("\n## ", 1)[0]
    header, _, *rows = [line for line in sessions.splitlines() if line.startswith("|")]
    assert header == "| date | rater | instrument | bond | goal | task | total | rupture | note |"
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert [row[7] for row in cells] == ["", "withdrawal"]  # empty: not asked
    handout = cli.ok("export", "P1", "--for-patient").stdout
    assert "withdrawal" not in handout and "rupture" not in handout


def test_a_markdown_export_without_any_answer_has_no_rupture_column(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    rate(cli, fixed_today, 8)
    sessions = cli.ok("export", "P1").stdout.split("## Sessions", 1)[1].split("\n## ", 1)[0]
    assert "| date | rater | instrument | bond | goal | task | total | note |" in sessions


def test_the_fhir_response_carries_the_marker_as_a_valid_extension(
    fixed_today: date, room: Cli
) -> None:
    from fhir.resources.R4B.bundle import Bundle

    cli = room
    rate(cli, fixed_today - timedelta(days=1), 8)  # not asked: no extension
    rate(cli, fixed_today, 8, "--rupture", "confrontation")
    rate(cli, fixed_today, 8, "--rater", "therapist", "--rupture", "none")
    bundle = json.loads(cli.ok("export", "P1", "--format", "fhir").stdout)
    Bundle.model_validate(bundle)
    responses = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    ]
    found = [
        (
            r["authored"],
            next(x["valueCode"] for x in r["extension"] if x["url"].endswith("/rater")),
            [x["valueCode"] for x in r["extension"] if x["url"] == RUPTURE_EXTENSION],
        )
        for r in responses
    ]
    yesterday, today = (fixed_today - timedelta(days=1)).isoformat(), fixed_today.isoformat()
    assert sorted(found) == [
        (yesterday, "patient", []),
        (today, "patient", ["confrontation"]),
        (today, "therapist", ["none"]),
    ]
    # An extension, not an item: the Questionnaire (and so its id) is unchanged.
    (questionnaire,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Questionnaire"
    ]
    assert "rupture" not in json.dumps(questionnaire)


# ------------------------------------------------------------------ the brief's focus


def test_focus_takes_the_marker_reported_for_the_flagged_session() -> None:
    day = date(2026, 11, 30)
    rupture = Flag("P1", "rupture", "alert", "total", day, "rupture", rater="patient")
    plain = focus_points([rupture], BUILTIN)
    assert plain[0].suggestions == tuple(s.text for s in BUILTIN["rupture"]["*"])
    (point,) = focus_points([rupture], BUILTIN, reports=[(day, "patient", "withdrawal")])
    assert point.suggestions == tuple(s.text for s in WITHDRAWAL)
    (other,) = focus_points([rupture], BUILTIN, reports=[(day, "therapist", "confrontation")])
    assert other.suggestions == tuple(s.text for s in CONFRONTATION)
    (none,) = focus_points([rupture], BUILTIN, reports=[(day, "patient", "none")])
    assert none.suggestions == plain[0].suggestions


def test_prep_of_a_rupture_the_patient_called_confrontation_suggests_for_it(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    for n in range(4, 0, -1):
        rate(cli, fixed_today - timedelta(days=n), 9)
    rate(cli, fixed_today, 5, "--rupture", "confrontation")  # a rupture by the scores, too
    brief = json.loads(cli.ok("prep", "P1", "-f", "json").stdout)
    texts = [t for point in brief["focus"] for t in point["suggestions"]]
    assert CONFRONTATION[0].text in texts
    assert not set(texts) & {s.text for s in WITHDRAWAL}


# ------------------------------------------------------------------ the demo's story


@pytest.fixture
def demo(fixed_today: date, tmp_path: Path) -> Cli:
    path = tmp_path / "demo.db"
    made = Cli(path)("demo", "--path", str(path), db=False)
    assert made.exit_code == 0, made.stderr
    assert "prep D02" in made.stderr + made.stdout  # the closing hint
    return Cli(path)


def test_the_demo_has_a_repair_attempt_that_worked(demo: Cli) -> None:
    (repair,) = json.loads(demo.ok("repair", "list", "D03", "--format", "json").stdout)
    assert repair["outcome"] == "repaired"
    assert repair["flag"]["kind"] == "rupture"
    history = json.loads(demo.ok("flags", "--history", "-f", "json").stdout)
    ruptures = [f for f in history if f["patient"] == "D03" and f["kind"] == "rupture"]
    assert [f["date"] for f in ruptures] == [repair["flag"]["date"]]  # the flag it answered
    assert "Repair" in demo.ok("prep", "D03").stdout


def test_the_demo_has_a_rupture_the_patient_reported_and_the_therapist_missed(
    demo: Cli,
) -> None:
    flags = json.loads(demo.ok("flags", "-f", "json").stdout)
    unnoticed = [f for f in flags if f["kind"] == "unnoticed-rupture"]
    assert [(f["patient"], f["marker"]) for f in unnoticed] == [("D07", "withdrawal")]
    shown = demo.ok("prep", "D07").stdout
    assert WITHDRAWAL[0].text in shown  # the marker's suggestions, not only the kind's
    assert len(shown.splitlines()) <= 24
    waiting = demo.ok("prep").stdout
    assert "alliance prep D07" in waiting
