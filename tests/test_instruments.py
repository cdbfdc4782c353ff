"""Instruments and the config file: how typed numbers become scores, and how a clinic's
config changes instruments and rule thresholds.

Every expected score is computed by hand (the arithmetic is in the comments), from the
keys in shared/reference/clinical.md, never from the code under test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alliance_cli.config import ConfigError, Settings, _settings, load_settings
from alliance_cli.domain.flags import History, Rating, history_flags
from alliance_cli.domain.instruments import (
    BUILTIN_INSTRUMENTS,
    QUICK,
    SRS,
    WAI_SR,
    Instrument,
    parse_items,
    parse_score,
    parse_value,
    quick_scores,
    score_changes,
    score_items,
)
from alliance_cli.domain.rules import DEFAULT_THRESHOLDS, THRESHOLD_FIELDS, Thresholds
from alliance_cli.domain.scoring_input import (
    RawRating,
    check_entry,
    check_given,
    missing_entries,
    scores_from_input,
)
from alliance_cli.errors import ExitCode, InvalidInput

CONFIG = Path("/nowhere/config.toml")  # _settings never reads it; it only names it


def settings(data: dict[str, Any]) -> Settings:
    return _settings(CONFIG, True, data)


def config_error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        settings(data)
    assert info.value.exit_code == ExitCode.ERROR
    assert str(CONFIG) in info.value.message  # the message names the file...
    return info.value.message


# --------------------------------------------------------------------------- quick


def test_quick_total_is_the_sum_of_bond_goal_task() -> None:
    scores = quick_scores(7.0, 8.0, 6.5)
    # total = 7.0 + 8.0 + 6.5 = 21.5
    assert (scores.bond, scores.goal, scores.task, scores.total) == (7.0, 8.0, 6.5, 21.5)
    assert scores.items == (7.0, 8.0, 6.5)
    assert scores.extra == {}


def test_quick_scores_from_typed_input() -> None:
    raw = RawRating(bond="9.5", goal=" 4 ", task="0")
    scores = scores_from_input(QUICK, raw)
    # total = 9.5 + 4 + 0 = 13.5
    assert (scores.bond, scores.goal, scores.task, scores.total) == (9.5, 4.0, 0.0, 13.5)


def test_quick_ranges() -> None:
    assert QUICK.dimension_range("bond") == (0.0, 10.0)
    assert QUICK.dimension_range("total") == (0.0, 30.0)  # 3 items x 0..10
    assert quick_scores(10, 10, 10).total == 30.0
    assert quick_scores(0, 0, 0).total == 0.0


def test_score_changes_per_dimension() -> None:
    before, after = quick_scores(8.0, 6.0, 7.5), quick_scores(5.0, 6.5, 7.5)
    # bond 5.0 - 8.0 = -3.0; goal 6.5 - 6.0 = +0.5; task 7.5 - 7.5 = 0
    assert score_changes(after, before) == {"bond": -3.0, "goal": 0.5, "task": 0.0}
    assert score_changes(after, None) == {"bond": None, "goal": None, "task": None}


# --------------------------------------------------------------------------- WAI-SR

# Item values chosen so that every plausible mis-keying gives different means.
#   item:   1  2  3  4  5  6  7  8  9 10 11 12
WAI_ITEMS = (5, 4, 2, 3, 3, 4, 2, 3, 1, 5, 3, 4)
# Correct keys (Hatcher & Gillaspy 2006):
#   task = items 1, 2, 10, 12 = 5 + 4 + 5 + 4 = 18 -> mean 4.5
#   bond = items 3, 5, 7, 9  = 2 + 3 + 2 + 1 =  8 -> mean 2.0
#   goal = items 4, 6, 8, 11 = 3 + 4 + 3 + 3 = 13 -> mean 3.25
#   total = 18 + 8 + 13 = 39
# The known wrong keying (1-4 goal, 5-8 task, 9-12 bond) would give:
#   goal = 5 + 4 + 2 + 3 = 14 -> 3.5; task = 3 + 4 + 2 + 3 = 12 -> 3.0;
#   bond = 1 + 5 + 3 + 4 = 13 -> 3.25


def test_wai_sr_keys_are_the_published_ones() -> None:
    assert dict(WAI_SR.keys) == {
        "task": (1, 2, 10, 12),
        "bond": (3, 5, 7, 9),
        "goal": (4, 6, 8, 11),
    }
    # every item belongs to exactly one subscale, no reverse scoring
    assert sorted(n for key in WAI_SR.keys.values() for n in key) == list(range(1, 13))


def test_wai_sr_scores_with_the_published_keys() -> None:
    scores = score_items(WAI_SR, WAI_ITEMS)
    assert scores.task == 4.5
    assert scores.bond == 2.0
    assert scores.goal == 3.25
    assert scores.total == 39.0
    assert scores.items == tuple(float(v) for v in WAI_ITEMS)
    assert scores.extra == {}


def test_the_item_vector_tells_a_wrong_keying_apart() -> None:
    """Guards the test above: the wrong keying really gives other means on this vector."""
    wrong = Instrument(
        name="wrong",
        title="wrong",
        item_count=12,
        item_min=1,
        item_max=5,
        decimals=0,
        keys={"goal": (1, 2, 3, 4), "task": (5, 6, 7, 8), "bond": (9, 10, 11, 12)},
        dimension_score="mean",
    )
    miskeyed = score_items(wrong, WAI_ITEMS)
    assert (miskeyed.bond, miskeyed.goal, miskeyed.task) == (3.25, 3.5, 3.0)
    right = score_items(WAI_SR, WAI_ITEMS)
    assert miskeyed.bond != right.bond
    assert miskeyed.goal != right.goal
    assert miskeyed.task != right.task


def test_wai_sr_from_typed_items() -> None:
    scores = scores_from_input(WAI_SR, RawRating(items="5,4,2,3,3,4,2,3,1,5,3,4"))
    assert (scores.bond, scores.goal, scores.task, scores.total) == (2.0, 3.25, 4.5, 39.0)
    # `;` separates as well, spaces around values are ignored
    assert parse_items(" 5; 4;2 ,3,3,4,2,3,1,5,3,4 ", WAI_SR) == tuple(map(float, WAI_ITEMS))


def test_wai_sr_extremes_and_ranges() -> None:
    assert WAI_SR.dimension_range("total") == (12.0, 60.0)
    assert WAI_SR.dimension_range("bond") == (1.0, 5.0)  # dimensions are item means
    lowest = score_items(WAI_SR, (1,) * 12)
    highest = score_items(WAI_SR, (5,) * 12)
    # 12 x 1 = 12, 12 x 5 = 60; every mean is the item value
    assert (lowest.bond, lowest.goal, lowest.task, lowest.total) == (1.0, 1.0, 1.0, 12.0)
    assert (highest.bond, highest.goal, highest.task, highest.total) == (5.0, 5.0, 5.0, 60.0)


def test_wai_sr_total_is_four_times_the_sum_of_means() -> None:
    items = (1, 1, 5, 2, 5, 2, 5, 2, 5, 1, 2, 1)
    # task 1,2,10,12 = 1+1+1+1 = 4 -> 1.0; bond 3,5,7,9 = 5*4 = 20 -> 5.0;
    # goal 4,6,8,11 = 2*4 = 8 -> 2.0; total 4 + 20 + 8 = 32
    scores = score_items(WAI_SR, items)
    assert (scores.bond, scores.goal, scores.task, scores.total) == (5.0, 2.0, 1.0, 32.0)


# --------------------------------------------------------------------------- SRS


def test_srs_maps_items_to_bordin_and_keeps_overall() -> None:
    scores = score_items(SRS, (8.5, 7.0, 9.2, 6.4))
    # relationship (1) = bond, goals & topics (2) = goal, approach (3) = task, overall (4)
    assert (scores.bond, scores.goal, scores.task) == (8.5, 7.0, 9.2)
    assert scores.extra == {"overall": 6.4}
    # total = 8.5 + 7.0 + 9.2 + 6.4 = 31.1
    assert scores.total == pytest.approx(31.1, abs=1e-9)
    assert round(scores.total, 4) == scores.total  # stored rounded, no 31.099999...


def test_srs_from_typed_items_and_range() -> None:
    scores = scores_from_input(SRS, RawRating(items="10,9.5,0,3.3"))
    # 10 + 9.5 + 0 + 3.3 = 22.8
    assert (scores.bond, scores.goal, scores.task, scores.total) == (10.0, 9.5, 0.0, 22.8)
    assert scores.extra == {"overall": 3.3}
    assert SRS.dimension_range("total") == (0.0, 40.0)
    assert score_items(SRS, (10, 10, 10, 10)).total == 40.0


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("instrument", "text", "count"),
    [
        (WAI_SR, "5,4,2,3,3,4,2,3,1,5,3", 11),
        (WAI_SR, "5,4,2,3,3,4,2,3,1,5,3,4,4", 13),
        (WAI_SR, "5,4,2,3,3,4,2,3,1,5,3,4,", 13),  # trailing comma = an empty 13th value
        (SRS, "8,7,9", 3),
        (SRS, "8", 1),
    ],
)
def test_wrong_item_count_is_refused(instrument: Instrument, text: str, count: int) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_items(text, instrument)
    expected = f"{instrument.name} needs {instrument.item_count} item values, got {count}"
    assert info.value.message == expected
    with pytest.raises(InvalidInput):
        scores_from_input(instrument, RawRating(items=text))


def test_score_items_refuses_a_wrong_count() -> None:
    with pytest.raises(InvalidInput, match="wai-sr needs 12 item values"):
        score_items(WAI_SR, (3,) * 11)
    with pytest.raises(InvalidInput, match="quick needs 3 item values"):
        score_items(QUICK, (3, 3))


@pytest.mark.parametrize(
    ("instrument", "value"),
    [
        (WAI_SR, "0"),
        (WAI_SR, "6"),
        (WAI_SR, "-1"),
        (SRS, "10.5"),
        (SRS, "-0.1"),
        (QUICK, "10.1"),
        (QUICK, "-0.5"),
    ],
)
def test_value_out_of_range_is_refused(instrument: Instrument, value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_value(value, "item 3", instrument)
    assert info.value.message == f"item 3 is {value}, out of range"
    assert info.value.hint == f"the {instrument.name} scale is {instrument.scale}"


def test_out_of_range_item_is_named_by_its_number() -> None:
    items = [str(value) for value in WAI_ITEMS]
    items[6] = "6"
    with pytest.raises(InvalidInput, match=r"^item 7 is 6, out of range"):
        parse_items(",".join(items), WAI_SR)
    with pytest.raises(InvalidInput, match=r"^item 2 is 10.5, out of range"):
        scores_from_input(SRS, RawRating(items="8,10.5,7,7"))


@pytest.mark.parametrize("value", ["1", "5", "3", "4.0", " 2 "])
def test_wai_sr_accepts_whole_numbers_1_to_5(value: str) -> None:
    assert parse_value(value, "item 1", WAI_SR) == float(value)


@pytest.mark.parametrize("value", ["3.5", "4.1", "1.01", "4.50"])
def test_wai_sr_refuses_decimals(value: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_value(value, "item 1", WAI_SR)
    assert "too many decimals" in info.value.message
    assert info.value.hint == "use whole numbers"
    with pytest.raises(InvalidInput, match="too many decimals"):
        scores_from_input(WAI_SR, RawRating(items=",".join([value] + ["3"] * 11)))


@pytest.mark.parametrize("value", ["7.25", "0.05", "9.99"])
def test_srs_allows_one_decimal_only(value: str) -> None:
    with pytest.raises(InvalidInput, match="too many decimals"):
        parse_value(value, "item 1", SRS)
    assert parse_value("7.2", "item 1", SRS) == 7.2
    assert parse_value("7.20", "item 1", SRS) == 7.2  # a trailing zero is no decimal


@pytest.mark.parametrize("value", ["", "abc", "nan", "inf", "-inf", "4,5", "1e1x"])
def test_non_numbers_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="is not a number"):
        parse_value(value, "item 1", SRS)


def test_items_refused_for_quick() -> None:
    raw = RawRating(items="7,8,9")
    with pytest.raises(InvalidInput) as info:
        check_entry(QUICK, raw, "P01")
    assert info.value.message == "--items does not apply: P01 is rated with quick"
    assert info.value.hint == "give --bond, --goal and --task"
    with pytest.raises(InvalidInput, match="--items does not apply"):
        scores_from_input(QUICK, raw)
    with pytest.raises(InvalidInput, match="--items does not apply"):
        check_given(QUICK, RawRating(bond="7", goal="7", task="7", items="7,7,7"))


@pytest.mark.parametrize("instrument", [WAI_SR, SRS])
@pytest.mark.parametrize(
    "raw",
    [RawRating(bond="4"), RawRating(goal="4"), RawRating(task="4", items="3,3,3,3")],
)
def test_bond_goal_task_refused_for_item_instruments(
    instrument: Instrument, raw: RawRating
) -> None:
    with pytest.raises(InvalidInput) as info:
        check_entry(instrument, raw, "P01")
    assert info.value.message == (
        f"--bond/--goal/--task do not apply: P01 is rated with {instrument.name}"
    )
    assert info.value.hint is not None
    assert f"{instrument.item_count} comma-separated values from {instrument.scale}" in (
        info.value.hint
    )
    with pytest.raises(InvalidInput, match="do not apply"):
        scores_from_input(instrument, raw)


def test_missing_entries() -> None:
    assert missing_entries(QUICK, RawRating(bond="5")) == ["goal", "task"]
    assert missing_entries(WAI_SR, RawRating()) == ["items"]
    with pytest.raises(InvalidInput, match=r"^missing --goal, --task$"):
        scores_from_input(QUICK, RawRating(bond="5"))
    with pytest.raises(InvalidInput, match=r"^missing --items$"):
        scores_from_input(WAI_SR, RawRating())


def test_parse_score_labels_the_dimension() -> None:
    with pytest.raises(InvalidInput, match=r"^bond rating is 11, out of range"):
        parse_score("11", "bond")


# --------------------------------------------------------------------------- custom instruments

WAI_RED = {
    "title": "WAI, 10 items",
    "items": 10,
    "min": 1,
    "max": 7,
    "score": "mean",
    "bond": [1, 2, 3],
    "goal": [4, 5, 6],
    "task": [7, 8, 9, 10],
}


def with_instrument(**changes: Any) -> dict[str, Any]:
    spec = {**WAI_RED, **changes}
    return {"instruments": {"clinic-form": {k: v for k, v in spec.items() if v is not None}}}


def test_custom_instrument_loads_and_scores() -> None:
    config = settings(with_instrument())
    red = config.instrument("clinic-form")
    assert (red.item_count, red.item_min, red.item_max, red.decimals) == (10, 1.0, 7.0, 0)
    assert red.title == "WAI, 10 items"
    assert not red.builtin
    assert red.dimension_range("total") == (10.0, 70.0)  # 10 x 1 .. 10 x 7
    scores = scores_from_input(red, RawRating(items="7,6,5,4,3,2,1,2,3,4"))
    # bond 1-3: (7+6+5)/3 = 6.0; goal 4-6: (4+3+2)/3 = 3.0; task 7-10: (1+2+3+4)/4 = 2.5
    # total 7+6+5+4+3+2+1+2+3+4 = 37
    assert (scores.bond, scores.goal, scores.task, scores.total) == (6.0, 3.0, 2.5, 37.0)
    with pytest.raises(InvalidInput, match="out of range"):
        parse_items("8,6,5,4,3,2,1,2,3,4", red)
    # built-ins stay available next to it
    assert set(config.instruments) == {"quick", "wai-sr", "srs", "clinic-form"}


def test_custom_instrument_sum_score_and_extra() -> None:
    config = settings(with_instrument(score="sum", decimals=1, extra={"overall": [10]}, items=10))
    red = config.instrument("clinic-form")
    assert red.extra == ("overall",)
    scores = score_items(red, parse_items("7,6,5,4,3,2,1,2,3,4.5", red))
    # bond 7+6+5 = 18; goal 4+3+2 = 9; task 1+2+3+4.5 = 10.5; total 37.5; overall item 10
    assert (scores.bond, scores.goal, scores.task, scores.total) == (18.0, 9.0, 10.5, 37.5)
    assert scores.extra == {"overall": 4.5}
    assert red.dimension_range("task") == (4.0, 28.0)  # sum of 4 items 1..7


def test_custom_instrument_gets_thresholds_relative_to_its_scale() -> None:
    config = settings(with_instrument())
    rules = config.rules.for_instrument("clinic-form")
    # total 10..70, span 60: 10 % = 6.0; item span 6: 20 % = 1.2
    assert rules.drop_total == 6.0
    assert rules.decline_total == 6.0
    assert rules.rupture_min_size == 6.0
    assert rules.discrepancy == pytest.approx(1.2)
    assert rules.low_total is None and rules.rci_threshold() is None
    assert config.sources["thresholds.clinic-form.drop_total"] == "default"


def test_unknown_instrument_name_is_refused_with_the_choices() -> None:
    with pytest.raises(InvalidInput) as info:
        settings({}).instrument("phq9")
    assert "unknown instrument 'phq9'" in info.value.message
    assert info.value.hint == "choose one of quick, srs, wai-sr"


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        (with_instrument(bond=[1, 11]), "instruments.clinic-form.bond", "from 1 to 10, not 11"),
        (with_instrument(goal=[0, 4]), "instruments.clinic-form.goal", "from 1 to 10, not 0"),
        (with_instrument(task=[]), "instruments.clinic-form.task", "non-empty list"),
        (with_instrument(task="7-10"), "instruments.clinic-form.task", "non-empty list"),
        (with_instrument(bond=[True]), "instruments.clinic-form.bond", "not True"),
        (with_instrument(bond=None), "instruments.clinic-form.bond", "is missing"),
        (with_instrument(items=None), "instruments.clinic-form.items", "is missing"),
        (with_instrument(max=1), "instruments.clinic-form.max", "greater than min"),
        (with_instrument(max=0), "instruments.clinic-form.max", "greater than min"),
        (with_instrument(colour="red"), "instruments.clinic-form.colour", "not a known"),
        (with_instrument(score="median"), "instruments.clinic-form.score", "value, mean, sum"),
        (with_instrument(score="value"), "instruments.clinic-form.score", "exactly one item"),
        (with_instrument(items=0), "instruments.clinic-form.items", "at least 1"),
        (with_instrument(items=10.5), "instruments.clinic-form.items", "whole number"),
        (with_instrument(min="one"), "instruments.clinic-form.min", "must be a number"),
        (
            with_instrument(extra={"bond": [1]}),
            "instruments.clinic-form.extra.bond",
            "cannot redefine",
        ),
        ({"instruments": {"quick": WAI_RED}}, "instruments.quick", "built in"),
        ({"instruments": {"wai-sr": WAI_RED}}, "instruments.wai-sr", "built in"),
        ({"instruments": {"srs": WAI_RED}}, "instruments.srs", "built in"),
        ({"instruments": {"wai red!": WAI_RED}}, "instruments.wai red!", "letters, digits"),
        ({"instruments": {"clinic-form": 5}}, "instruments.clinic-form", "must be a table"),
    ],
)
def test_invalid_custom_instrument_names_the_key(
    data: dict[str, Any], key: str, problem: str
) -> None:
    message = config_error(data)
    assert f": {key} " in message
    assert problem in message


# --------------------------------------------------------------------------- thresholds


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_settings(tmp_path / "missing.toml")
    assert not config.exists
    assert set(config.instruments) == set(BUILTIN_INSTRUMENTS)
    for name, defaults in DEFAULT_THRESHOLDS.items():
        assert config.rules.for_instrument(name) == defaults
    assert config.rules.general.no_contact_days == 28
    assert config.rules.general.repaired_visible_weeks == 8
    assert set(config.sources.values()) == {"default"}
    assert config.sources["thresholds.quick.low_total"] == "default"


def test_documented_default_thresholds() -> None:
    quick, srs, wai = (DEFAULT_THRESHOLDS[n] for n in ("quick", "srs", "wai-sr"))
    assert (quick.low_total, quick.low_dimension, quick.drop_dimension) == (21.0, 6.0, 2.0)
    assert (srs.low_total, srs.drop_total) == (36.0, 1.0)  # published: < 36, drop >= 1
    assert (wai.low_total, wai.low_dimension) == (36.0, 3.0)
    # RCI: SE = 8 * sqrt(1 - .90) = 2.5298; S_diff = sqrt(2) * SE = 3.5777;
    # a reliable fall is 1.96 * 3.5777 = 7.0123 points of the total
    assert wai.rci_threshold() == pytest.approx(7.0123, abs=1e-4)
    assert quick.rci_threshold() is None and srs.rci_threshold() is None


def test_rci_threshold_follows_sd_and_reliability() -> None:
    # SD 10, r .80: SE = 10 * sqrt(.2) = 4.4721; S_diff = 6.3246; x 1.96 = 12.396
    assert Thresholds(rci_sd=10, rci_reliability=0.8).rci_threshold() == pytest.approx(
        12.396, abs=1e-3
    )
    assert Thresholds(rci_sd=10).rci_threshold() is None


def test_threshold_from_the_file_changes_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[thresholds.quick]\nlow_total = 15\n", encoding="utf-8")
    config = load_settings(path)
    assert config.exists and config.path == path
    quick = config.rules.for_instrument("quick")
    assert quick.low_total == 15.0
    # everything else keeps its default
    assert quick.low_dimension == 6.0 and quick.drop_dimension == 2.0
    assert config.rules.for_instrument("srs") == DEFAULT_THRESHOLDS["srs"]
    assert config.sources["thresholds.quick.low_total"] == "file"
    assert config.sources["thresholds.quick.low_dimension"] == "default"
    assert config.sources["thresholds.srs.low_total"] == "default"
    assert config.sources["general.no_contact_days"] == "default"
    file_keys = [key for key, source in config.sources.items() if source == "file"]
    assert file_keys == ["thresholds.quick.low_total"]


def test_changed_threshold_is_used_by_the_flag_engine() -> None:
    from datetime import date, timedelta

    start = date(2026, 1, 5)
    ratings = tuple(
        Rating(start + timedelta(weeks=n), "patient", "quick", 6.0, 6.0, 6.0, 18.0)
        for n in range(5)
    )
    history = History("P01", ratings)
    default = settings({})
    lowered = settings({"thresholds": {"quick": {"low_total": 15, "early_total": 15}}})
    # total 18 < 21 by default: every session flags (early-risk first 3, then low)
    assert {f.kind for f in history_flags(history, default.rules)} == {"early-risk", "low"}
    assert history_flags(history, lowered.rules) == []


def test_early_risk_cut_off_follows_a_changed_low_total() -> None:
    alone = settings({"thresholds": {"quick": {"low_total": 15}}})
    assert alone.rules.for_instrument("quick").early_total == 15.0
    both = settings({"thresholds": {"quick": {"low_total": 15, "early_total": 18}}})
    assert both.rules.for_instrument("quick").early_total == 18.0
    assert settings({}).rules.for_instrument("quick").early_total == 21.0


@pytest.mark.parametrize("off", [False, "off"])
def test_false_switches_a_threshold_off(off: object) -> None:
    config = settings({"thresholds": {"quick": {"low_total": off}}})
    assert config.rules.for_instrument("quick").low_total is None
    assert config.sources["thresholds.quick.low_total"] == "file"


def test_rci_can_be_switched_off() -> None:
    config = settings({"thresholds": {"wai-sr": {"rci_sd": False}}})
    assert config.rules.for_instrument("wai-sr").rci_threshold() is None


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        ({"thresholds": {"quick": {"low_total": "high"}}}, "thresholds.quick.low_total", "number"),
        ({"thresholds": {"quick": {"low_total": True}}}, "thresholds.quick.low_total", "number"),
        ({"thresholds": {"quick": {"low_total": [21]}}}, "thresholds.quick.low_total", "number"),
        ({"thresholds": {"srs": {"drop_total": -1}}}, "thresholds.srs.drop_total", "at least 0"),
        (
            {"thresholds": {"quick": {"decline_sessions": 4.5}}},
            "thresholds.quick.decline_sessions",
            "whole number",
        ),
        (
            {"thresholds": {"wai-sr": {"rci_reliability": 1.0}}},
            "thresholds.wai-sr.rci_reliability",
            "between 0 and 1",
        ),
        ({"thresholds": {"quick": {"lowest": 3}}}, "thresholds.quick.lowest", "not a known"),
        ({"thresholds": {"phq9": {"low_total": 3}}}, "thresholds.phq9", "unknown instrument"),
        ({"thresholds": {"quick": 21}}, "thresholds.quick", "must be a table"),
        ({"thresholds": 21}, "thresholds", "must be a table"),
        ({"general": {"no_contact_days": 0}}, "general.no_contact_days", "at least 1"),
        ({"general": {"no_contact_days": 2.5}}, "general.no_contact_days", "whole number"),
        ({"general": {"no_contact": 14}}, "general.no_contact", "not a known setting"),
        ({"flags": {}}, "flags", "not a known section"),
    ],
)
def test_invalid_threshold_names_the_key(data: dict[str, Any], key: str, problem: str) -> None:
    message = config_error(data)
    assert f": {key} " in message
    assert problem in message


def test_thresholds_of_a_custom_instrument() -> None:
    data = with_instrument()
    data["thresholds"] = {"clinic-form": {"low_total": 40}}
    config = settings(data)
    assert config.rules.for_instrument("clinic-form").low_total == 40.0
    assert config.rules.for_instrument("clinic-form").drop_total == 6.0  # generic default kept
    assert config.sources["thresholds.clinic-form.low_total"] == "file"


def test_general_settings_from_the_file() -> None:
    config = settings({"general": {"no_contact_days": 14, "repaired_visible_weeks": 4}})
    assert config.rules.general.no_contact_days == 14
    assert config.rules.general.repaired_visible_weeks == 4
    assert config.sources["general.no_contact_days"] == "file"


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[thresholds.quick\nlow_total = = 15\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"config {path} is not valid TOML" in info.value.message


def test_undecodable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[general]\nno_contact_days = 14 # \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_settings(path)


def test_invalid_value_in_a_file_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[thresholds.quick]\nlow_total = "high"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in info.value.message
    assert "thresholds.quick.low_total" in info.value.message


def test_custom_instrument_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        "[instruments.clinic-form]\n"
        'title = "WAI, 10 items"\nitems = 10\nmin = 1\nmax = 7\nscore = "mean"\n'
        "bond = [1, 2, 3]\ngoal = [4, 5, 6]\ntask = [7, 8, 9, 10]\n",
        encoding="utf-8",
    )
    red = load_settings(path).instrument("clinic-form")
    assert score_items(red, (7, 6, 5, 4, 3, 2, 1, 2, 3, 4)).total == 37.0


# Thresholds that have no "off" state (they are plain numbers, not Optional). The module
# promises "An invalid file is an error naming the key, never a traceback", and
# Thresholds promises "None switches a rule off": so `key = false` must either be refused
# with the key named, or give rules the flag engine can run with.
NOT_OPTIONAL = sorted(
    key
    for key in THRESHOLD_FIELDS
    if getattr(Thresholds(), key) is not None  # fields whose default is a number
)


@pytest.mark.parametrize("key", NOT_OPTIONAL)
def test_false_on_a_threshold_without_an_off_state(key: str) -> None:
    from datetime import date, timedelta

    names = ("quick", "srs", "wai-sr")
    try:
        config = settings({"thresholds": {name: {key: False} for name in names}})
    except ConfigError as error:
        assert f"thresholds.quick.{key}" in error.message
        return
    start = date(2026, 1, 5)
    quick = [27, 27, 27, 27, 27, 18, 18, 17, 16, 15]
    wai = [56, 56, 56, 56, 56, 44, 44, 40, 36, 32]  # falls of 12 and more: RCI applies
    ratings = tuple(
        Rating(start + timedelta(weeks=n), "patient", "quick", q / 3, q / 3, q / 3, q)
        for n, q in enumerate(quick)
    ) + tuple(
        Rating(start + timedelta(weeks=n), "therapist", "wai-sr", w / 12, w / 12, w / 12, w)
        for n, w in enumerate(wai)
    )
    flags = history_flags(History("P01", ratings), config.rules)  # must not raise
    if key == "early_sessions":  # switched off: no session counts as early
        assert not [f for f in flags if f.kind == "early-risk"]


def test_items_may_be_separated_by_spaces() -> None:
    """`--items "4 4 3 ..."` is what people type; it used to fail with "got 1"."""
    assert parse_items("5 4 2 3 3 4 2 3 1 5 3 4", WAI_SR) == parse_items(
        "5,4,2,3,3,4,2,3,1,5,3,4", WAI_SR
    )
    assert parse_items("  8  7.5 9\t6 ", SRS) == (8.0, 7.5, 9.0, 6.0)
    with pytest.raises(InvalidInput, match="needs 4 item values, got 3"):
        parse_items("8 7 9", SRS)


def test_item_labels_name_structure_only() -> None:
    """SRS items have published short names; WAI-SR items name the score they key into."""
    assert [SRS.item_label(n) for n in range(1, 5)] == [
        "relationship",
        "goals and topics",
        "approach or method",
        "overall",
    ]
    assert WAI_SR.item_label(1) == "task"
    assert WAI_SR.item_label(3) == "bond"
    assert WAI_SR.item_label(4) == "goal"
