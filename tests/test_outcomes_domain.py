"""The outcome figures (issue 16, part 3) as pure functions, on hand-made caseloads."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alliance_cli.domain.outcomes import (
    ENDINGS,
    MIN_CORRELATION_N,
    Course,
    OutcomeTally,
    alliance_growth,
    early_alliance,
    pearson,
    share_of_range,
)


def tally(*courses: Course) -> OutcomeTally:
    counted = OutcomeTally()
    for course in courses:
        counted.add(course)
    return counted


def test_share_of_range_and_its_guard() -> None:
    assert share_of_range(21, 3, 30) == pytest.approx(100 * 18 / 27)
    assert share_of_range(12, 12, 60) == 0 and share_of_range(60, 12, 60) == 100
    with pytest.raises(ValueError):
        share_of_range(5, 5, 5)


def test_early_alliance_is_the_mean_of_the_first_three_or_fewer() -> None:
    assert early_alliance((60, 70, 80, 10, 10)) == 70
    assert early_alliance((40,)) == 40
    assert early_alliance(()) is None


def test_growth_is_last_three_minus_first_three_from_four_totals() -> None:
    assert alliance_growth((50, 60, 70, 80, 90, 100)) == pytest.approx(90 - 60)
    assert alliance_growth((50, 60, 70, 80)) == pytest.approx(70 - 60)
    assert alliance_growth((50, 60, 70)) is None


def test_every_figure_on_a_small_hand_made_caseload() -> None:
    result = tally(
        Course("A", "dropout", (40.0, 50.0, 60.0), ruptures=1, repaired=0, gas_t=40.0),
        Course("B", "dropout", (20.0,), ruptures=2, repaired=2),
        Course("C", "mutual", (80.0, 90.0, 100.0, 100.0), ruptures=1, repaired=1, gas_t=60.0),
        Course("D", "mutual", (70.0, 70.0, 70.0, 70.0), gas_t=50.0),
        Course("E", "referred", (50.0, 50.0)),
        Course("F", "unknown", (10.0, 10.0), ruptures=1, repaired=0),
    ).result()
    assert result.n == 6
    assert result.endings == {
        "mutual": 2,
        "dropout": 2,
        "referred": 1,
        "moved": 0,
        "other": 0,
        "unknown": 1,
    }
    assert (result.dropout.part, result.dropout.of) == (2, 5)  # unknown is left out
    assert result.dropout_rate == pytest.approx(0.4)
    assert result.early_dropout.mean == pytest.approx((50 + 20) / 2)
    assert result.early_dropout.n == 2
    assert result.early_mutual.mean == pytest.approx((90 + 70) / 2)
    ruptures = result.ruptures
    assert (ruptures.count, ruptures.repaired) == (5, 3)
    assert ruptures.repaired_share == pytest.approx(0.6)
    # B and C repaired every rupture (B dropped out); A did not (dropped out); F unknown.
    assert (ruptures.dropout_if_repaired.part, ruptures.dropout_if_repaired.of) == (1, 2)
    assert (ruptures.dropout_if_unrepaired.part, ruptures.dropout_if_unrepaired.of) == (1, 1)
    assert result.gas_t_mean.mean == pytest.approx(50.0) and result.gas_t_mean.n == 3
    assert result.early_vs_gas.n == 3 and result.early_vs_gas.r is None  # under 10
    assert result.growth_vs_gas.n == 2  # A has 3 totals: no growth


def test_an_empty_period_has_no_rates_and_no_means() -> None:
    result = OutcomeTally().result()
    assert result.n == 0 and result.dropout_rate is None
    assert result.early_dropout.mean is None and result.gas_t_mean.mean is None
    assert result.ruptures.repaired_share is None
    assert result.ruptures.dropout_if_repaired.rate is None
    assert result.early_vs_gas.r is None and result.early_vs_gas.n == 0


def test_a_course_with_an_impossible_ending_or_repair_count_is_refused() -> None:
    with pytest.raises(ValueError):
        tally(Course("X", "fled", (50.0,)))
    with pytest.raises(ValueError):
        tally(Course("X", "mutual", (50.0,), ruptures=1, repaired=2))
    assert set(ENDINGS) >= {"mutual", "dropout", "unknown"}


def test_the_correlation_needs_ten_pairs() -> None:
    def courses(n: int) -> list[Course]:
        return [
            Course(f"P{i}", "mutual", (float(i), float(i), float(i)), gas_t=40.0 + i)
            for i in range(n)
        ]

    nine = tally(*courses(MIN_CORRELATION_N - 1)).result().early_vs_gas
    assert (nine.n, nine.r, nine.ci_low, nine.ci_high) == (9, None, None, None)
    ten = tally(*courses(MIN_CORRELATION_N)).result().early_vs_gas
    assert ten.n == 10 and ten.r == pytest.approx(1.0)


def test_fisher_interval_against_a_hand_computed_case() -> None:
    # r = .5 over n = 28: z = atanh(.5) = 0.5493, SE = 1/5 = 0.2, z +- 1.96 SE.
    xs = [float(i) for i in range(28)]
    noise = [(-1) ** i * 9.0 for i in range(28)]
    ys = [x + e for x, e in zip(xs, noise, strict=True)]
    r = statistics.correlation(xs, ys)
    found = pearson(
        28,
        sum(xs),
        sum(ys),
        sum(x * x for x in xs),
        sum(y * y for y in ys),
        sum(x * y for x, y in zip(xs, ys, strict=True)),
    )
    assert found.r == pytest.approx(r)
    z = math.atanh(r)
    assert found.ci_low == pytest.approx(math.tanh(z - 1.959964 / 5), abs=1e-6)
    assert found.ci_high == pytest.approx(math.tanh(z + 1.959964 / 5), abs=1e-6)
    known = pearson(28, 0, 0, 0, 0, 0)
    assert known.r is None  # no spread: no r
    # The textbook case: r = .5, n = 28 gives (.16, .74).
    z = math.atanh(0.5)
    assert (round(math.tanh(z - 1.96 / 5), 2), round(math.tanh(z + 1.96 / 5), 2)) == (0.16, 0.74)


def test_a_constant_side_gives_no_r() -> None:
    courses = [Course(f"P{i}", "mutual", (50.0,), gas_t=40.0 + i) for i in range(12)]
    assert tally(*courses).result().early_vs_gas.r is None


@given(
    st.lists(
        st.tuples(st.floats(0, 100, allow_nan=False), st.floats(20, 80, allow_nan=False)),
        min_size=MIN_CORRELATION_N,
        max_size=60,
    )
)
def test_streamed_r_matches_the_standard_library(pairs: list[tuple[float, float]]) -> None:
    xs, ys = [x for x, _ in pairs], [y for _, y in pairs]
    counted = tally(*(Course("P", "mutual", (x,), gas_t=y) for x, y in pairs)).result()
    found = counted.early_vs_gas
    try:
        expected = statistics.correlation(xs, ys)
    except statistics.StatisticsError:  # a constant side
        assert found.r is None
        return
    if found.r is None:  # a spread too small to trust (near-constant floats)
        assert min(statistics.pstdev(xs), statistics.pstdev(ys)) < 1e-2
        return
    assert found.r == pytest.approx(expected, abs=1e-6)
    assert found.ci_low is not None and found.ci_high is not None
    assert -1 <= found.ci_low <= found.r <= found.ci_high <= 1
