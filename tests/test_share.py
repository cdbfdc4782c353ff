"""Sharing the alliance: weekly summary, exports, import (through the real CLI)."""

from __future__ import annotations

import json
import re
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXED_TODAY, Cli, Snapshots

ROOT = Path(__file__).parent.parent
TODAY = FIXED_TODAY  # the `caseload` fixture fixes the day: every date below is relative


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def rate(cli: Cli, code: str, when: str, value: float, rater: str = "patient") -> None:
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
def caseload(fixed_today: date, cli: Cli, snapshots: Snapshots) -> Cli:
    """FALL drops to 4 this week (alerts); FINE is steady; GONE was last seen 60 days ago
    (as of TODAY, the fixed day). (Made by these commands once per test process, then
    copied: `Snapshots` in conftest.py.)"""
    cli.make_room()
    snapshots.give(cli, "test_share caseload", add_caseload)
    return cli


def add_caseload(cli: Cli) -> None:
    for code in ("FALL", "FINE", "GONE"):
        cli.ok("patient", "add", code)
    for week, value in enumerate([9, 9, 9]):
        rate(cli, "FALL", day(28 - 7 * week), value)
        rate(cli, "FINE", day(28 - 7 * week), 8)
    rate(cli, "FALL", day(2), 4)
    rate(cli, "FINE", day(3), 8)
    rate(cli, "GONE", day(60), 8)
    cli.ok("goal", "add", "FINE", "Walk daily")
    cli.ok("goal", "status", "1", "achieved", "--note", "walks daily now")
    cli.ok("task", "add", "FALL", "Diary")
    cli.ok("task", "review", "1", "--adherence", "done", "--date", day(5))
    cli.ok("task", "review", "1", "--adherence", "not-done", "--date", day(1))


def test_summary_json_counts_and_flags(caseload: Cli) -> None:
    data = json.loads(caseload.ok("summary", "--days", "7", "--format", "json").stdout)
    assert (data["since"], data["until"]) == (day(6), day(0))
    assert data["sessions_held"] == 2 and data["patients_seen"] == 2
    fall = next(p for p in data["patients"] if p["patient"] == "FALL")
    assert fall["latest"]["total"] == 12.0 and fall["changes"]["total"] == -15.0
    assert fall["change_since"] == day(14)
    alerts = [f for f in data["flags"] if f["severity"] == "alert"]
    assert alerts and all(f["patient"] == "FALL" for f in alerts)
    assert data["flags"][0]["severity"] == "alert"  # alerts first
    assert any(f["kind"] == "drop" and "fell 5.0 points" in f["message"] for f in alerts)
    assert data["alerts"] == len(alerts)
    assert [g["goal"] for g in data["goals_reviewed"]] == ["Walk daily"]
    assert data["task_adherence"]["reviews"] == {"done": 1, "partly": 0, "not-done": 1}
    assert data["task_adherence"]["share"]["done"] == 0.5
    assert [n["patient"] for n in data["no_contact"]] == ["GONE"]
    assert data["no_contact"][0]["days"] == 60


def test_summary_text_and_markdown_name_the_flagged_patient_with_its_reason(
    caseload: Cli,
) -> None:
    text = caseload.ok("summary").stdout
    assert re.search(r"ALERT FALL [0-9-]+ rupture: .*; drop: bond -5.0", " ".join(text.split()))
    assert "Sessions held: 2" in text and "GONE" in text and "\x1b" not in text
    markdown = caseload.ok("summary", "--format", "markdown").stdout
    assert markdown.startswith("# Alliance summary")
    assert re.search(r"\| alert \| FALL \| [0-9-]+ \| rupture: .*; drop: bond ", markdown)
    assert "## Active patients with no contact" in markdown


def test_summary_period_and_exit_code_for_cron(caseload: Cli) -> None:
    quiet = caseload("summary", "--since", day(20), "--until", day(10), "--fail-on-flags")
    assert quiet.exit_code == 0, quiet.stderr
    loud = caseload("summary", "--fail-on-flags", "--format", "json")
    assert loud.exit_code == 3 and json.loads(loud.stdout)["alerts"] > 0
    both = caseload("summary", "--days", "7", "--since", day(3))
    assert both.exit_code == 1 and "not both" in both.stderr


