"""The clinician's flow from the README, through the real CLI against a real SQLite file."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from alliance_cli.clinician import os_user
from tests.conftest import Cli

PATIENT_KEYS = {
    "code",
    "name",
    "status",
    "since",
    "sessions",
    "last_session",
    "instrument",
    "latest",
    "trend",
    "alerts",
    "watch",
    "clinician",
    "ending",
}
SESSION_KEYS = {
    "id",
    "patient",
    "date",
    "rater",
    "instrument",
    "bond",
    "goal",
    "task",
    "total",
    "items",
    "extra",
    "note",
    "rupture",
}
GOAL_KEYS = {
    "id",
    "patient",
    "text",
    "proposed_by",
    "status",
    "target",
    "created",
    "reviews",
    "gas",
    "baseline",
    "weight",
    "gas_history",
}
TASK_KEYS = {
    "id",
    "patient",
    "goal_id",
    "text",
    "status",
    "due",
    "created",
    "status_changed",
    "reviews",
}


def test_readme_flow_stores_everything_and_reports_changes(fixed_today: date, cli: Cli) -> None:
    cli.make_room()
    added = cli.ok(
        "patient",
        "add",
        "P014",
        "--since",
        "2026-09-01",
        "--expectations",
        "back to running",
        "--social-context",
        "lives alone, supportive sister",
    )
    assert "Added patient P014" in added.stderr
    assert (
        cli.ok(
            "goal",
            "add",
            "P014",
            "Run 5 km without pain",
            "--by",
            "joint",
            "--target",
            "2027-01-31",
        ).stdout
        == "1\n"
    )
    assert (
        cli.ok(
            "task", "add", "P014", "Hip exercises, 3x a week", "--goal", "1", "--due", "2026-12-04"
        ).stdout
        == "1\n"
    )
    first = cli.ok(
        "session",
        "add",
        "P014",
        "--date",
        "2026-11-20",
        "--bond",
        "7",
        "--goal",
        "7.5",
        "--task",
        "7",
    )
    assert "first" in first.stdout
    second = cli.ok(
        "session",
        "add",
        "P014",
        "--bond",
        "8",
        "--goal",
        "7",
        "--task",
        "6",
        "--note",
        "felt unheard about pain",
    )
    out = second.stdout
    assert "Stored session 2 for P014" in out
    assert "since 2026-11-20" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:5]}
    assert lines["bond"] == ["8.0", "+1.0"]
    assert lines["goal"] == ["7.0", "-0.5"]
    assert lines["task"] == ["6.0", "-1.0"]
    cli.ok("task", "review", "1", "--adherence", "partly")

    sessions = json.loads(cli.ok("session", "list", "P014", "--format", "json").stdout)
    assert [set(s) for s in sessions] == [SESSION_KEYS, SESSION_KEYS]
    assert sessions[1] == {
        "id": 2,
        "patient": "P014",
        "date": fixed_today.isoformat(),
        "rater": "patient",
        "instrument": "quick",
        "bond": 8.0,
        "goal": 7.0,
        "task": 6.0,
        "total": 21.0,
        "items": [8.0, 7.0, 6.0],
        "extra": {},
        "rupture": None,  # not asked
        "note": "felt unheard about pain",
    }
    patients = json.loads(cli.ok("patient", "list", "--format", "json").stdout)
    assert patients == [
        {
            "code": "P014",
            "name": None,
            "status": "active",
            "since": "2026-09-01",
            "sessions": 2,
            "last_session": fixed_today.isoformat(),
            "instrument": "quick",
            "latest": {
                "date": fixed_today.isoformat(),
                "rater": "patient",
                "instrument": "quick",
                "bond": 8.0,
                "goal": 7.0,
                "task": 6.0,
                "total": 21.0,
            },
            "trend": "flat",
            "alerts": 0,
            "watch": 0,
            "clinician": os_user() if cli.is_sqlite else "postgres",
            "ending": None,  # in care
        }
    ]
    assert set(patients[0]) == PATIENT_KEYS
    goals = json.loads(cli.ok("goal", "list", "P014", "--format", "json").stdout)
    assert set(goals[0]) == GOAL_KEYS and goals[0]["proposed_by"] == "joint"
    assert goals[0]["target"] == "2027-01-31"
    tasks = json.loads(cli.ok("task", "list", "P014", "--format", "json").stdout)
    assert set(tasks[0]) == TASK_KEYS and tasks[0]["goal_id"] == 1
    assert tasks[0]["reviews"] == [{"date": fixed_today.isoformat(), "adherence": "partly"}]

    table = cli.ok("session", "list", "P014").stdout
    assert "felt unheard about pain" in table and "\x1b[" not in table
    show = cli.ok("patient", "show", "P014").stdout
    for text in (
        "back to running",
        "lives alone, supportive sister",
        "Run 5 km without pain",
        "Hip exercises, 3x a week",
        "partly",
    ):
        assert text in show


def test_rate_is_session_add(p014: Cli) -> None:
    result = p014.ok(
        "rate",
        "P014",
        "--date",
        "2026-02-09",
        "--bond",
        "6",
        "--goal",
        "6",
        "--task",
        "6",
        "--format",
        "json",
    )
    data = json.loads(result.stdout)
    assert data["changes"] == {"bond": -1.0, "goal": -1.0, "task": -1.0}
    assert data["previous"]["date"] == "2026-02-02"
    assert len(p014.rows("session_rating")) == 2


def test_change_is_against_the_same_rater(p014: Cli) -> None:
    therapist = json.loads(
        p014.ok(
            "session",
            "add",
            "P014",
            "--date",
            "2026-02-09",
            "--rater",
            "therapist",
            "--bond",
            "5",
            "--goal",
            "5",
            "--task",
            "5",
            "--format",
            "json",
        ).stdout
    )
    assert therapist["previous"] is None
    patient = json.loads(
        p014.ok(
            "session",
            "add",
            "P014",
            "--date",
            "2026-02-09",
            "--bond",
            "9",
            "--goal",
            "7",
            "--task",
            "7",
            "--format",
            "json",
        ).stdout
    )
    assert patient["changes"]["bond"] == 2.0


def test_csv_listing_has_header_and_rows(p014: Cli) -> None:
    lines = p014.ok("session", "list", "P014", "--format", "csv").stdout.splitlines()
    header = "id,patient,date,rater,instrument,bond,goal,task,total,items,extra,rupture,note"
    assert lines[0] == header
    assert lines[1].startswith("1,P014,2026-02-02,patient,quick,7,7,7,")


def test_patient_lifecycle_edit_discharge_reactivate(p014: Cli) -> None:
    p014.ok("patient", "edit", "P014", "--name", "Alex Example", "--beliefs", "pain = damage")
    p014.ok(
        "patient",
        "discharge",
        "P014",
        "--date",
        "2026-03-01",
        "--reason",
        "goals met",
        "--ending",
        "mutual",
    )
    assert json.loads(p014.ok("patient", "list", "--format", "json").stdout) == []
    everyone = json.loads(p014.ok("patient", "list", "--all", "--format", "json").stdout)
    assert everyone[0]["status"] == "discharged" and everyone[0]["name"] == "Alex Example"
    assert everyone[0]["ending"] == "mutual"
    refused = p014(
        "session",
        "add",
        "P014",
        "--date",
        "2026-03-02",
        "--bond",
        "5",
        "--goal",
        "5",
        "--task",
        "5",
    )
    assert refused.exit_code == 1 and "discharged" in refused.stderr
    p014.ok("patient", "reactivate", "P014")
    p014.ok("patient", "edit", "P014", "--name", "")
    shown = json.loads(p014.ok("patient", "show", "P014", "--format", "json").stdout)
    assert shown["patient"]["name"] is None and shown["patient"]["status"] == "active"
    assert shown["patient"]["ending"] is None  # reactivated: care has not ended
    assert shown["patient"]["beliefs"] == "pain = damage"


def test_rename_keeps_history(p014: Cli) -> None:
    p014.ok("patient", "edit", "P014", "--code", "P015")
    sessions = json.loads(p014.ok("session", "list", "P015", "--format", "json").stdout)
    assert sessions[0]["patient"] == "P015"


def test_goal_and_task_status_and_edit(fixed_today: date, p014: Cli) -> None:
    p014.ok("goal", "status", "1", "achieved", "--note", "ran 5 km")
    assert json.loads(p014.ok("goal", "list", "P014", "--format", "json").stdout) == []
    goals = json.loads(p014.ok("goal", "list", "P014", "--all", "--format", "json").stdout)
    assert goals[0]["status"] == "achieved"
    review = [str(value) for value in p014.rows("goal_review")[0][2:]]
    assert review == [fixed_today.isoformat(), "achieved", "ran 5 km", "None"]  # no GAS
    p014.ok("goal", "edit", "1", "--text", "Run 10 km", "--target", "2027-06-01")
    p014.ok("task", "status", "1", "completed")
    p014.ok("task", "edit", "1", "--text", "Hip exercises, daily")
    tasks = json.loads(p014.ok("task", "list", "P014", "--all", "--format", "json").stdout)
    assert tasks[0]["status"] == "completed" and tasks[0]["text"] == "Hip exercises, daily"


def test_session_edit_and_delete(p014: Cli) -> None:
    p014.ok("session", "edit", "1", "--task", "4.5", "--note", "corrected")
    session = json.loads(p014.ok("session", "list", "P014", "--format", "json").stdout)[0]
    assert (session["bond"], session["task"], session["items"]) == (7.0, 4.5, [7.0, 7.0, 4.5])
    assert session["note"] == "corrected"
    p014.ok("session", "delete", "1", "--yes")
    assert p014.rows("session_rating") == []


def test_delete_patient_erases_everything(p014: Cli) -> None:
    p014.ok("task", "review", "1", "--adherence", "done")
    p014.ok("goal", "status", "1", "dropped")
    p014.ok("patient", "add", "P020")
    p014.ok(
        "session",
        "add",
        "P020",
        "--date",
        "2026-02-02",
        "--bond",
        "5",
        "--goal",
        "5",
        "--task",
        "5",
    )
    result = p014.ok("patient", "delete", "P014", "--yes")
    assert "Erased P014" in result.stderr
    for table in ("goal", "goal_review", "task", "task_review"):
        assert p014.rows(table) == []
    assert [row[1] for row in p014.rows("patient")] == ["P020"]
    assert len(p014.rows("session_rating")) == 1


def test_delete_asks_and_respects_no(p014: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("alliance_cli.cli.common.stdin_is_terminal", lambda: True)
    declined = p014("patient", "delete", "P014", input="n\n")
    assert declined.exit_code == 1 and len(p014.rows("patient")) == 1
    accepted = p014("patient", "delete", "P014", input="y\n")
    assert accepted.exit_code == 0 and p014.rows("patient") == []


def test_session_add_prompts_on_a_terminal_showing_previous_values(p014: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("alliance_cli.cli.session.stdin_is_terminal", lambda: True)
    result = p014(
        "session", "add", "P014", "--date", "2026-02-09", "--task", "6", input="11\n8\n6.5\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "last 7.0 on 2026-02-02" in result.stderr
    assert "out of range" in result.stderr  # 11 was refused and asked again
    stored = p014.rows("session_rating")[-1]
    assert stored[5:8] == (8.0, 6.5, 6.0)


def test_session_add_does_not_prompt_when_it_cannot_store(p014: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("alliance_cli.cli.session.stdin_is_terminal", lambda: True)
    result = p014("session", "add", "P014", "--date", "2026-02-02", input="")
    assert result.exit_code == 1 and "already has a patient rating" in result.stderr


def test_where_reports_location_schema_and_counts(p014: Cli) -> None:
    info = json.loads(p014.ok("where", "--format", "json").stdout)
    assert info["database"] == p014.db
    assert info["source"] == "--db"
    from alliance_cli.store.schema import SCHEMA_HEAD

    assert info["schema_version"] == SCHEMA_HEAD
    assert (info["patients"], info["sessions"]) == (1, 1)
    assert info["config"].endswith("alliance/config.toml")


def test_default_database_and_env_variable(cli: Cli, isolated_home, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    default = isolated_home / ".local" / "share" / "alliance" / "alliance.db"
    cli("patient", "add", "P1", db=False)
    assert default.exists()
    other = tmp_path / "env.db"
    monkeypatch.setenv("ALLIANCE_DB", str(other))
    cli("patient", "add", "P2", db=False)
    info = json.loads(cli("where", "--format", "json", db=False).stdout)
    assert info["database"] == str(other) and info["source"] == "ALLIANCE_DB"
    monkeypatch.setenv("ALLIANCE_DB", f"sqlite:///{default}")
    codes = [p["code"] for p in json.loads(cli("patient", "list", "-f", "json", db=False).stdout)]
    assert codes == ["P1"]


@pytest.mark.sqlite_only
def test_where_does_not_create_a_database(cli: Cli) -> None:
    cli.make_room()
    info = json.loads(cli.ok("where", "--format", "json").stdout)
    assert info["schema_version"] is None
    assert not cli.db_path.exists()


def test_demo_writes_a_separate_synthetic_caseload(
    fixed_today: date, cli: Cli, isolated_home: Path
) -> None:
    result = cli("demo", db=False)
    assert result.exit_code == 0, result.stderr
    demo_db = isolated_home / ".local" / "share" / "alliance" / "demo.db"
    assert demo_db.exists() and str(demo_db) in result.stderr
    assert not (demo_db.parent / "alliance.db").exists()
    demo = Cli(demo_db)
    everyone = json.loads(demo.ok("patient", "list", "--all", "--format", "json").stdout)
    patients = [p for p in everyone if p["status"] == "active"]
    assert len(patients) == 7  # D07: a rupture the patient reported, the therapist missed
    ended = [p for p in everyone if p["status"] == "discharged"]
    assert len(ended) == 12 and all(p["ending"] for p in ended)  # for `alliance outcomes`
    stopped = [
        p for p in patients if p["last_session"] < (fixed_today - timedelta(weeks=4)).isoformat()
    ]
    assert len(stopped) == 1
    decline = json.loads(demo.ok("session", "list", "D02", "--format", "json").stdout)
    assert decline[0]["bond"] - decline[-1]["bond"] >= 3
    raters = {
        s["rater"] for s in json.loads(demo.ok("session", "list", "D04", "-f", "json").stdout)
    }
    assert raters == {"patient", "therapist"}
    assert cli("demo", db=False).exit_code == 0  # the default demo can be rewritten


@pytest.mark.sqlite_only
def test_demo_refuses_the_real_database(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")
    before = cli.dump()
    result = cli("demo", "--path", str(cli.db_path))
    assert result.exit_code == 1
    assert cli.dump() == before


def test_item_prompts_name_what_each_item_is_about(p014: Cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An SRS prompt says which item it asks for, not only `srs item 1 of 4`."""
    monkeypatch.setattr("alliance_cli.cli.session.stdin_is_terminal", lambda: True)
    p014.ok("patient", "add", "S01", "--since", "2026-01-05", "--instrument", "srs")
    result = p014("session", "add", "S01", "--date", "2026-02-09", input="8\n7\n9\n8.5\n")
    assert result.exit_code == 0, result.stderr
    for number, label in enumerate(
        ("relationship", "goals and topics", "approach or method", "overall"), 1
    ):
        assert f"srs item {number} of 4: {label} (0-10)" in result.stderr
    assert p014.rows("session_rating")[-1][5:8] == (8.0, 7.0, 9.0)


def test_a_therapist_rating_on_the_wai_sr_warns_once(p014: Cli) -> None:
    """The WAI-SR is a client form: the therapist's first set on it says why that is a
    problem, later ones do not repeat it; patient ratings never warn."""
    p014.ok("patient", "add", "W01", "--since", "2026-01-05", "--instrument", "wai-sr")
    items = ["--items", "4,4,4,4,4,4,4,4,4,4,4,4"]
    patient = p014.ok("session", "add", "W01", "--date", "2026-02-02", *items)
    assert "client form" not in patient.stderr
    first = p014.ok("session", "add", "W01", "--date", "2026-02-02", "--rater", "therapist", *items)
    assert "warning: wai-sr is a client form" in first.stderr
    assert "Hatcher, Lindqvist & Falkenstroem 2020" in first.stderr
    later = p014.ok("session", "add", "W01", "--date", "2026-02-09", "--rater", "therapist", *items)
    assert "client form" not in later.stderr
    assert len(p014.rows("session_rating")) == 4  # stored all the same
