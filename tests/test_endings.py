"""How care ended (`patient discharge --ending`), and the JSON round trip of GAS and endings."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from alliance_cli.domain.records import ENDINGS
from tests.conftest import Cli


@pytest.fixture
def clinic(fixed_today: date, cli: Cli) -> Cli:
    cli.make_room()
    for code in ("A", "B", "C"):
        cli.ok("patient", "add", code, "--since", "2026-11-01")
    return cli


def listed(cli: Cli) -> dict[str, Any]:
    rows = json.loads(cli.ok("patient", "list", "--all", "--format", "json").stdout)
    return {row["code"]: row["ending"] for row in rows}


@pytest.mark.parametrize("ending", ENDINGS)
def test_each_ending_is_stored_and_shown(clinic: Cli, ending: str) -> None:
    said = clinic.ok("patient", "discharge", "A", "--date", "2026-11-30", "--ending", ending)
    assert f"({ending})" in said.stderr
    assert listed(clinic) == {"A": ending, "B": None, "C": None}
    shown = json.loads(clinic.ok("patient", "show", "A", "--format", "json").stdout)
    assert shown["patient"]["ending"] == ending
    assert f"ending           {ending}\n" in clinic.ok("patient", "show", "A").stdout
    table = csv.DictReader(io.StringIO(clinic.ok("patient", "list", "--all", "-f", "csv").stdout))
    assert {row["code"]: row["ending"] for row in table} == {"A": ending, "B": "", "C": ""}
    clinic.ok("patient", "reactivate", "A")
    assert listed(clinic)["A"] is None


def test_a_discharge_recorded_without_an_ending_reads_unknown(clinic: Cli) -> None:
    clinic.ok("patient", "discharge", "A", "--date", "2026-11-30", "--ending", "mutual")
    clinic.sql("UPDATE patient SET ending = NULL")  # as every discharge before schema 0009
    assert listed(clinic)["A"] == "unknown"
    assert "ending           unknown" in clinic.ok("patient", "show", "A").stdout
    exported = json.loads(clinic.ok("export", "A", "--format", "json").stdout)
    assert exported["patients"][0]["ending"] == "unknown"


def test_without_a_terminal_the_ending_is_required(clinic: Cli) -> None:
    before = clinic.dump()
    result = clinic("patient", "discharge", "A", "--reason", "moved away", input="mutual\n")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: how care ended is required: give --ending mutual|dropout|referred|moved|other\n"
    )
    assert clinic.dump() == before


def test_on_a_terminal_the_ending_is_asked(clinic: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("alliance_cli.cli.common.stdin_is_terminal", lambda: True)
    result = clinic.ok("patient", "discharge", "A", input="maybe\nDropout\n")
    assert "How did care with A end?" in result.stderr and "Answer one of" in result.stderr
    assert listed(clinic)["A"] == "dropout"
    before = clinic.dump()
    gave_up = clinic("patient", "discharge", "B", input="")  # Ctrl-D: nothing changes
    assert gave_up.exit_code == 1 and "nothing was changed" in gave_up.stderr
    assert clinic.dump() == before


def test_an_unknown_ending_is_a_usage_error(clinic: Cli) -> None:
    before = clinic.dump()
    result = clinic("patient", "discharge", "A", "--ending", "vanished")
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert clinic.dump() == before


def test_the_summary_counts_discharges_of_the_period_by_ending(clinic: Cli) -> None:
    clinic.ok("patient", "discharge", "A", "--date", "2026-11-24", "--ending", "mutual")
    clinic.ok("patient", "discharge", "B", "--date", "2026-11-26", "--ending", "dropout")
    clinic.ok("patient", "discharge", "C", "--date", "2026-11-27", "--ending", "mutual")
    period = ("summary", "--since", "2026-11-23", "--until", "2026-11-29")
    assert "Discharged: 2 mutual, 1 dropout\n" in clinic.ok(*period).stdout
    assert "- Discharged: 2 mutual, 1 dropout\n" in clinic.ok(*period, "-f", "markdown").stdout
    counts = json.loads(clinic.ok(*period, "--format", "json").stdout)["discharged"]
    assert counts == {
        "mutual": 2,
        "dropout": 1,
        "referred": 0,
        "moved": 0,
        "other": 0,
        "unknown": 0,
    }
    earlier = ("summary", "--since", "2026-11-16", "--until", "2026-11-22")
    assert "Discharged" not in clinic.ok(*earlier).stdout
    assert set(json.loads(clinic.ok(*earlier, "-f", "json").stdout)["discharged"].values()) == {0}


# ------------------------------------------------------------------ JSON round trip


def test_json_export_and_import_keep_gas_and_endings(clinic: Cli, tmp_path: Path) -> None:
    clinic.ok(
        "goal", "add", "A", "Sleep", "--baseline", "-2", "--weight", "1.5", "--date", "2026-11-02"
    )
    clinic.ok("goal", "add", "A", "Walk", "--date", "2026-11-02")
    clinic.ok("goal", "review", "1", "--gas", "-1", "--date", "2026-11-09", "--note", "started")
    clinic.ok("goal", "review", "1", "--gas", "1", "--date", "2026-11-16")
    clinic.ok("goal", "status", "2", "dropped", "--date", "2026-11-16")
    clinic.ok("patient", "discharge", "A", "--date", "2026-11-30", "--ending", "referred")
    clinic.ok("patient", "discharge", "B", "--date", "2026-11-30", "--ending", "mutual")
    clinic.sql("UPDATE patient SET ending = NULL WHERE code = 'B'")  # a discharge before 0009
    before = clinic.ok("export", "--all", "--format", "json").stdout
    document = json.loads(before)
    assert document["schema_version"] == 2
    a, b, c = document["patients"]
    assert (a["ending"], b["ending"], c["ending"]) == ("referred", "unknown", None)
    assert (a["goals"][0]["baseline"], a["goals"][0]["weight"]) == (-2, 1.5)
    assert [r["gas"] for r in a["goals"][0]["reviews"]] == [-1, 1]
    assert [r["gas"] for r in a["goals"][1]["reviews"]] == [None]
    dump = tmp_path / "all.json"
    dump.write_text(before)
    copy = Cli(tmp_path / "copy.db")
    copy.ok("import", str(dump))
    after = copy.ok("export", "--all", "--format", "json").stdout
    assert json.loads(after)["patients"] == document["patients"]
    copy.ok("import", str(dump))  # a second import adds nothing
    assert copy.ok("export", "--all", "--format", "json").stdout == after
    shown = json.loads(copy.ok("patient", "show", "A", "--format", "json").stdout)
    assert shown["gas_t"] == 60.0  # goal 1 at +1 alone: 50 + 10 * 1.5 / 1.5


def test_an_export_of_schema_version_1_still_imports(fixed_today: date, tmp_path: Path) -> None:
    old = {
        "format": "alliance-export",
        "schema_version": 1,
        "patients": [
            {
                "code": "OLD",
                "status": "discharged",
                "since": "2026-01-05",
                "discharged_on": "2026-03-01",
                "goals": [
                    {
                        "id": 1,
                        "text": "Sleep",
                        "status": "achieved",
                        "created": "2026-01-12",
                        "reviews": [{"date": "2026-02-02", "status": "achieved", "note": None}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    cli = Cli(tmp_path / "new.db")
    cli.ok("import", str(path))
    (goal,) = json.loads(cli.ok("goal", "list", "OLD", "--all", "-f", "json").stdout)
    assert (goal["baseline"], goal["weight"], goal["gas"]) == (-1, 1.0, None)
    assert listed(cli) == {"OLD": "unknown"}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda p: p.update(ending="vanished"), "ending must be one of"),
        (lambda p: p.update(status="active", ending="mutual"), "patient in care"),
        (lambda p: p["goals"][0].update(baseline=0), "baseline must be one of"),
        (lambda p: p["goals"][0].update(baseline=True), "baseline must be one of"),
        (lambda p: p["goals"][0].update(weight=0), "weight '0'"),
        (lambda p: p["goals"][0].update(weight="2"), "weight must be a number"),
        (lambda p: p["goals"][0]["reviews"][0].update(gas=3), "gas must be one of"),
        (lambda p: p["goals"][0]["reviews"][0].update(gas="1"), "gas must be one of"),
    ],
)
def test_bad_gas_or_ending_in_an_import_is_refused(
    fixed_today: date, tmp_path: Path, change: Any, needle: str
) -> None:
    patient: dict[str, Any] = {
        "code": "NEW",
        "status": "discharged",
        "since": "2026-01-05",
        "discharged_on": "2026-03-01",
        "ending": "mutual",
        "goals": [
            {
                "text": "Sleep",
                "created": "2026-01-12",
                "baseline": -1,
                "weight": 1,
                "reviews": [{"date": "2026-02-02", "status": "active", "gas": 0}],
            }
        ],
    }
    change(patient)
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps({"format": "alliance-export", "schema_version": 2, "patients": [patient]})
    )
    cli = Cli(tmp_path / "target.db")
    cli.ok("patient", "add", "KEEP")
    before = cli.dump()
    result = cli("import", str(path))
    assert result.exit_code == 1 and needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert cli.dump() == before
