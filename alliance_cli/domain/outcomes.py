"""What the alliance told you in your own caseload: endings, early alliance, ruptures and
goal attainment of the patients whose care ended in a period.

Pure and streaming: `OutcomeTally.add` takes one finished course at a time and keeps only
sums, so 10,000 discharged patients cost no more memory than ten. The figures:

- endings by type; the dropout rate over the endings that are known (an older discharge
  whose ending was never recorded is `unknown` and counts in neither side of the rate);
- early alliance: the mean of a patient's first 3 totals (fewer when care was shorter),
  each as % of its instrument's range, so WAI-SR, SRS and quick courses compare; for
  patients who dropped out versus those who ended by mutual agreement (Sharf et al. 2010:
  a weak early alliance goes with dropout);
- ruptures (the rupture rule's, every rater): how many, the share repaired, and the
  dropout rate of patients with an unrepaired rupture versus patients whose every
  rupture was repaired;
- the mean GAS T at discharge, and the correlation of the alliance (early, and growth:
  mean of the last 3 totals minus the first 3, needing at least 4) with the final GAS T,
  with its 95 % confidence interval (Fisher z). Shown only from `MIN_CORRELATION_N`
  patients: with fewer, an r means nothing. It is this caseload's association, never a
  prediction for one patient.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from alliance_cli.domain.vocabulary import UNKNOWN_ENDING, Ending

ENDINGS = (*Ending, UNKNOWN_ENDING)
UNKNOWN = UNKNOWN_ENDING
EARLY = 3  # sessions that make the early alliance, and the late one for growth
MIN_GROWTH = EARLY + 1  # with fewer totals the last 3 are the first 3
MIN_CORRELATION_N = 10
Z_95 = 1.959963984540054


def share_of_range(value: float, low: float, high: float) -> float:
    """Where `value` lies on its scale, as % (0 at the lowest, 100 at the highest)."""
    if high <= low:
        raise ValueError("a scale needs its highest above its lowest")
    return 100.0 * (value - low) / (high - low)


def early_alliance(totals: Sequence[float]) -> float | None:
    """Mean of the first 3 totals (fewer if care had fewer); None with none."""
    first = totals[:EARLY]
    return sum(first) / len(first) if first else None


def alliance_growth(totals: Sequence[float]) -> float | None:
    """Mean of the last 3 totals minus the mean of the first 3; None under 4 totals."""
    if len(totals) < MIN_GROWTH:
        return None
    return sum(totals[-EARLY:]) / EARLY - sum(totals[:EARLY]) / EARLY


@dataclass(frozen=True)
class Course:
    """One patient's finished care, as the figures need it."""

    patient: str
    ending: str  # one of ENDINGS
    totals: tuple[float, ...]  # the patient's own totals in date order, as % of scale
    ruptures: int = 0
    repaired: int = 0  # of those ruptures
    gas_t: float | None = None  # at discharge
    clinician: str = ""


@dataclass(frozen=True)
class Correlation:
    """Pearson's r with its 95 % interval; r and the interval are None under
    `MIN_CORRELATION_N` pairs or when either side does not vary."""

    n: int
    r: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass
class _Pairs:
    """Running sums for Pearson's r: constant memory, one pass."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    def add(self, x: float, y: float) -> None:
        self.n += 1
        self.sx += x
        self.sy += y
        self.sxx += x * x
        self.syy += y * y
        self.sxy += x * y

    def correlation(self) -> Correlation:
        return pearson(self.n, self.sx, self.sy, self.sxx, self.syy, self.sxy)


def pearson(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> Correlation:
    """r from sums, and its 95 % confidence interval by Fisher's z (SE 1/sqrt(n - 3))."""
    if n < MIN_CORRELATION_N:
        return Correlation(n)
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    # Sums of similar numbers cancel: a spread this small relative to the values is zero.
    if vx <= 1e-9 * max(1.0, n * sxx) or vy <= 1e-9 * max(1.0, n * syy):
        return Correlation(n)
    r = max(-1.0, min(1.0, (n * sxy - sx * sy) / math.sqrt(vx * vy)))
    if abs(r) == 1.0:
        return Correlation(n, r, r, r)
    z = math.atanh(r)
    half = Z_95 / math.sqrt(n - 3)
    return Correlation(n, r, math.tanh(z - half), math.tanh(z + half))