def test_summary_output_file_is_private_and_not_overwritten(caseload: Cli, tmp_path: Path) -> None:
    target = tmp_path / "week.md"
    caseload.ok("summary", "--format", "markdown", "--output", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_text().startswith("# Alliance summary")
    again = caseload("summary", "--output", str(target))
    assert again.exit_code == 1 and "--force" in again.stderr
    assert target.read_text().startswith("# Alliance summary")
    caseload.ok("summary", "--output", str(target), "--force")
    assert target.read_text().startswith("Alliance summary")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".week")]  # no temp left


def test_json_export_then_import_reproduces_everything(caseload: Cli, tmp_path: Path) -> None:
    caseload.ok("patient", "edit", "FINE", "--expectations", "feel heard", "--name", "N. N.")
    caseload.ok("patient", "discharge", "GONE", "--reason", "moved", "--ending", "moved")
    before = caseload.ok("export", "--all", "--format", "json").stdout
    dump = tmp_path / "all.json"
    dump.write_text(before)
    copy = Cli(tmp_path / "copy.db")
    report = copy.ok("import", str(dump))
    assert "Added 3 patients" in report.stderr
    after = copy.ok("export", "--all", "--format", "json").stdout
    assert json.loads(after) == json.loads(before)
    again = copy.ok("import", str(dump))
    assert "Added 0 patients, 0 rating sets" in again.stderr
    assert copy.ok("export", "--all", "--format", "json").stdout == after
    document = json.loads(before)
    assert document["format"] == "alliance-export" and document["schema_version"] == 2


def test_csv_export_has_one_row_per_rating_and_defuses_formulas(caseload: Cli) -> None:
    caseload.ok("session", "edit", "1", "--note", '=HYPERLINK("x")')
    lines = caseload.ok("export", "FALL", "--format", "csv").stdout.splitlines()
    assert lines[0] == "patient,date,rater,instrument,bond,goal,task,total,items,rupture,note"
    assert len(lines) == 1 + 4
    assert lines[1].endswith(',\'=HYPERLINK(""x"")"') or "'=HYPERLINK" in lines[1]


def test_csv_import_is_all_or_nothing_and_names_bad_lines(cli: Cli, tmp_path: Path) -> None:
    cli.make_room()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "patient,date,rater,instrument,bond,goal,task,items,note\n"
        "A1,2026-01-05,patient,quick,8,8,8,,fine\n"
        "A1,2026-13-01,patient,quick,8,8,8,,bad date\n"
        "A1,2026-01-12,patient,quick,8,8,8,,fine\n"
        "A2,2026-01-05,patient,quick,12,8,8,,out of range\n"
        "A2,2026-01-12,nurse,quick,8,8,8,,bad rater\n"
    )
    result = cli("import", str(bad))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: 3 bad rows; nothing was imported"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["line 3", "line 5", "line 6"]
    assert cli.table_is_empty("session_rating")


