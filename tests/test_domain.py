"""Pure unit tests of the domain rules: dates, scores, score changes and typed text.

No database and no CLI here: every function under test is a plain function over plain
values, so each rule is pinned down directly (and with Hypothesis where a rule is a
property over a whole input space).
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alliance_cli.domain.dates import check_not_future, check_session_date, parse_date
from alliance_cli.domain.instruments import (
    DIMENSIONS,
    QUICK,
    Scores,
    parse_score,
    quick_scores,
    score_changes,
)
from alliance_cli.domain.text import (
    MAX_CODE_LENGTH,
    MAX_TEXT_LENGTH,
    check_code,
    clean_text,
    optional_text,
    required_text,
)
from alliance_cli.errors import ExitCode, InvalidInput

TODAY = date(2026, 3, 10)


# --------------------------------------------------------------------------- parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY),
        ("yesterday", TODAY - timedelta(days=1)),
        ("TODAY", TODAY),
        ("Today", TODAY),
        ("YesterDay", TODAY - timedelta(days=1)),
        ("  today  ", TODAY),
        ("\tyesterday\n", TODAY - timedelta(days=1)),
        ("2026-01-31", date(2026, 1, 31)),
        (" 2026-01-31 ", date(2026, 1, 31)),
        ("2024-02-29", date(2024, 2, 29)),  # leap day
        ("0001-01-01", date(1, 1, 1)),
        ("9999-12-31", date(9999, 12, 31)),
    ],
)
def test_parse_date_accepts_keywords_and_iso(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_parse_date_keywords_follow_the_given_today() -> None:
    other = date(2020, 3, 1)
    assert parse_date("today", other) == other
    assert parse_date("yesterday", other) == date(2020, 2, 29)  # across a leap-year month end


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "tomorrow",
        "todayy",
        "to day",
        "now",
        "2026-02-30",  # no such day
        "2026-02-29",  # 2026 is not a leap year
        "2026-13-01",
        "2026-00-10",
        "2026-01-00",
        "2026/01/31",
        "31-01-2026",
        "01/31/2026",
        "2026-1-31",
        "2026-01-1",
        "20260131",  # basic ISO format is not the documented YYYY-MM-DD
        "2026-W05-1",  # ISO week date, also 10 characters long
        "2026-01-31T10:00",
        "2026-01-31 10:00",
        "2026-01-31x",
        "x2026-01-31",
        "２０２６-01-31",  # full-width digits
        "26-01-31",
        "-2026-01-31",
    ],
)
def test_parse_date_rejects_malformed_dates(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_date(text, TODAY, what="--date")
    assert info.value.exit_code == ExitCode.ERROR
    assert "--date" in info.value.message
    assert repr(text) in info.value.message
    assert info.value.hint is not None and "YYYY-MM-DD" in info.value.hint


@given(day=st.dates(), today=st.dates())
def test_parse_date_round_trips_any_isoformat(day: date, today: date) -> None:
    assert parse_date(day.isoformat(), today) == day


@given(
    day=st.dates(),
    before=st.sampled_from(["", " ", "  ", "\t", "\n"]),
    after=st.sampled_from(["", " ", "  ", "\t", "\r\n"]),
)
def test_parse_date_ignores_surrounding_whitespace(day: date, before: str, after: str) -> None:
    assert parse_date(before + day.isoformat() + after, TODAY) == day


@given(today=st.dates(min_value=date(1, 1, 2)), word=st.sampled_from(["today", "yesterday"]))
def test_parse_date_keywords_in_any_case(today: date, word: str) -> None:
    expected = today if word == "today" else today - timedelta(days=1)
    for variant in (word, word.upper(), word.capitalize(), word.swapcase()):
        assert parse_date(variant, today) == expected


# ------------------------------------------------------------------ check_session_date


def test_session_today_is_allowed() -> None:
    check_session_date(TODAY, TODAY, date(2026, 1, 1))


def test_session_on_the_first_day_of_care_is_allowed() -> None:
    check_session_date(date(2026, 1, 1), TODAY, date(2026, 1, 1))


def test_session_on_the_day_care_started_today_is_allowed() -> None:
    check_session_date(TODAY, TODAY, TODAY)


def test_session_without_start_of_care_accepts_any_past_date() -> None:
    check_session_date(date(1990, 5, 5), TODAY, None)


@pytest.mark.parametrize("days_ahead", [1, 2, 365])
def test_session_in_the_future_is_refused(days_ahead: int) -> None:
    when = TODAY + timedelta(days=days_ahead)
    with pytest.raises(InvalidInput) as info:
        check_session_date(when, TODAY, date(2026, 1, 1))
    assert "future" in info.value.message
    assert when.isoformat() in info.value.message


def test_session_in_the_future_is_refused_without_start_of_care() -> None:
    with pytest.raises(InvalidInput, match="future"):
        check_session_date(TODAY + timedelta(days=1), TODAY, None)


def test_session_before_start_of_care_is_refused() -> None:
    with pytest.raises(InvalidInput) as info:
        check_session_date(date(2025, 12, 31), TODAY, date(2026, 1, 1))
    assert "before the start of care" in info.value.message
    assert "2025-12-31" in info.value.message
    assert "2026-01-01" in info.value.message


def test_check_not_future() -> None:
    check_not_future(TODAY, TODAY, what="--due")
    check_not_future(TODAY - timedelta(days=1), TODAY, what="--due")
    with pytest.raises(InvalidInput, match="--due"):
        check_not_future(TODAY + timedelta(days=1), TODAY, what="--due")


@given(when=st.dates(), today=st.dates(), since=st.none() | st.dates())
def test_check_session_date_matches_its_rule(when: date, today: date, since: date | None) -> None:
    allowed = when <= today and (since is None or when >= since)
    if allowed:
        check_session_date(when, today, since)
    else:
        with pytest.raises(InvalidInput):
            check_session_date(when, today, since)


# ------------------------------------------------------------------------- parse_score


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("10", 10.0),
        ("6.5", 6.5),
        ("7.0", 7.0),
        ("7.00", 7.0),  # trailing zeros are not extra precision
        ("0.1", 0.1),
        ("9.9", 9.9),
        ("10.0", 10.0),
        (" 7 ", 7.0),
        ("\t8.5\n", 8.5),
        ("07", 7.0),
        ("7.", 7.0),
    ],
)
def test_parse_score_accepts_the_scale(text: str, expected: float) -> None:
    value = parse_score(text, "bond")
    assert type(value) is float
    assert value == expected


@pytest.mark.parametrize(
    "text",
    [
        "10.1",
        "-0.1",
        "-1",
        "11",
        "100",
        "1e2",
        "7.25",
        "7.01",
        "0.05",
        "9.99",
        "abc",
        "seven",
        "7,5",
        "7 .5",
        "",
        "   ",
        "nan",
        "NaN",
        "-nan",
        "snan",
        "inf",
        "-inf",
        "Infinity",
        "+Infinity",
    ],
)
def test_parse_score_refuses_values_off_the_scale(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_score(text, "goal")
    assert info.value.message.startswith("goal rating")
    assert info.value.exit_code == ExitCode.ERROR


def test_parse_score_messages_say_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="is not a number"):
        parse_score("abc", "bond")
    with pytest.raises(InvalidInput, match="is not a number"):
        parse_score("nan", "bond")
    with pytest.raises(InvalidInput, match="out of range"):
        parse_score("10.1", "bond")
    with pytest.raises(InvalidInput, match="too many decimals"):
        parse_score("7.25", "bond")


@pytest.mark.parametrize(
    "text",
    [
        # More than 28 significant digits: the decimals check must look at the value as
        # typed, not at a copy rounded to the default decimal context.
        "9.99999999999999999999999999999",
        "5.00000000000000000000000000001",
        "0.000000000000000000000000000001",
        # A positive value far below the context's smallest exponent.
        "1e-999999999",
    ],
)
def test_parse_score_refuses_many_decimals_even_when_very_long(text: str) -> None:
    """Each of these has far more than one decimal and is not the score it rounds to."""
    with pytest.raises(InvalidInput):
        parse_score(text, "task")


@pytest.mark.parametrize("text", ["-0", "-0.0", "-0.00"])
def test_parse_score_never_returns_negative_zero(text: str) -> None:
    """A typed `-0` is either refused or stored as 0: never shown later as `-0.0`."""
    try:
        value = parse_score(text, "bond")
    except InvalidInput:
        return
    assert value == 0
    assert math.copysign(1.0, value) == 1.0, f"{text!r} parsed to negative zero"


@given(st.decimals(min_value=0, max_value=10, places=1, allow_nan=False, allow_infinity=False))
@example(Decimal("0"))
@example(Decimal("10"))
@example(Decimal("10.0"))
@example(Decimal("1E+1"))
def test_any_score_on_the_scale_parses_to_its_float(value: Decimal) -> None:
    assert parse_score(str(value), "bond") == float(value)
    assert parse_score(format(value, "f"), "bond") == float(value)


@given(st.integers(min_value=0, max_value=100))
def test_every_tenth_from_0_to_10_is_accepted(tenths: int) -> None:
    text = f"{tenths // 10}.{tenths % 10}"
    assert parse_score(text, "goal") == float(Decimal(text))
    assert parse_score(text, "goal") == tenths / 10


def _on_scale(value: Decimal) -> bool:
    """Exact rule: 0 <= value <= 10 with at most one decimal (computed with fractions)."""
    exact = Fraction(value)
    return 0 <= exact <= 10 and (exact * 10).denominator == 1


# Decimals with at most 28 significant digits and modest exponents; longer numbers are
# pinned by test_parse_score_refuses_many_decimals_even_when_very_long.
_any_decimal = st.one_of(
    st.decimals(min_value=-5, max_value=15, places=2),
    st.decimals(min_value=-5, max_value=15, places=6),
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: len(d.as_tuple().digits) <= 28 and abs(int(d.as_tuple().exponent)) <= 50
    ),
)


@given(_any_decimal)
@example(Decimal("10.1"))
@example(Decimal("-0.1"))
@example(Decimal("7.25"))
@example(Decimal("10.01"))
@example(Decimal("0.05"))
def test_scores_off_the_scale_are_refused(value: Decimal) -> None:
    if _on_scale(value):
        assert parse_score(str(value), "task") == float(value)
    else:
        with pytest.raises(InvalidInput):
            parse_score(str(value), "task")


@given(st.text(max_size=12))
def test_parse_score_only_ever_returns_a_score_or_invalid_input(text: str) -> None:
    """Whatever is typed, the answer is a finite float on the scale or an InvalidInput."""
    try:
        value = parse_score(text, "bond")
    except InvalidInput:
        return
    assert math.isfinite(value)
    assert QUICK.item_min <= value <= QUICK.item_max
    assert round(value * 10) == pytest.approx(value * 10, abs=1e-9)


# ------------------------------------------------------------- quick_scores / changes


def test_quick_scores_keeps_the_three_dimensions() -> None:
    scores = quick_scores(7.0, 6.5, 8.0)
    assert scores == Scores(bond=7.0, goal=6.5, task=8.0, items=(7.0, 6.5, 8.0), total=21.5)
    assert [scores.dimension(name) for name in DIMENSIONS] == [7.0, 6.5, 8.0]
    assert DIMENSIONS == ("bond", "goal", "task")


def test_first_rating_has_no_change() -> None:
    assert score_changes(quick_scores(7, 7, 7), None) == {
        "bond": None,
        "goal": None,
        "task": None,
    }


def test_changes_are_current_minus_previous() -> None:
    changes = score_changes(quick_scores(8.0, 6.5, 7.0), quick_scores(7.0, 7.0, 7.0))
    assert changes == {"bond": 1.0, "goal": -0.5, "task": 0.0}


def test_changes_are_rounded_to_exact_tenths() -> None:
    # 6.9 - 7.1 is -0.1999999999999993 in binary floating point.
    assert 6.9 - 7.1 != -0.2
    changes = score_changes(quick_scores(6.9, 0.3, 10.0), quick_scores(7.1, 0.1, 9.9))
    assert changes["bond"] == -0.2
    assert changes["goal"] == 0.2
    assert changes["task"] == 0.1


@given(
    current=st.tuples(*[st.integers(0, 100)] * 3),
    previous=st.tuples(*[st.integers(0, 100)] * 3),
)
def test_changes_equal_the_exact_decimal_difference(
    current: tuple[int, int, int], previous: tuple[int, int, int]
) -> None:
    now = quick_scores(*(parse_score(f"{t / 10:.1f}", "bond") for t in current))
    before = quick_scores(*(parse_score(f"{t / 10:.1f}", "bond") for t in previous))
    changes = score_changes(now, before)
    for name, new, old in zip(DIMENSIONS, current, previous, strict=True):
        assert changes[name] == float(Decimal(new - old) / 10)


# ------------------------------------------------------------------------------- text


def test_clean_text_keeps_text_exactly_as_typed() -> None:
    typed = "  [bold]hi[/]\n\tsecond line  \x1b[31m "
    assert clean_text(typed, "note") == typed


def test_clean_text_refuses_nul() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        clean_text("before\x00after", "note")
    with pytest.raises(InvalidInput, match="NUL"):
        clean_text("\x00", "note", required=False)


@pytest.mark.parametrize("blank", ["", " ", "   ", "\t", "\n", " \r\n\t "])
def test_blank_text_is_refused_when_required_and_none_otherwise(blank: str) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        clean_text(blank, "goal text")
    with pytest.raises(InvalidInput, match="empty"):
        required_text(blank, "goal text")
    assert clean_text(blank, "note", required=False) is None
    assert optional_text(blank, "note") is None


def test_optional_text_passes_none_through() -> None:
    assert optional_text(None, "note") is None
    assert optional_text("x", "note") == "x"


def test_text_length_limit() -> None:
    assert clean_text("x" * MAX_TEXT_LENGTH, "note") == "x" * MAX_TEXT_LENGTH
    with pytest.raises(InvalidInput, match="longer than"):
        clean_text("x" * (MAX_TEXT_LENGTH + 1), "note")
    with pytest.raises(InvalidInput, match="longer than"):
        clean_text(" " * (MAX_TEXT_LENGTH + 1), "note", required=False)


@pytest.mark.parametrize(
    "code", ["P014", "p-14", "X", "patient_7", "Ünal.3", "A" * MAX_CODE_LENGTH]
)
def test_check_code_accepts_short_pseudonyms(code: str) -> None:
    assert check_code(code) == code


@pytest.mark.parametrize(
    "code",
    [
        "P 14",
        " P14",
        "P14 ",
        "P\t14",
        "P\n14",
        "P\u00a014",  # no-break space
        "P\u300014",  # ideographic space
    ],
)
def test_check_code_refuses_spaces(code: str) -> None:
    with pytest.raises(InvalidInput, match="no spaces"):
        check_code(code)


@pytest.mark.parametrize("code", ["", " ", "\t"])
def test_check_code_refuses_blank(code: str) -> None:
    with pytest.raises(InvalidInput, match="empty"):
        check_code(code)


def test_check_code_refuses_nul_and_long_codes() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        check_code("P1\x00")
    with pytest.raises(InvalidInput, match="64"):
        check_code("A" * (MAX_CODE_LENGTH + 1))


@pytest.mark.parametrize(
    "code", ["P\x1b[31m1", "P\x07", "P\x7f", "P\x9b1", "P\u202e41", "P\u200b1"]
)
def test_check_code_refuses_control_and_format_characters(code: str) -> None:
    with pytest.raises(InvalidInput):
        check_code(code)


@given(st.text(max_size=80))
def test_check_code_only_returns_printable_codes_without_spaces(code: str) -> None:
    try:
        result = check_code(code)
    except InvalidInput:
        return
    assert result == code
    assert 0 < len(result) <= MAX_CODE_LENGTH
    assert result.isprintable()
    assert not any(ch.isspace() for ch in result)
