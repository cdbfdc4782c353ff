"""Seeing the alliance through the CLI: instruments, flags, trend charts and config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_TODAY, Cli

# Five weekly sessions ending today (the fixed day of the `clinic` fixture), so that
# no-contact never fires by accident.
WEEKS = [(FIXED_TODAY - timedelta(weeks=4 - week)).isoformat() for week in range(5)]


def rate_quick(cli: Cli, code: str, values: list[float], rater: str = "patient") -> None:
    for when, value in zip(WEEKS, values, strict=False):
        v = f"{value:g}"
        cli.ok(
            "session",
            "add",
            code,
            "--date",
            when,
            "--rater",
            rater,
            "--bond",
            v,
            "--goal",
            v,
            "--task",
            v,
        )


@pytest.fixture
def clinic(fixed_today: date, cli: Cli) -> Cli:
    cli.make_room()
    return cli


def flags_json(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok("flags", *args, "--format", "json").stdout)


def test_a_fall_from_9_to_4_is_a_drop_alert_and_a_steady_9_raises_nothing(clinic: Cli) -> None:
    clinic.ok("patient", "add", "FALL")
    clinic.ok("patient", "add", "STEADY")
    rate_quick(clinic, "FALL", [9, 9, 9, 4])
    rate_quick(clinic, "STEADY", [9, 9, 9, 9])
    found = flags_json(clinic)
    drops = [f for f in found if f["patient"] == "FALL" and f["kind"] == "drop"]
    assert {f["dimension"] for f in drops} == {"bond", "goal", "task"}
    assert all(f["severity"] == "alert" for f in drops)
    assert (
        drops[0]["message"]
        == f"{drops[0]['dimension']} fell 5.0 points since {WEEKS[2]} (9.0 -> 4.0)"
    )
    assert set(drops[0]) == {
        "patient",
        "kind",
        "severity",
        "dimension",
        "date",
        "message",
        "direction",
        "marker",
    }
    assert [f for f in found if f["patient"] == "STEADY"] == []
    assert flags_json(clinic, "STEADY") == []
    assert flags_json(clinic, "STEADY", "--history") == []


def test_session_add_prints_the_flags_it_raised(clinic: Cli) -> None:
    clinic.ok("patient", "add", "P1")
    rate_quick(clinic, "P1", [9, 9, 9])
    result = clinic.ok(
        "session", "add", "P1", "--date", WEEKS[3], "--bond", "4", "--goal", "9", "--task", "9"
    )
    assert "Flags raised by this session" in result.stdout
    assert "drop: bond -5.0" in result.stdout  # one line for the session's flags
    quiet = clinic.ok(
        "session",
        "add",
        "P1",
        "--date",
        WEEKS[4],
        "--bond",
        "9",
        "--goal",
        "9",
        "--task",
        "9",
        "--format",
        "json",
    )
    assert json.loads(quiet.stdout)["flags"] == []


def test_severity_filter_and_flagged_patients(clinic: Cli) -> None:
    clinic.ok("patient", "add", "A")
    clinic.ok("patient", "add", "B")
    rate_quick(clinic, "A", [9, 9, 9, 4])
    rate_quick(clinic, "B", [8, 8, 8, 8])
    rate_quick(clinic, "B", [5, 5, 5, 5], rater="therapist")  # discrepancy: watch; low: alert
    watch_or_worse = flags_json(clinic, "--severity", "watch")
    assert {f["severity"] for f in watch_or_worse} <= {"alert", "watch"}
    alerts = flags_json(clinic, "--severity", "alert")
    assert {f["severity"] for f in alerts} == {"alert"}
    everyone = json.loads(clinic.ok("patient", "list", "--format", "json").stdout)
    a = next(p for p in everyone if p["code"] == "A")
    assert a["alerts"] >= 1 and a["latest"]["total"] == 12.0 and a["trend"] == "down"
    flagged = json.loads(clinic.ok("patient", "list", "--flagged", "--format", "json").stdout)
    assert {p["code"] for p in flagged} == {p["code"] for p in everyone if p["alerts"]}


def test_wai_sr_items_are_scored_and_a_reliable_drop_is_flagged(clinic: Cli) -> None:
    clinic.ok("patient", "add", "W1", "--instrument", "wai-sr")
    first = json.loads(
        clinic.ok(
            "session",
            "add",
            "W1",
            "--date",
            "2026-03-02",
            "--items",
            "5,4,3,2,1,5,4,3,2,1,5,4",
            "--format",
            "json",
        ).stdout
    )["session"]
    # task = items 1,2,10,12 = 5,4,1,4 -> 3.5; bond = 3,5,7,9 = 3,1,4,2 -> 2.5;
    # goal = 4,6,8,11 = 2,5,3,5 -> 3.75; total = 39
    assert (first["bond"], first["goal"], first["task"], first["total"]) == (2.5, 3.75, 3.5, 39.0)
    assert first["items"] == [5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5, 4]
    second = json.loads(
        clinic.ok(
            "session",
            "add",
            "W1",
            "--date",
            "2026-03-09",
            "--items",
            "3,3,2,2,1,3,2,2,2,1,3,3",
            "--format",
            "json",
        ).stdout
    )
    # total 27: a fall of 12 > 1.96 * sqrt(2) * 8 * sqrt(0.1) = 7.01
    assert any(f["kind"] == "drop" and f["dimension"] == "total" for f in second["flags"])
    refused = clinic("session", "add", "W1", "--date", "2026-03-16", "--bond", "4")
    assert refused.exit_code == 1 and "wai-sr" in refused.stderr
    wrong_count = clinic("session", "add", "W1", "--date", "2026-03-16", "--items", "3,3,3")
    assert wrong_count.exit_code == 1 and "needs 12 item values, got 3" in wrong_count.stderr
    assert len(clinic.rows("session_rating")) == 2


def test_srs_keeps_overall_and_total_and_uses_the_published_cut_off(clinic: Cli) -> None:
    clinic.ok("patient", "add", "S1", "--instrument", "srs")
    stored = json.loads(
        clinic.ok(
            "session",
            "add",
            "S1",
            "--date",
            "2026-03-02",
            "--items",
            "9,9.5,8.5,9",
            "--format",
            "json",
        ).stdout
    )
    assert stored["session"]["extra"] == {"overall": 9.0}
    assert stored["session"]["total"] == 36.0
    assert stored["flags"] == []  # 36 is not below 36
    low = json.loads(
        clinic.ok(
            "session",
            "add",
            "S1",
            "--date",
            "2026-03-09",
            "--items",
            "9,9,8.5,9",
            "--format",
            "json",
        ).stdout
    )
    kinds = {(f["kind"], f["dimension"]) for f in low["flags"]}
    assert ("drop", "total") not in kinds  # 36 -> 35.5: under the published 1 point
    assert ("early-risk", "total") in kinds  # below 36 in the first three sessions
    lower = json.loads(
        clinic.ok(
            "session",
            "add",
            "S1",
            "--date",
            "2026-03-16",
            "--items",
            "9,8.5,8,9",
            "--format",
            "json",
        ).stdout
    )
    assert ("drop", "total") in {(f["kind"], f["dimension"]) for f in lower["flags"]}


def test_items_for_quick_are_refused(clinic: Cli) -> None:
    clinic.ok("patient", "add", "Q1")
    result = clinic("session", "add", "Q1", "--date", "2026-03-02", "--items", "1,2,3")
    assert result.exit_code == 1 and "--items does not apply" in result.stderr
    assert clinic.rows("session_rating") == []


def test_unknown_instrument_is_refused(clinic: Cli) -> None:
    result = clinic("patient", "add", "X1", "--instrument", "wai-xx")
    assert result.exit_code == 1 and "unknown instrument 'wai-xx'" in result.stderr
    assert clinic.table_is_empty("patient")


def test_changing_instrument_never_mixes_scores(clinic: Cli) -> None:
    clinic.ok("patient", "add", "C1")
    rate_quick(clinic, "C1", [9, 9])
    clinic.ok("patient", "edit", "C1", "--instrument", "wai-sr")
    after = json.loads(
        clinic.ok(
            "session",
            "add",
            "C1",
            "--date",
            "2026-03-16",
            "--items",
            "2,2,2,2,2,2,2,2,2,2,2,2",
            "--format",
            "json",
        ).stdout
    )
    assert after["previous"] is None and all(v is None for v in after["changes"].values())
    assert not any(f["kind"] in ("drop", "rupture", "decline") for f in after["flags"])
    trend = clinic.ok("trend", "C1", "--width", "60", "--height", "12")
    assert "only wai-sr sessions are charted" in trend.stderr


def test_trend_piped_has_no_escape_codes(clinic: Cli) -> None:
    clinic.ok("patient", "add", "T1")
    rate_quick(clinic, "T1", [8, 7.5, 6, 8.5, 9])
    chart = clinic.ok("trend", "T1", "--width", "70", "--height", "16").stdout
    assert "\x1b" not in chart
    lines = chart.rstrip("\n").split("\n")
    assert len(lines) == 16 and max(len(line) for line in lines) <= 70
    assert "T1" in lines[0] and "cut-off 6" in chart
    total = clinic.ok(
        "trend", "T1", "--dimension", "total", "--last", "3", "--width", "60", "--height", "12"
    ).stdout
    assert "cut-off 21" in total and "\x1b" not in total


def test_trend_with_one_or_no_session(clinic: Cli) -> None:
    clinic.ok("patient", "add", "T2")
    none = clinic.ok("trend", "T2")
    assert none.stdout == "" and "No patient ratings" in none.stderr
    rate_quick(clinic, "T2", [8])
    one = clinic.ok("trend", "T2")
    assert one.stdout.count("\n") == 1 and "one session so far" in one.stdout


def test_trend_on_a_terminal_is_in_colour_and_no_color_turns_it_off(tmp_path: Path) -> None:
    import pty

    db = tmp_path / "pty.db"
    base = [sys.executable, "-m", "alliance_cli", "--db", str(db)]
    subprocess.run([*base, "patient", "add", "T3"], check=True, capture_output=True)
    # Real processes see the real date: past dates, which a trend chart draws alike any day.
    for when, value in (("2026-03-02", "8"), ("2026-03-09", "6"), ("2026-03-16", "9")):
        subprocess.run(
            [
                *base,
                "session",
                "add",
                "T3",
                "--date",
                when,
                "--bond",
                value,
                "--goal",
                value,
                "--task",
                value,
            ],
            check=True,
            capture_output=True,
        )

    def on_terminal(env: dict[str, str]) -> bytes:
        controller, terminal = pty.openpty()
        process = subprocess.Popen(
            [*base, "trend", "T3", "--width", "60", "--height", "12"],
            stdout=terminal,
            stderr=terminal,
            env=env,
        )
        os.close(terminal)
        seen = b""
        try:
            while chunk := os.read(controller, 65536):
                seen += chunk
        except OSError:
            pass
        process.wait(timeout=60)
        os.close(controller)
        assert process.returncode == 0, seen
        return seen

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm-256color"
    assert b"\x1b[" in on_terminal(env)
    assert b"\x1b" not in on_terminal({**env, "NO_COLOR": "1"})


def test_patient_show_is_a_dashboard(clinic: Cli) -> None:
    clinic.ok("patient", "add", "D1", "--expectations", "feel heard")
    clinic.ok("goal", "add", "D1", "Sleep better")
    clinic.ok("goal", "add", "D1", "Walk daily")
    clinic.ok("goal", "status", "2", "achieved", "--note", "walks every day")
    clinic.ok("task", "add", "D1", "Sleep diary", "--goal", "1")
    clinic.ok("task", "review", "1", "--adherence", "not-done", "--date", "2026-03-03")
    clinic.ok("task", "review", "1", "--adherence", "not-done", "--date", "2026-03-10")
    rate_quick(clinic, "D1", [9, 9, 9, 4])
    shown = clinic.ok("patient", "show", "D1").stdout
    assert "Needs attention" in shown and "tasks-missed" in shown and "drop" in shown
    assert "Active goals" in shown and "Sleep better" in shown and "Walk daily" not in shown
    assert "Open tasks" in shown and "not-done" in shown
    assert "D1: quick, patient ratings" in shown  # the compact chart
    data = json.loads(clinic.ok("patient", "show", "D1", "--format", "json").stdout)
    assert {f["kind"] for f in data["flags"]} >= {"drop", "tasks-missed"}
    achieved = next(g for g in data["goals"] if g["id"] == 2)
    assert achieved["reviews"][0]["status"] == "achieved"
    assert achieved["reviews"][0]["note"] == "walks every day"


def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    monkeypatch.setenv("ALLIANCE_CONFIG", str(path))
    return path


def test_a_threshold_in_the_config_file_changes_which_flags_fire(
    clinic: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic.ok("patient", "add", "P1")
    rate_quick(clinic, "P1", [9, 9, 9, 7.5])  # a fall of 1.5: under the default of 2
    assert not any(f["kind"] == "drop" for f in flags_json(clinic))
    write_config(tmp_path, monkeypatch, "[thresholds.quick]\ndrop_dimension = 1.5\n")
    drops = [f for f in flags_json(clinic) if f["kind"] == "drop"]
    assert {f["dimension"] for f in drops} == {"bond", "goal", "task"}
    write_config(tmp_path, monkeypatch, "[thresholds.quick]\nlow_total = 25\n")
    assert any(f["kind"] == "low" for f in flags_json(clinic))
    write_config(tmp_path, monkeypatch, "[general]\nno_contact_days = 1\n")
    assert any(f["kind"] == "no-contact" for f in flags_json(clinic))


def test_config_show_says_where_each_value_comes_from(
    clinic: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, monkeypatch, "[thresholds.srs]\nlow_total = 35\n")
    assert clinic.ok("config", "path").stdout.strip() == str(path)
    shown = json.loads(clinic.ok("config", "show", "--format", "json").stdout)
    settings = {s["key"]: s for s in shown["settings"]}
    assert settings["thresholds.srs.low_total"] == {
        "key": "thresholds.srs.low_total",
        "value": 35.0,
        "source": "file",
    }
    assert settings["thresholds.quick.low_total"]["source"] == "default"
    assert {i["name"] for i in shown["instruments"]} >= {"quick", "wai-sr", "srs"}
    text = clinic.ok("config", "show").stdout
    assert "thresholds.srs.low_total" in text and "file" in text


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[thresholds.quick]\nlow_total = 'high'\n", "thresholds.quick.low_total"),
        ("[thresholds.quick]\nlow_totl = 20\n", "thresholds.quick.low_totl"),
        ("[thresholds.nope]\nlow_total = 20\n", "thresholds.nope"),
        ("[general]\nno_contact_days = 0\n", "general.no_contact_days"),
        (
            "[instruments.mine]\nitems = 4\nmin = 1\nmax = 5\nbond = [1]\ngoal = [2]\ntask = [9]\n",
            "instruments.mine.task",
        ),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_an_invalid_config_names_the_key(
    clinic: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, key: str
) -> None:
    clinic.ok("patient", "add", "P1")
    write_config(tmp_path, monkeypatch, toml)
    for argv in (
        ["flags"],
        ["config", "show"],
        ["session", "add", "P1", "--bond", "5", "--goal", "5", "--task", "5"],
    ):
        result = clinic(*argv)
        assert result.exit_code == 1, argv
        assert key in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert clinic.rows("session_rating") == []


def test_a_custom_instrument_from_the_config_needs_no_code_change(
    clinic: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(
        tmp_path,
        monkeypatch,
        """
[instruments.clinic-form]
title = "clinic's reduced form"
items = 6
min = 1
max = 7
score = "mean"
bond = [1, 2]
goal = [3, 4]
task = [5, 6]

[thresholds.clinic-form]
low_total = 24
""",
    )
    clinic.ok("patient", "add", "R1", "--instrument", "clinic-form")
    stored = json.loads(
        clinic.ok(
            "session",
            "add",
            "R1",
            "--date",
            "2026-03-02",
            "--items",
            "7,5,3,4,2,1",
            "--format",
            "json",
        ).stdout
    )
    assert (stored["session"]["bond"], stored["session"]["goal"], stored["session"]["task"]) == (
        6.0,
        3.5,
        1.5,
    )
    assert stored["session"]["total"] == 22.0
    assert [f["kind"] for f in stored["flags"]] == ["early-risk"]  # 22 < 24 in session 1