def test_csv_import_twice_adds_rows_once(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P900")  # a dry run reads: the database must exist
    sample = str(ROOT / "examples" / "sessions.csv")
    dry = cli.ok("import", sample, "--dry-run")
    assert "Would add 3 patients, 8 rating sets" in dry.stderr
    assert cli.rows("session_rating") == []
    cli.ok("import", sample)
    assert len(cli.rows("session_rating")) == 8
    second = cli.ok("import", sample)
    assert "0 rating sets" in second.stderr and "8 rating sets were already there" in second.stderr
    assert len(cli.rows("session_rating")) == 8
    wai = json.loads(cli.ok("session", "list", "S102", "--format", "json").stdout)
    assert wai[0]["instrument"] == "wai-sr" and len(wai[0]["items"]) == 12


def test_csv_export_imports_back(caseload: Cli, tmp_path: Path) -> None:
    exported = tmp_path / "fall.csv"
    exported.write_text(caseload.ok("export", "FALL", "--format", "csv").stdout)
    copy = Cli(tmp_path / "copy.db")
    copy.ok("import", str(exported))
    original = json.loads(caseload.ok("session", "list", "FALL", "-f", "json").stdout)
    imported = json.loads(copy.ok("session", "list", "FALL", "-f", "json").stdout)
    strip = [{k: v for k, v in s.items() if k != "id"} for s in original]
    assert [{k: v for k, v in s.items() if k != "id"} for s in imported] == strip


def test_a_conflicting_row_is_refused(caseload: Cli, tmp_path: Path) -> None:
    clash = tmp_path / "clash.csv"
    clash.write_text(f"patient,date,bond,goal,task\nFALL,{day(2)},9,9,9\n")
    before = caseload.dump()
    result = caseload("import", str(clash))
    assert result.exit_code == 1 and "already has a different patient rating" in result.stderr
    assert caseload.dump() == before


def test_fhir_export_validates(caseload: Cli) -> None:
    from fhir.resources.R4B.bundle import Bundle

    bundle = json.loads(caseload.ok("export", "FINE", "--format", "fhir").stdout)
    Bundle.model_validate(bundle)
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert len(patients) == 1 and "name" not in patients[0]


def test_export_refuses_bad_combinations(caseload: Cli) -> None:
    assert caseload("export").exit_code == 1
    assert caseload("export", "--all").exit_code == 1  # markdown is per patient
    assert caseload("export", "FALL", "--for-patient", "--format", "json").exit_code == 1


def test_export_output_file(caseload: Cli, tmp_path: Path) -> None:
    target = tmp_path / "fall.json"
    caseload.ok("export", "FALL", "--format", "json", "--output", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["patients"][0]["code"] == "FALL"
    assert caseload("export", "FALL", "--format", "json", "--output", str(target)).exit_code == 1


def test_import_of_a_missing_or_foreign_file(cli: Cli, tmp_path: Path) -> None:
    cli.make_room()
    assert "no file" in cli("import", str(tmp_path / "nope.csv")).stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    result = cli("import", str(other))
    assert result.exit_code == 1 and "not an alliance JSON export" in result.stderr
    header = tmp_path / "header.csv"
    header.write_text("who,when\nx,y\n")
    assert "needs at least the columns" in cli("import", str(header)).stderr


def test_progress_is_silent_off_a_terminal_and_a_bar_on_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import alliance_cli.render.progress as progress_module

    with progress_module.progress("quiet") as tracker:
        tracker.started(3)
        tracker.advance(3)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress_module, "wants_rich", lambda stream: True)
    with progress_module.progress("loud") as tracker:
        tracker.started(2)
        tracker.advance(1)
        assert tracker._bar is not None
        assert tracker._bar.tasks[0].total == 2 and tracker._bar.tasks[0].completed == 1


HOSTILE = "<script>alert(1)</script> ](javascript:alert(1)) [x](http://evil)\n# heading"


def test_markdown_export_parses_and_user_text_stays_text(caseload: Cli) -> None:
    from markdown_it import MarkdownIt

    caseload.ok("session", "edit", "4", "--note", HOSTILE)
    caseload.ok("patient", "edit", "FALL", "--expectations", HOSTILE)
    document = caseload.ok("export", "FALL").stdout
    md = MarkdownIt("commonmark").enable("table")
    tokens = md.parse(document)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == "Alliance history: FALL"
    for expected in ("Profile", "Goals", "Tasks", "Sessions", "Trend", "Flags", "Notes"):
        assert expected in headings
    assert "heading" not in headings
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert "table_open" in kinds
    assert not kinds & {"html_inline", "html_block", "link_open"}
    html = md.render(document)
    assert "<script" not in html and "href=" not in html
    assert "alert(1)" in html  # shown, as text
    shared = caseload.ok("export", "FALL", "--for-patient").stdout
    assert "alert(1)" not in shared  # session notes and the profile stay with the clinician
