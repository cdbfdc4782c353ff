"""Goal Attainment Scaling: the T-score, its FHIR mapping, and the commands that rate goals.

The formula (Kiresuk & Sherman 1968, rho = 0.3; clinical.md "Goals and tasks"):
T = 50 + 10 * sum(w x) / sqrt((1 - rho) * sum(w^2) + rho * (sum w)^2).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_cli.domain.gas import (
    GasGoal,
    achievement,
    check_baseline,
    check_level,
    check_weight,
    gas_t_score,
    patient_t_score,
    rated_goals,
)
from alliance_cli.domain.records import GoalRecord, GoalReviewRecord
from alliance_cli.errors import InvalidInput
from tests.conftest import Cli

# ------------------------------------------------------------------ the T-score, by hand


def t(*goals: tuple[int, float]) -> float | None:
    return gas_t_score([GasGoal(level, weight) for level, weight in goals])


def test_no_goal_rated_has_no_score() -> None:
    assert gas_t_score([]) is None


@pytest.mark.parametrize(
    ("level", "expected"), [(-2, 30.0), (-1, 40.0), (0, 50.0), (1, 60.0), (2, 70.0)]
)
def test_one_goal_moves_ten_points_a_level(level: int, expected: float) -> None:
    # one goal: sqrt(0.7 * 1 + 0.3 * 1) = 1, so T = 50 + 10 x
    assert t((level, 1)) == pytest.approx(expected)


@pytest.mark.parametrize("count", [1, 2, 3, 5, 12])
def test_every_goal_at_the_expected_outcome_gives_fifty(count: int) -> None:
    assert t(*[(0, 1)] * count) == 50.0
    assert t(*[(0, w) for w in range(1, count + 1)]) == 50.0


def test_equal_weights_by_hand() -> None:
    # (1, 1, 0): sum wx = 2; sqrt(0.7 * 3 + 0.3 * 9) = sqrt(4.8) = 2.19089
    assert t((1, 1), (1, 1), (0, 1)) == pytest.approx(50 + 20 / math.sqrt(4.8))
    assert t((1, 1), (1, 1), (0, 1)) == pytest.approx(59.1287, abs=1e-4)
    # (1, 0, -1): the gains and losses cancel
    assert t((1, 1), (0, 1), (-1, 1)) == 50.0
    # two goals both at -1: -2 / sqrt(0.7 * 2 + 0.3 * 4) = -2 / sqrt(2.6)
    assert t((-1, 1), (-1, 1)) == pytest.approx(50 - 20 / math.sqrt(2.6))
    assert t((-1, 1), (-1, 1)) == pytest.approx(37.5965, abs=1e-4)


def test_unequal_weights_by_hand() -> None:
    # w (2, 1), x (1, -1): sum wx = 1; sum w^2 = 5; sum w = 3; sqrt(3.5 + 2.7) = sqrt(6.2)
    assert t((1, 2), (-1, 1)) == pytest.approx(50 + 10 / math.sqrt(6.2))
    assert t((1, 2), (-1, 1)) == pytest.approx(54.0161, abs=1e-4)
    # w (2, 1), x (2, 0): sum wx = 4
    assert t((2, 2), (0, 1)) == pytest.approx(50 + 40 / math.sqrt(6.2))
    assert t((2, 2), (0, 1)) == pytest.approx(66.0644, abs=1e-4)
    # w (3, 1, 1), x (-1, 1, 2): sum wx = 0
    assert t((-1, 3), (1, 1), (2, 1)) == 50.0
    # the weight moves the score towards the heavier goal
    assert t((1, 3), (-1, 1)) > t((1, 1), (-1, 1)) == 50.0 > t((1, 1), (-1, 3))


def test_rho_is_the_conventional_point_three() -> None:
    goals = [GasGoal(1), GasGoal(1)]
    # with rho 0 the spread is sqrt(n): 50 + 20 / sqrt(2)
    assert gas_t_score(goals, rho=0.0) == pytest.approx(50 + 20 / math.sqrt(2))
    assert gas_t_score(goals) == pytest.approx(50 + 20 / math.sqrt(0.7 * 2 + 0.3 * 4))


LEVEL = st.sampled_from((-2, -1, 0, 1, 2))
WEIGHT = st.floats(min_value=0.01, max_value=100, allow_nan=False)


@given(st.lists(st.tuples(LEVEL, WEIGHT), min_size=1, max_size=12), WEIGHT)
def test_scaling_every_weight_leaves_the_score(goals: list[tuple[int, float]], k: float) -> None:
    once = t(*goals)
    scaled = t(*[(level, weight * k) for level, weight in goals])
    assert once is not None and scaled == pytest.approx(once)
    assert 50 + 10 * -2 * 2 <= once <= 50 + 10 * 2 * 2  # within the scale's reach


@given(st.integers(min_value=1, max_value=30))
def test_all_below_expected_is_below_fifty_whatever_the_count(count: int) -> None:
    score = t(*[(-1, 1)] * count)
    assert score is not None and score < 50
    assert t(*[(0, 1)] * count) == 50.0


def _goal(id: int, *levels: int | None, status: str = "active", weight: float = 1.0) -> GoalRecord:
    reviews = tuple(
        GoalReviewRecord(date(2026, 2, day), status, None, gas=level)
        for day, level in enumerate(levels, 1)
    )
    return GoalRecord(
        id, "P1", f"goal {id}", "joint", status, None, date(2026, 1, 5), reviews, -1, weight
    )


def test_the_latest_level_of_each_rated_goal_counts_dropped_ones_too() -> None:
    goals = [
        _goal(1, -1, 1),  # latest 1
        _goal(2, None),  # a status review only: not rated
        _goal(3),  # never reviewed
        _goal(4, -2, status="dropped"),  # set aside after going badly: still counts
    ]
    assert [g.gas for g in goals] == [1, None, None, -2]
    assert [(g.level, g.weight) for g in rated_goals(goals)] == [(1, 1.0), (-2, 1.0)]
    assert patient_t_score(goals) == t((1, 1), (-2, 1))
    assert patient_t_score(goals[1:3]) is None


# ------------------------------------------------------------------ achievement and input


@pytest.mark.parametrize(
    ("baseline", "level", "code"),
    [
        (-1, -2, "worsening"),
        (-1, -1, "no-change"),
        (-1, 0, "achieved"),
        (-1, 1, "achieved"),
        (-1, 2, "achieved"),
        (-2, -2, "no-change"),
        (-2, -1, "improving"),
        (-2, 0, "achieved"),
        (-2, 2, "achieved"),
    ],
)
def test_achievement_is_relative_to_the_baseline(baseline: int, level: int, code: str) -> None:
    assert achievement(level, baseline) == code


@pytest.mark.parametrize("typed", ["3", "-3", "1.5", "x", "", "2.0"])
def test_a_level_off_the_scale_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="GAS level"):
        check_level(typed)


def test_levels_baselines_and_weights_as_typed() -> None:
    assert [check_level(v) for v in ("-2", "-1", "0", "+1", "2")] == [-2, -1, 0, 1, 2]
    assert (check_baseline("-1"), check_baseline("-2")) == (-1, -2)
    assert (check_weight("1"), check_weight("2.5"), check_weight("100")) == (1.0, 2.5, 100.0)
    for bad in ("0", "1", "-3", "x"):
        with pytest.raises(InvalidInput, match="baseline"):
            check_baseline(bad)
    for bad in ("0", "-1", "nan", "inf", "x", "101"):
        with pytest.raises(InvalidInput, match="weight"):
            check_weight(bad)


# ------------------------------------------------------------------ FHIR


def test_fhir_goal_achievement_from_the_latest_level() -> None:
    from fhir.resources.R4B.bundle import Bundle

    from alliance_cli.render.fhir import GAS_LEVEL_SYSTEM, fhir_bundle
    from tests.test_fhir import ACHIEVEMENT, _export

    cases = [  # (baseline, levels in order, status) -> expected code
        (-1, (-2,), "active", "worsening"),
        (-1, (-2, -1), "active", "no-change"),
        (-2, (-1,), "active", "improving"),
        (-1, (-1, 0), "active", "achieved"),
        (-2, (2,), "achieved", "achieved"),
        (-1, (1, -1), "dropped", "no-change"),  # the latest counts, not the best
        (-1, (), "active", "in-progress"),  # never rated: from its status
    ]
    goals = tuple(
        replace(_goal(n, *levels, status=status), baseline=baseline, weight=float(n))
        for n, (baseline, levels, status, _) in enumerate(cases, 1)
    )
    bundle = fhir_bundle(replace(_export(), goals=goals))
    model = Bundle.model_validate(bundle)
    assert json.loads(model.model_dump_json(exclude_none=True)) == bundle
    found = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]
    codings = [g["achievementStatus"]["coding"] for g in found]
    assert all(len(c) == 1 and c[0]["system"] == ACHIEVEMENT for c in codings)
    assert [c[0]["code"] for c in codings] == [case[-1] for case in cases]
    outcomes = [g.get("outcomeCode") for g in found]
    assert [o[0]["coding"][0]["code"] if o else None for o in outcomes] == [
        "-2",
        "-1",
        "-1",
        "0",
        "+2",
        "-1",
        None,
    ]
    assert all(o[0]["coding"][0]["system"] == GAS_LEVEL_SYSTEM for o in outcomes if o)
    baselines = [
        [e["valueInteger"] for e in g.get("extension", []) if e["url"].endswith("gas-baseline")]
        for g in found
    ]
    assert baselines == [[-1], [-1], [-2], [-1], [-2], [-1], []]


# ------------------------------------------------------------------ through the CLI


@pytest.fixture
def rated(fixed_today: date, cli: Cli) -> Cli:
    """P1 since 2026-01-01 with three goals: 1 (default), 2 (baseline -2, weight 2), 3."""
    cli.make_room()
    cli.ok("patient", "add", "P1", "--since", "2026-01-01")
    cli.ok("goal", "add", "P1", "Sleep 7 hours", "--date", "2026-01-05")
    cli.ok(
        "goal", "add", "P1", "Call a friend", "--baseline", "-2", "--weight", "2", "--date",
        "2026-01-05",
    )  # fmt: skip
    cli.ok("goal", "add", "P1", "Walk daily", "--date", "2026-01-05")
    return cli


def goals_json(cli: Cli) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(
        cli.ok("goal", "list", "P1", "--all", "--format", "json").stdout
    )
    return listed


def show_json(cli: Cli) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(cli.ok("patient", "show", "P1", "--format", "json").stdout)
    return shown


def test_goal_add_stores_baseline_and_weight(rated: Cli) -> None:
    goals = goals_json(rated)
    assert [(g["baseline"], g["weight"]) for g in goals] == [(-1, 1.0), (-2, 2.0), (-1, 1.0)]
    assert [(g["gas"], g["gas_history"]) for g in goals] == [(None, [])] * 3
    assert show_json(rated)["gas_t"] is None
    assert "GAS" not in rated.ok("patient", "show", "P1").stdout


def test_goal_review_keeps_its_history_and_the_latest_counts(rated: Cli) -> None:
    said = rated.ok("goal", "review", "1", "--gas", "-1", "--date", "2026-02-02", "--note", "some")
    assert "GAS -1" in said.stderr
    rated.ok("goal", "review", "1", "--gas", "+1", "--date", "2026-03-02")
    rated.ok("goal", "review", "2", "--gas", "0", "--date", "2026-03-02")
    goals = goals_json(rated)
    assert goals[0]["gas"] == 1 and goals[1]["gas"] == 0 and goals[2]["gas"] is None
    assert goals[0]["gas_history"] == [
        {"date": "2026-02-02", "gas": -1, "note": "some"},
        {"date": "2026-03-02", "gas": 1, "note": None},
    ]
    assert [r["gas"] for r in goals[0]["reviews"]] == [-1, 1]
    assert goals[0]["status"] == "active"  # a GAS review leaves the status alone
    # over goals 1 (1, w 1) and 2 (0, w 2): 50 + 10 / sqrt(0.7 * 5 + 0.3 * 9)
    expected = round(50 + 10 / math.sqrt(6.2), 1)
    assert show_json(rated)["gas_t"] == expected == 54.0
    assert (
        f"GAS T-score      {expected:.1f} over 2 goals" in rated.ok("patient", "show", "P1").stdout
    )
    # `goal status` still closes the goal; its level stays in the score
    rated.ok("goal", "status", "1", "achieved", "--date", "2026-03-09")
    assert goals_json(rated)[0]["gas"] == 1
    assert show_json(rated)["gas_t"] == expected


def test_goal_edit_changes_baseline_and_weight(rated: Cli) -> None:
    rated.ok("goal", "edit", "1", "--baseline", "-2", "--weight", "3")
    assert (goals_json(rated)[0]["baseline"], goals_json(rated)[0]["weight"]) == (-2, 3.0)


def refused(cli: Cli, *args: str, needle: str, code: int = 1) -> None:
    before = cli.dump()
    result = cli(*args)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
    assert cli.dump() == before


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("goal", "review", "1", "--gas", "3"), "GAS level '3'"),
        (("goal", "review", "1", "--gas", "-3"), "GAS level '-3'"),
        (("goal", "review", "1", "--gas", "one"), "GAS level 'one'"),
        (("goal", "review", "99", "--gas", "0"), "unknown goal 99"),
        (("goal", "review", "1", "--gas", "0", "--date", "2025-12-01"), "before the start"),
        (("goal", "review", "1", "--gas", "0", "--date", "2099-01-01"), "in the future"),
        (("goal", "add", "P1", "Swim", "--baseline", "0"), "baseline '0'"),
        (("goal", "add", "P1", "Swim", "--baseline", "1"), "baseline '1'"),
        (("goal", "add", "P1", "Swim", "--weight", "0"), "weight '0'"),
        (("goal", "add", "P1", "Swim", "--weight", "-1"), "weight '-1'"),
        (("goal", "add", "P1", "Swim", "--weight", "nan"), "weight 'nan'"),
        (("goal", "edit", "1", "--weight", "-2"), "weight '-2'"),
        (("goal", "edit", "1", "--baseline", "0"), "baseline '0'"),
    ],
    ids=lambda value: "-".join(value) if isinstance(value, tuple) else None,
)
def test_bad_gas_input_is_refused_cleanly(rated: Cli, args: tuple[str, ...], needle: str) -> None:
    refused(rated, *args, needle=needle)


def test_a_review_before_the_latest_is_refused(rated: Cli) -> None:
    rated.ok("goal", "review", "1", "--gas", "0", "--date", "2026-03-02")
    refused(
        rated, "goal", "review", "1", "--gas", "1", "--date", "2026-02-02", needle="latest review"
    )


def test_the_handout_says_how_many_goals_were_reached(rated: Cli) -> None:
    rated.ok("goal", "review", "1", "--gas", "0", "--date", "2026-02-02")
    rated.ok("goal", "review", "2", "--gas", "-1", "--date", "2026-02-02")
    rated.ok("goal", "review", "3", "--gas", "2", "--date", "2026-02-02")
    handout = rated.ok("export", "P1", "--format", "markdown", "--for-patient").stdout
    assert "2 of 3 goals reached as hoped at the last check-in." in handout
    assert "2026-02-02: much more than hoped" in handout and "GAS" not in handout
    document = rated.ok("export", "P1", "--format", "markdown").stdout
    t_score = round(50 + 10 * (0 - 2 + 2) / math.sqrt(0.7 * 6 + 0.3 * 16), 1)
    assert f"GAS T-score: {t_score:.1f} over 3 goals" in document
    assert "| id | goal | proposed by | status | target | GAS | baseline | weight |" in document


def test_prep_shows_the_gas_t_on_one_line_within_a_screen(
    rated: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    assert "GAS" not in rated.ok("prep", "P1").stdout
    for day in range(2, 9):
        rated.ok(
            "session", "add", "P1", "--date", f"2026-02-0{day}", "--bond", str(9 - day),
            "--goal", "4", "--task", "4", "--note", "a long note " * 12,
        )  # fmt: skip
    rated.ok("goal", "review", "1", "--gas", "1", "--date", "2026-02-09")
    text = rated.ok("prep", "P1").stdout
    gas_lines = [line for line in text.splitlines() if line.startswith("GAS")]
    assert gas_lines == ["GAS    T-score 60.0 (50 = goals reached as expected)"]
    assert len(text.splitlines()) <= 24 and max(map(len, text.splitlines())) <= 80
    assert json.loads(rated.ok("prep", "P1", "--format", "json").stdout)["gas_t"] == 60.0
