"""`alliance outcomes` through the CLI (issue 16, part 3): every figure on a small
hand-made caseload, the period, clinicians, the formats, and the recovery of a known
correlation from a generated caseload."""

from __future__ import annotations

import json
import math
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from alliance_cli.domain.gas import GasGoal, gas_t_score
from tests.conftest import Cli

ROOT = Path(__file__).resolve().parent.parent


def rate(cli: Cli, code: str, day: date, value: float) -> None:
    v = str(value)
    cli.ok("session", "add", code, "--date", day.isoformat(), "--bond", v, "--goal", v, "--task", v)


def course(cli: Cli, code: str, start: date, values: list[float]) -> date:
    """Weekly sessions from `start`; gives the day of the last one."""
    cli.ok("patient", "add", code, "--since", start.isoformat())
    day = start
    for week, value in enumerate(values):
        day = start + timedelta(weeks=week)
        rate(cli, code, day, value)
    return day


def discharge(cli: Cli, code: str, day: date, ending: str) -> None:
    cli.ok("patient", "discharge", code, "--date", day.isoformat(), "--ending", ending)


@pytest.fixture
def ended(fixed_today: date, cli: Cli) -> Cli:
    """D1 dropped out early with a weak alliance; R1 dropped out after an unrepaired
    rupture; R2 ended by agreement after a repaired one; M1 ended by agreement with two
    goals rated on GAS (0 and +1); U's discharge predates endings; A is still in care."""
    cli.make_room()
    start = fixed_today - timedelta(weeks=20)
    last = course(cli, "D1", start, [3, 3, 3])
    discharge(cli, "D1", last + timedelta(days=7), "dropout")
    last = course(cli, "R1", start, [9, 9, 9, 9, 4])
    discharge(cli, "R1", last + timedelta(days=7), "dropout")
    last = course(cli, "R2", start, [9, 9, 9, 9, 4, 9])
    discharge(cli, "R2", last + timedelta(days=7), "mutual")
    last = course(cli, "M1", start, [8, 8, 8, 8])
    cli.ok("goal", "add", "M1", "Sleep through", "--date", start.isoformat())
    cli.ok("goal", "add", "M1", "Walk daily", "--date", start.isoformat())
    goals = json.loads(cli.ok("goal", "list", "M1", "--format", "json").stdout)
    for goal, level in zip(goals, ("-1", "0"), strict=True):  # an earlier review: replaced
        cli.ok("goal", "review", str(goal["id"]), "--gas", level, "--date", last.isoformat())
    for goal, level in zip(goals, ("0", "1"), strict=True):
        day = (last + timedelta(days=7)).isoformat()
        cli.ok("goal", "review", str(goal["id"]), "--gas", level, "--date", day)
    discharge(cli, "M1", last + timedelta(days=7), "mutual")
    last = course(cli, "U", start, [5, 5])
    discharge(cli, "U", last + timedelta(days=7), "other")
    cli.sql("UPDATE patient SET ending = NULL WHERE code = 'U'")  # as before schema 0009
    course(cli, "A", start, [2, 2, 2])
    return cli


