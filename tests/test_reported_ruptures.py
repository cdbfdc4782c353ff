"""Ruptures the patient reports, ruptures the therapist missed, and the direction of a
discrepancy (issue 15, part 4); and the repair table's clinic walls on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from alliance_cli.domain.flag_model import History, Rating
from alliance_cli.domain.flag_rules import reported_rupture_flags
from alliance_cli.domain.flags import current_flags, history_flags
from alliance_cli.domain.rules import default_rules
from tests.conftest import Cli
from tests.test_clinic import clinic  # noqa: F401 (the PostgreSQL roles fixture)

RULES = default_rules()
START = date(2026, 11, 2)


def day(n: int) -> date:
    return START + timedelta(days=n)


def quick(n: int, bond: float, goal: float, task: float, rater: str = "patient") -> Rating:
    return Rating(day(n), rater, "quick", bond, goal, task, bond + goal + task)


# ------------------------------------------------------------------ the rules


def test_a_reported_rupture_is_an_alert_and_unnoticed_when_the_therapist_said_none() -> None:
    reports = [
        (day(0), "patient", "withdrawal"),
        (day(0), "therapist", "none"),
        (day(1), "patient", "confrontation"),
        (day(1), "therapist", "confrontation"),  # seen by both: not unnoticed
        (day(2), "patient", "none"),  # asked, nothing to report
        (day(3), "patient", "withdrawal"),  # the therapist was not asked: not unnoticed
        (day(4), "therapist", "withdrawal"),  # the therapist's own report raises nothing
    ]
    found = reported_rupture_flags("P1", reports)
    assert [(f.kind, f.severity, f.date, f.marker, f.rater) for f in found] == [
        ("reported-rupture", "alert", day(0), "withdrawal", "patient"),
        ("unnoticed-rupture", "alert", day(0), "withdrawal", "both"),
        ("reported-rupture", "alert", day(1), "confrontation", "patient"),
        ("reported-rupture", "alert", day(3), "withdrawal", "patient"),
    ]


def test_reported_ruptures_are_current_while_their_session_is_the_latest() -> None:
    ratings = (quick(0, 9, 9, 9), quick(0, 9, 9, 9, "therapist"))
    reports = ((day(0), "patient", "withdrawal"), (day(0), "therapist", "none"))
    history = History("P1", ratings, reports=reports)
    now = {f.kind for f in current_flags(history, RULES, day(0))}
    assert {"reported-rupture", "unnoticed-rupture"} <= now
    later = History(
        "P1", (*ratings, quick(1, 9, 9, 9), quick(1, 9, 9, 9, "therapist")), reports=reports
    )
    assert not {"reported-rupture", "unnoticed-rupture"} & {
        f.kind for f in current_flags(later, RULES, day(1))
    }
    assert {"reported-rupture", "unnoticed-rupture"} <= {
        f.kind for f in history_flags(later, RULES)
    }


def discrepancies(*ratings: Rating) -> list[tuple[date, str | None, str | None]]:
    found = history_flags(History("P1", ratings), RULES)
    return [(f.date, f.dimension, f.direction) for f in found if f.kind == "discrepancy"]


def test_a_therapist_above_the_patient_by_the_threshold_is_therapist_higher() -> None:
    assert discrepancies(quick(0, 6, 8, 8), quick(0, 8, 8, 8, "therapist")) == [
        (day(0), "bond", "therapist-higher")
    ]
    assert discrepancies(quick(0, 6.1, 8, 8), quick(0, 8, 8, 8, "therapist")) == []


def test_a_patient_above_the_therapist_flags_only_beyond_the_dyads_usual_gap() -> None:
    usual = [r for n in range(3) for r in (quick(n, 9, 8, 8), quick(n, 6, 8, 8, "therapist"))]
    # the same 3 points again: this dyad's usual gap, nothing to say
    assert discrepancies(*usual, quick(3, 9, 8, 8), quick(3, 6, 8, 8, "therapist")) == [
        (day(0), "bond", "patient-higher")  # the first pair: no usual gap known yet
    ]
    # 5 points: 2 beyond the usual 3
    wider = (*usual, quick(3, 10, 8, 8), quick(3, 5, 8, 8, "therapist"))
    assert (day(3), "bond", "patient-higher") in discrepancies(*wider)
    [latest] = [
        f
        for f in history_flags(History("P1", wider), RULES)
        if f.kind == "discrepancy" and f.date == day(3)
    ]
    assert latest.message == (
        "patient and therapist differ by 5.0 on bond (patient 10.0, therapist 5.0), "
        "2.0 beyond their usual gap of 3.0"
    )


def test_the_patient_higher_threshold_is_its_own_setting() -> None:
    rules = RULES.with_thresholds("quick", discrepancy_patient_higher=None)
    found = history_flags(History("P1", (quick(0, 9, 8, 8), quick(0, 6, 8, 8, "therapist"))), rules)
    assert found == []
    rules = RULES.with_thresholds("quick", discrepancy=None)  # therapist-higher off
    found = history_flags(History("P1", (quick(0, 6, 8, 8), quick(0, 9, 8, 8, "therapist"))), rules)
    assert found == []


# ------------------------------------------------------------------ through the CLI


@pytest.fixture
def room(cli: Cli) -> Cli:
    cli.make_room()
    return cli


def rate(cli: Cli, n: int, value: float, *extra: str) -> dict[str, Any]:
    score = f"{value:g}"
    args = ("--bond", score, "--goal", score, "--task", score)
    result = cli.ok(
        "session", "add", "P1", "--date", day(n).isoformat(), *args, *extra, "-f", "json"
    )
    stored: dict[str, Any] = json.loads(result.stdout)
    return stored


def test_session_add_stores_the_rupture_answer_and_raises_both_flags(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    asked = rate(cli, 0, 8, "--rupture", "withdrawal")
    assert asked["session"]["rupture"] == "withdrawal"
    assert [f["kind"] for f in asked["flags"]] == ["reported-rupture"]
    therapist = rate(cli, 0, 8, "--rater", "therapist", "--rupture", "none")
    assert [f["kind"] for f in therapist["flags"]] == ["unnoticed-rupture"]
    assert rate(cli, 1, 8)["session"]["rupture"] is None  # not asked
    listed = json.loads(cli.ok("session", "list", "P1", "-f", "json").stdout)
    assert [s["rupture"] for s in listed] == ["withdrawal", "none", None]
    history = json.loads(cli.ok("flags", "--history", "-f", "json").stdout)
    kinds = {(f["kind"], f["severity"], f["direction"]) for f in history}
    assert {("reported-rupture", "alert", None), ("unnoticed-rupture", "alert", None)} <= kinds
    bad = cli("session", "add", "P1", "--date", day(2).isoformat(), "--rupture", "sulk")
    assert bad.exit_code == 2


def test_the_caseload_sees_reported_ruptures_as_the_patient_view_does(
    fixed_today: date, room: Cli
) -> None:
    cli = room
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    cli.ok("patient", "add", "P2", "--since", "2026-11-01")
    rate(cli, 29, 8, "--rupture", "confrontation")
    rate(cli, 29, 8, "--rater", "therapist", "--rupture", "none")
    caseload = json.loads(cli.ok("flags", "-f", "json").stdout)
    shown = json.loads(cli.ok("patient", "show", "P1", "-f", "json").stdout)["flags"]
    pick = {"reported-rupture", "unnoticed-rupture"}
    assert sorted(f["kind"] for f in caseload if f["kind"] in pick) == sorted(pick)
    assert [f for f in caseload if f["kind"] in pick] == [f for f in shown if f["kind"] in pick]
    listed = json.loads(cli.ok("patient", "list", "-f", "json").stdout)
    assert {r["code"]: r["alerts"] for r in listed} == {"P1": 2, "P2": 0}
    as_of = json.loads(cli.ok("flags", "--as-of", day(28).isoformat(), "-f", "json").stdout)
    assert not [f for f in as_of if f["kind"] in pick]


def test_flags_json_says_the_discrepancys_direction(fixed_today: date, room: Cli) -> None:
    cli = room
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    rate(cli, 0, 6)
    rate(cli, 0, 8, "--rater", "therapist")
    flags = json.loads(cli.ok("flags", "--history", "-f", "json").stdout)
    directions = {f["direction"] for f in flags if f["kind"] == "discrepancy"}
    assert directions == {"therapist-higher"}
    assert all(f["direction"] is None for f in flags if f["kind"] != "discrepancy")
    csv_header = cli.ok("flags", "--history", "-f", "csv").stdout.splitlines()[0]
    assert csv_header.endswith(",message,direction,marker")


def test_csv_export_and_import_carry_the_rupture_answer(
    fixed_today: date, room: Cli, tmp_path: Path
) -> None:
    cli = room
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    rate(cli, 0, 8, "--rupture", "withdrawal")
    rate(cli, 1, 8)
    exported = cli.ok("export", "--all", "-f", "csv").stdout
    assert exported.splitlines()[0].endswith(",rupture,note")
    file = tmp_path / "sessions.csv"
    file.write_text(exported)
    assert "2 rating sets were already there" in cli.ok("import", str(file)).stderr
    cli.ok("session", "delete", "1", "--yes")
    cli.ok("import", str(file))
    listed = json.loads(cli.ok("session", "list", "P1", "-f", "json").stdout)
    assert sorted((s["date"], s["rupture"]) for s in listed) == [
        ("2026-11-02", "withdrawal"),
        ("2026-11-03", None),
    ]
    bad = tmp_path / "bad.csv"
    bad.write_text("patient,date,bond,goal,task,rupture\nP1,2026-11-05,8,8,8,sulk\n")
    before = cli.dump()
    result = cli("import", str(bad))
    assert result.exit_code == 1 and "rupture 'sulk'" in result.stderr
    assert cli.dump() == before


def test_config_show_lists_the_patient_higher_threshold(
    fixed_today: date, room: Cli, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_home / "clinic.toml"
    config.write_text("[thresholds.quick]\ndiscrepancy = 3.0\n")
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    settings = json.loads(room.ok("config", "show", "-f", "json").stdout)["settings"]
    found = {s["key"]: (s["value"], s["source"]) for s in settings}
    assert found["thresholds.quick.discrepancy_patient_higher"] == (
        3.0,
        "file (follows discrepancy)",
    )
    assert found["thresholds.srs.discrepancy_patient_higher"] == (2.0, "default")


# ------------------------------------------------------------------ PostgreSQL walls


def test_clinician_b_can_neither_see_nor_add_repairs_of_as_patients(
    clinic: dict[str, str],  # noqa: F811
) -> None:
    a, b, sup = Cli(clinic["dr_a"]), Cli(clinic["dr_b"]), Cli(clinic["sup"])
    a.ok("patient", "add", "P1")
    a.ok("repair", "add", "P1", "--strategy", "explore", "--note", "secret of A")
    b.ok("patient", "add", "P2")
    assert b("repair", "list", "P1").exit_code == 1  # not in b's caseload
    assert b.sql("SELECT * FROM repair") == []
    [(pid,)] = a.sql("SELECT id FROM patient")
    with pytest.raises(Exception, match="row-level security"):
        b.sql(
            "INSERT INTO repair (patient_id, date, strategy, created) "
            f"VALUES ({pid}, '2026-11-20', 'other', now())"
        )
    assert b.sql("UPDATE repair SET note = 'x'") == [] and b.sql("DELETE FROM repair") == []
    assert len(sup.sql("SELECT * FROM repair")) == 1  # the supervisor reads...
    with pytest.raises(Exception, match="permission denied"):
        sup.sql("DELETE FROM repair")  # ...and writes nothing
    [row] = a.sql("SELECT note FROM repair")
    assert row == ("secret of A",)
    audit = a.sql("SELECT entity, actor FROM audit_log WHERE action = 'repair.add'")
    assert audit == [("repair", clinic["dr_a_role"])]