@dataclass(frozen=True)
class Mean:
    mean: float | None
    n: int


@dataclass(frozen=True)
class Share:
    """`part` of `of`, and the rate (None when `of` is 0)."""

    part: int
    of: int

    @property
    def rate(self) -> float | None:
        return self.part / self.of if self.of else None


@dataclass(frozen=True)
class Ruptures:
    count: int
    repaired: int
    # Patients whose every rupture was repaired, and patients with one left unrepaired:
    # how many of each dropped out (over those with a known ending).
    dropout_if_repaired: Share
    dropout_if_unrepaired: Share

    @property
    def repaired_share(self) -> float | None:
        return self.repaired / self.count if self.count else None


@dataclass(frozen=True)
class Outcomes:
    """The figures for one clinician, or the clinic (`clinician` "")."""

    n: int
    endings: dict[str, int]  # every ending, in ENDINGS order, 0 included
    dropout: Share  # dropouts over known endings
    early_dropout: Mean
    early_mutual: Mean
    ruptures: Ruptures
    gas_t_mean: Mean
    early_vs_gas: Correlation
    growth_vs_gas: Correlation
    clinician: str = ""

    @property
    def dropout_rate(self) -> float | None:
        return self.dropout.rate


@dataclass
class _Sum:
    total: float = 0.0
    n: int = 0

    def add(self, value: float | None) -> None:
        if value is not None:
            self.total += value
            self.n += 1

    def mean(self) -> Mean:
        return Mean(self.total / self.n if self.n else None, self.n)


@dataclass
class OutcomeTally:
    """Add courses one at a time; `result()` gives the figures."""

    clinician: str = ""
    endings: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ENDINGS, 0))
    early_dropout: _Sum = field(default_factory=_Sum)
    early_mutual: _Sum = field(default_factory=_Sum)
    gas_t: _Sum = field(default_factory=_Sum)
    early_pairs: _Pairs = field(default_factory=_Pairs)
    growth_pairs: _Pairs = field(default_factory=_Pairs)
    ruptures: int = 0
    repaired: int = 0
    # [patients with a known ending, of them dropped out]
    all_repaired: list[int] = field(default_factory=lambda: [0, 0])
    unrepaired: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, course: Course) -> None:
        if course.ending not in self.endings:
            raise ValueError(f"unknown ending {course.ending!r}")
        if not 0 <= course.repaired <= course.ruptures:
            raise ValueError("repaired ruptures must be between 0 and the ruptures")
        self.endings[course.ending] += 1
        early = early_alliance(course.totals)
        if course.ending == Ending.DROPOUT:
            self.early_dropout.add(early)
        elif course.ending == Ending.MUTUAL:
            self.early_mutual.add(early)
        self.gas_t.add(course.gas_t)
        if course.gas_t is not None:
            growth = alliance_growth(course.totals)
            if early is not None:
                self.early_pairs.add(early, course.gas_t)
            if growth is not None:
                self.growth_pairs.add(growth, course.gas_t)
        self.ruptures += course.ruptures
        self.repaired += course.repaired
        if course.ruptures and course.ending != UNKNOWN:
            side = self.unrepaired if course.repaired < course.ruptures else self.all_repaired
            side[0] += 1
            side[1] += course.ending == Ending.DROPOUT

    def result(self) -> Outcomes:
        known = sum(self.endings.values()) - self.endings[UNKNOWN]
        return Outcomes(
            n=sum(self.endings.values()),
            endings=dict(self.endings),
            dropout=Share(self.endings[Ending.DROPOUT], known),
            early_dropout=self.early_dropout.mean(),
            early_mutual=self.early_mutual.mean(),
            ruptures=Ruptures(
                self.ruptures,
                self.repaired,
                Share(self.all_repaired[1], self.all_repaired[0]),
                Share(self.unrepaired[1], self.unrepaired[0]),
            ),
            gas_t_mean=self.gas_t.mean(),
            early_vs_gas=self.early_pairs.correlation(),
            growth_vs_gas=self.growth_pairs.correlation(),
            clinician=self.clinician,
        )