def report(cli: Cli, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(cli.ok("outcomes", "--format", "json", *args).stdout)
    return data


def test_every_figure_on_a_hand_made_caseload(ended: Cli) -> None:
    data = report(ended)
    assert data["period"] == {"since": None, "until": None}
    assert data["n"] == 5  # A is still in care
    assert data["endings"] == {
        "mutual": 2,
        "dropout": 2,
        "referred": 0,
        "moved": 0,
        "other": 0,
        "unknown": 1,
    }
    assert data["dropout_rate"] == 0.5  # 2 of the 4 with a known ending
    # The first 3 totals as % of the quick scale (0-30): D1 30 %, R1 90 %; R2 90 %, M1 80 %.
    assert data["early_alliance"] == {
        "dropout": {"mean": 60.0, "n": 2},
        "mutual": {"mean": 85.0, "n": 2},
    }
    assert data["ruptures"] == {
        "count": 2,
        "repaired_share": 0.5,
        "dropout_if_repaired": 0.0,
        "dropout_if_unrepaired": 1.0,
    }
    expected_t = gas_t_score([GasGoal(0), GasGoal(1)])
    assert expected_t == pytest.approx(50 + 10 / math.sqrt(0.7 * 2 + 0.3 * 4))
    assert data["gas_t_mean"] == pytest.approx(expected_t, abs=0.01)
    assert data["correlations"] == {
        "early": {"r": None, "n": 1, "ci_low": None, "ci_high": None},
        "growth": {"r": None, "n": 1, "ci_low": None, "ci_high": None},
    }
    assert data["clinicians"] == []


def test_the_period_counts_discharges_within_it(ended: Cli, fixed_today: date) -> None:
    start = fixed_today - timedelta(weeks=20)
    d1_left = start + timedelta(weeks=2, days=7)  # D1's last session + 7 days
    only = report(ended, "--since", d1_left.isoformat(), "--until", d1_left.isoformat())
    assert only["n"] == 1 and only["endings"]["dropout"] == 1
    assert only["period"] == {"since": d1_left.isoformat(), "until": d1_left.isoformat()}
    later = report(ended, "--since", (d1_left + timedelta(days=1)).isoformat())
    assert later["n"] == 3  # R1, R2, M1: U left a week before D1


def test_text_and_markdown_say_what_each_figure_is_over(ended: Cli) -> None:
    text = ended.ok("outcomes").stdout
    assert "5 patients discharged" in text
    assert "50 % (2 of 4 with a known ending)" in text
    words = " ".join(text.split())
    assert "too few to say" in words and "not a prediction for one patient" in words
    assert max(len(line) for line in text.splitlines()) <= 80
    markdown = ended.ok("outcomes", "--format", "markdown").stdout
    assert markdown.startswith("# Outcomes of care that ended, all time")
    assert "- Dropout rate: 50 % (2 of 4 with a known ending)" in markdown


def test_with_no_discharge_it_says_so(fixed_today: date, cli: Cli) -> None:
    cli.make_room()
    course(cli, "A", fixed_today - timedelta(weeks=3), [5, 5])
    assert "No patient was discharged in the period" in cli.ok("outcomes").stdout
    data = report(cli)
    assert data["n"] == 0 and data["dropout_rate"] is None and data["gas_t_mean"] is None


def test_bad_periods_are_one_line_errors(ended: Cli) -> None:
    for args in (("--since", "2026-13-01"), ("--since", "2026-11-02", "--until", "2026-11-01")):
        result = ended("outcomes", *args)
        assert result.exit_code != 0 and "Traceback" not in result.stderr
        assert result.stderr.startswith("error: "), result.stderr
        assert "--since" in result.stderr.splitlines()[0]


@pytest.mark.sqlite_only  # the generator writes a SQLite file
def test_a_generated_correlation_comes_back_within_its_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make_caseload's population r between the early alliance and the final GAS T is
    .3 (about .297 after rounding the levels): outcomes' 95 % interval holds it, and it
    is tight enough to mean something."""
    sys.path.insert(0, str(ROOT))
    monkeypatch.syspath_prepend(str(ROOT))
    from benchmarks.make_caseload import build, gas_levels

    assert gas_levels(0.0) == [0, 0, 0] and gas_levels(10.0) == [2, 2, 2]
    assert sorted(gas_levels(-0.8)) == [-1, -1, 0]  # -1.6 -> -2 over three goals
    db = tmp_path / "generated.db"
    build(600, 8, db, seed=7, discharged=True, gas_r=0.3)
    data = report(Cli(db))
    early = data["correlations"]["early"]
    assert early["n"] == 600
    assert early["ci_low"] <= 0.297 <= early["ci_high"]
    assert early["ci_high"] - early["ci_low"] < 0.2
    assert data["endings"]["unknown"] == 0 and data["endings"]["dropout"] > 0
    # Dropouts started lower (the generator's dropout trajectory).
    assert data["early_alliance"]["dropout"]["mean"] < data["early_alliance"]["mutual"]["mean"]
    none = tmp_path / "none.db"
    build(600, 8, none, seed=7, discharged=True, gas_r=0.0)
    unrelated = report(Cli(none))["correlations"]["early"]
    assert unrelated["ci_low"] <= 0.0 <= unrelated["ci_high"]


def test_the_demo_has_discharged_patients_that_outcomes_speaks_about(
    fixed_today: date, tmp_path: Path
) -> None:
    path = tmp_path / "demo.db"
    made = Cli(path)("demo", "--path", str(path), db=False)
    assert made.exit_code == 0 and "alliance outcomes" in made.stderr
    data = report(Cli(path))
    assert data["n"] == 12 and data["endings"]["unknown"] == 0
    assert data["endings"]["dropout"] >= 2 and data["endings"]["mutual"] >= 2
    early = data["early_alliance"]
    assert early["dropout"]["mean"] < early["mutual"]["mean"]
    assert data["ruptures"]["count"] >= 2
    assert data["ruptures"]["dropout_if_unrepaired"] > data["ruptures"]["dropout_if_repaired"]
    correlation = data["correlations"]["early"]
    assert correlation["n"] >= 10 and correlation["r"] is not None and correlation["r"] > 0
    # The active caseload is unchanged: discharged patients are not in `patient list`.
    listed = json.loads(Cli(path).ok("patient", "list", "--format", "json").stdout)
    assert len(listed) == 7


def test_the_summary_shows_a_gas_change(fixed_today: date, cli: Cli) -> None:
    cli.make_room()
    start = fixed_today - timedelta(weeks=6)
    course(cli, "G1", start, [7, 7])
    cli.ok("goal", "add", "G1", "Walk to the shop", "--date", start.isoformat())
    before = (fixed_today - timedelta(days=20)).isoformat()
    cli.ok("goal", "review", "1", "--gas", "-1", "--date", before)
    cli.ok("goal", "review", "1", "--gas", "1", "--date", fixed_today.isoformat())
    data = json.loads(cli.ok("summary", "--format", "json").stdout)
    (event,) = data["goals_reviewed"]
    assert (event["gas"], event["gas_before"]) == (1, -1)
    assert "GAS -1 -> +1: Walk to the shop" in cli.ok("summary").stdout
    month = json.loads(cli.ok("summary", "--days", "30", "--format", "json").stdout)
    assert [(e["gas"], e["gas_before"]) for e in month["goals_reviewed"]] == [(-1, None), (1, -1)]


@pytest.mark.sqlite_only  # clinicians named with --clinician share one SQLite file
def test_all_clinicians_gives_the_clinic_then_each_clinician(
    fixed_today: date, tmp_path: Path
) -> None:
    cli = Cli(tmp_path / "clinic.db")
    start = (fixed_today - timedelta(weeks=10)).isoformat()
    left = (fixed_today - timedelta(weeks=2)).isoformat()
    endings = [("dr_a", "A1", "mutual"), ("dr_a", "A2", "dropout"), ("dr_b", "B1", "mutual")]
    for who, code, ending in endings:
        cli.ok("--clinician", who, "patient", "add", code, "--since", start)
        day = (fixed_today - timedelta(weeks=5)).isoformat()
        args = ("--bond", "7", "--goal", "7", "--task", "7")
        cli.ok("--clinician", who, "session", "add", code, "--date", day, *args)
        cli.ok("--clinician", who, "patient", "discharge", code, "--date", left, "--ending", ending)
    mine = json.loads(cli.ok("--clinician", "dr_a", "outcomes", "--format", "json").stdout)
    assert mine["n"] == 2 and mine["clinicians"] == []
    clinic = json.loads(
        cli.ok("--clinician", "dr_a", "outcomes", "--all-clinicians", "--format", "json").stdout
    )
    assert clinic["n"] == 3 and clinic["endings"]["dropout"] == 1
    assert [(c["clinician"], c["n"], c["dropout_rate"]) for c in clinic["clinicians"]] == [
        ("dr_a", 2, 0.5),
        ("dr_b", 1, 0.0),
    ]
    assert set(clinic["clinicians"][0]) == {"clinician"} | (set(clinic) - {"period", "clinicians"})
    text = cli.ok("--clinician", "dr_a", "outcomes", "--all-clinicians").stdout
    assert "Clinic (3 patients)" in text and "Clinician dr_b (1 patient)" in text


def test_the_early_alliance_is_the_patient_s_own_ratings(fixed_today: date, cli: Cli) -> None:
    """Therapist ratings never stand in for the patient's: with 2 ratings of their own,
    the early alliance is the mean of those 2, however many the therapist gave."""
    cli.make_room()
    start = fixed_today - timedelta(weeks=10)
    therapist = ("--bond", "9", "--goal", "9", "--task", "9", "--rater", "therapist")

    def rated_by_therapist(code: str, weeks: int) -> None:
        for week in range(weeks):
            day = (start + timedelta(weeks=week)).isoformat()
            cli.ok("session", "add", code, "--date", day, *therapist)

    last = course(cli, "T1", start, [6, 6])  # 18 of 30: 60 %
    rated_by_therapist("T1", 5)
    discharge(cli, "T1", last + timedelta(weeks=5), "dropout")
    course(cli, "T2", start, [])  # never rated by the patient: no early alliance
    rated_by_therapist("T2", 3)
    discharge(cli, "T2", fixed_today, "dropout")
    data = report(cli)
    assert data["n"] == 2
    assert data["early_alliance"]["dropout"] == {"mean": 60.0, "n": 1}
