"""Thresholds of the flag rules, per instrument, with their documented defaults.

Published values are used where they exist (SRS: total below 36, a drop of 1 point;
reliable change index after Jacobson & Truax 1991); everything else is a project
default, documented in the README and changeable in the config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from alliance_cli.domain.instruments import Instrument


@dataclass(frozen=True)
class Thresholds:
    """One instrument's rule thresholds. None switches a rule off."""

    low_total: float | None = None  # alert: total below this
    low_dimension: float | None = None  # watch: a dimension below this
    drop_total: float | None = None  # alert: total fell at least this since the previous
    drop_dimension: float | None = None  # alert: a dimension fell at least this
    rci_sd: float | None = None  # with rci_reliability: drop on total by reliable change
    rci_reliability: float | None = None
    rci_z: float = 1.96
    decline_sessions: int = 5  # window of the decline rule
    decline_total: float | None = None  # total fall over the window
    rupture_sd: float = 1.0  # a rupture lies this many SDs below the earlier mean...
    rupture_min_size: float | None = None  # ...and at least this far below it (total)
    rupture_min_history: int = 3  # earlier sessions needed to know the usual level
    discrepancy: float | None = None  # watch: the therapist rated this much above the patient
    # watch: the patient rated above the therapist this much more than the dyad usually does
    discrepancy_patient_higher: float | None = None
    early_sessions: int = 3  # early-risk looks at the first N sessions...
    early_total: float | None = None  # ...for a total below this

    def rci_threshold(self) -> float | None:
        """The fall in total points that counts as a reliable change, if RCI is set."""
        if self.rci_sd is None or self.rci_reliability is None:
            return None
        standard_error: float = self.rci_sd * (1 - self.rci_reliability) ** 0.5
        return round(self.rci_z * 2**0.5 * standard_error, 4)


@dataclass(frozen=True)
class GeneralRules:
    """Rules that do not depend on the instrument."""

    no_contact_days: int = 28
    repaired_visible_weeks: int = 8


THRESHOLD_FIELDS = tuple(f.name for f in fields(Thresholds))
INTEGER_FIELDS = frozenset({"decline_sessions", "rupture_min_history", "early_sessions"})
# Thresholds that `false` may switch off; the others shape a rule and always need a value.
OPTIONAL_FIELDS = frozenset(
    {
        "low_total",
        "low_dimension",
        "drop_total",
        "drop_dimension",
        "rci_sd",
        "rci_reliability",
        "decline_total",
        "rupture_min_size",
        "discrepancy",
        "discrepancy_patient_higher",
        "early_total",
    }
)
MINIMUMS = {"decline_sessions": 3, "rupture_min_history": 2, "early_sessions": 1}

DEFAULT_THRESHOLDS: dict[str, Thresholds] = {
    # quick: 0-10 per dimension, total 0-30. Project defaults.
    "quick": Thresholds(
        low_total=21.0,
        low_dimension=6.0,
        drop_dimension=2.0,
        decline_total=3.0,
        rupture_min_size=3.0,
        discrepancy=2.0,
        discrepancy_patient_higher=2.0,
        early_total=21.0,
    ),
    # SRS: items 0-10, total 0-40. Published: total < 36, drop >= 1 (OpenFIT).
    "srs": Thresholds(
        low_total=36.0,
        drop_total=1.0,
        decline_total=2.0,
        rupture_min_size=3.0,
        discrepancy=2.0,
        discrepancy_patient_higher=2.0,
        early_total=36.0,
    ),
    # WAI-SR: items 1-5, dimensions are item means, total 12-60. No published norms:
    # project defaults, RCI with SD 8 and reliability .90 (a fall of about 7 points).
    "wai-sr": Thresholds(
        low_total=36.0,
        low_dimension=3.0,
        rci_sd=8.0,
        rci_reliability=0.90,
        decline_total=4.0,
        rupture_min_size=4.0,
        discrepancy=1.0,
        discrepancy_patient_higher=1.0,
        early_total=36.0,
    ),
}


def generic_thresholds(instrument: Instrument) -> Thresholds:
    """Defaults for a clinic's own instrument: relative to its scale, no cut-off."""
    low, high = instrument.dimension_range("total")
    span = high - low
    item_span = instrument.item_max - instrument.item_min
    return Thresholds(
        drop_total=round(span * 0.1, 4),
        decline_total=round(span * 0.1, 4),
        rupture_min_size=round(span * 0.1, 4),
        discrepancy=round(item_span * 0.2, 4),
        discrepancy_patient_higher=round(item_span * 0.2, 4),
    )


def default_thresholds(instrument: Instrument) -> Thresholds:
    return DEFAULT_THRESHOLDS.get(instrument.name) or generic_thresholds(instrument)


@dataclass(frozen=True)
class RuleSet:
    """Everything the flag engine needs to know about thresholds."""

    thresholds: dict[str, Thresholds] = field(default_factory=dict)
    general: GeneralRules = field(default_factory=GeneralRules)

    def for_instrument(self, name: str) -> Thresholds:
        if name in self.thresholds:
            return self.thresholds[name]
        return DEFAULT_THRESHOLDS.get(name, Thresholds())

    def with_thresholds(self, name: str, **changes: float | int | None) -> RuleSet:
        updated = dict(self.thresholds)
        updated[name] = replace(self.for_instrument(name), **changes)  # type: ignore[arg-type]
        return RuleSet(thresholds=updated, general=self.general)


def default_rules() -> RuleSet:
    return RuleSet(thresholds=dict(DEFAULT_THRESHOLDS))
