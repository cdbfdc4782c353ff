"""The config file: thresholds of every flag rule per instrument, and custom instruments.

TOML at `ALLIANCE_CONFIG`, else `config.toml` in the per-user config directory:

    [general]
    no_contact_days = 28

    [thresholds.quick]
    low_total = 21
    discrepancy = 2.0                 # therapist above patient: watch (therapist-higher)
    discrepancy_patient_higher = 2.0  # patient above therapist beyond the dyad's usual gap

    [instruments.clinic-10]         # a clinic's own instrument, no code change needed
    title = "WAI, 10 items"
    items = 10
    min = 1
    max = 7
    score = "mean"                 # value | mean | sum: how a dimension is formed
    bond = [1, 2, 3]
    goal = [4, 5, 6]
    task = [7, 8, 9, 10]

    [repair]
    strategies = ["grounding"]      # offered by `repair add` after the built-in ones

An invalid file is an error naming the key, never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alliance_cli.domain.instruments import BUILTIN_INSTRUMENTS, DIMENSIONS, Instrument
from alliance_cli.domain.repairs import STRATEGIES as REPAIR_STRATEGIES
from alliance_cli.domain.rules import (
    INTEGER_FIELDS,
    MINIMUMS,
    OPTIONAL_FIELDS,
    THRESHOLD_FIELDS,
    GeneralRules,
    RuleSet,
    Thresholds,
    default_thresholds,
)
from alliance_cli.domain.suggestions import ANY as ANY_TOPIC
from alliance_cli.domain.suggestions import BUILTIN as BUILTIN_SUGGESTIONS
from alliance_cli.domain.suggestions import TOPICS, Library, Suggestion, merged
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.paths import config_file

GENERAL_FIELDS = tuple(f.name for f in fields(GeneralRules))
SUGGESTION_KINDS = tuple(BUILTIN_SUGGESTIONS)
SUGGESTION_TOPICS = (*TOPICS, "any")
INSTRUMENT_KEYS = frozenset(
    {"title", "items", "min", "max", "decimals", "score", "source", "extra", *DIMENSIONS}
)


class ConfigError(AllianceError):
    """The config file cannot be used; the message names the file and the key."""


def config_path() -> Path:
    """`ALLIANCE_CONFIG`, else `config.toml` in the per-user config directory."""
    return config_file()


@dataclass(frozen=True)
class Settings:
    """The effective configuration, and where each value came from."""

    path: Path
    exists: bool
    instruments: dict[str, Instrument]
    rules: RuleSet
    sources: dict[str, str] = field(default_factory=dict)  # "thresholds.quick.low_total" -> "file"
    clinician: str | None = None  # general.clinician: who you are on a shared SQLite file
    suggestions: Library = field(default_factory=lambda: BUILTIN_SUGGESTIONS)
    repair_strategies: tuple[str, ...] = REPAIR_STRATEGIES  # built in, then [repair] strategies

    def instrument(self, name: str) -> Instrument:
        try:
            return self.instruments[name]
        except KeyError:
            known = ", ".join(sorted(self.instruments))
            raise InvalidInput(f"unknown instrument {name!r}", f"choose one of {known}") from None

    def total_range(self, instrument: str) -> tuple[float, float] | None:
        """The total's scale (lowest, highest); None for an unknown instrument."""
        known = self.instruments.get(instrument)
        return None if known is None else known.dimension_range("total")


def load_settings(path: Path | None = None) -> Settings:
    """Read and check the config file (a missing file means all defaults)."""
    path = path or config_path()
    data: dict[str, Any] = {}
    exists = path.is_file()
    if exists:
        import tomllib

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"config {path} is not valid TOML: {error}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read config {path}: {error}") from None
    return _settings(path, exists, data)


def _settings(path: Path, exists: bool, data: dict[str, Any]) -> Settings:
    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"config {path}: {key} {problem}")

    unknown = set(data) - {"general", "thresholds", "instruments", "suggestions", "repair"}
    if unknown:
        raise fail(
            sorted(unknown)[0],
            "is not a known section (general, thresholds, instruments, suggestions, repair)",
        )

    instruments = dict(BUILTIN_INSTRUMENTS)
    for name, spec in _table(data, "instruments", fail).items():
        if name in BUILTIN_INSTRUMENTS:
            raise fail(f"instruments.{name}", "is built in and cannot be redefined")
        instruments[name] = _instrument(name, _as_table(spec, f"instruments.{name}", fail), fail)

    sources: dict[str, str] = {}
    general_data = dict(_table(data, "general", fail))
    general_values: dict[str, int] = {}
    clinician = general_data.pop("clinician", None) if general_data else None
    if clinician is not None and (not isinstance(clinician, str) or not clinician.strip()):
        raise fail("general.clinician", "must be a non-empty text")
    for key in GENERAL_FIELDS:
        full = f"general.{key}"
        if key in general_data:
            general_values[key] = _number(general_data[key], full, fail, integer=True, minimum=1)
            sources[full] = "file"
        else:
            sources[full] = "default"
    for key in set(general_data) - set(GENERAL_FIELDS):
        raise fail(f"general.{key}", "is not a known setting")

    threshold_data = _table(data, "thresholds", fail)
    for name in threshold_data:
        if name not in instruments:
            raise fail(f"thresholds.{name}", "names an unknown instrument")
    thresholds: dict[str, Thresholds] = {}
    for name, instrument in instruments.items():
        values = _as_table(threshold_data.get(name, {}), f"thresholds.{name}", fail)
        base = default_thresholds(instrument)
        changes: dict[str, float | int | None] = {}
        for key in THRESHOLD_FIELDS:
            full = f"thresholds.{name}.{key}"
            if key in values:
                changes[key] = _threshold(values[key], key, full, fail)
                sources[full] = "file"
            else:
                sources[full] = "default"
        for key in set(values) - set(THRESHOLD_FIELDS):
            raise fail(f"thresholds.{name}.{key}", "is not a known threshold")
        if "low_total" in changes and "early_total" not in changes:
            changes["early_total"] = changes["low_total"]  # early-risk follows the cut-off
            sources[f"thresholds.{name}.early_total"] = "file (follows low_total)"
        if "discrepancy" in changes and "discrepancy_patient_higher" not in changes:
            # the patient-higher direction follows the discrepancy threshold
            changes["discrepancy_patient_higher"] = changes["discrepancy"]
            sources[f"thresholds.{name}.discrepancy_patient_higher"] = "file (follows discrepancy)"
        thresholds[name] = Thresholds(**{**_as_dict(base), **changes})
    return Settings(
        path=path,
        exists=exists,
        instruments=instruments,
        rules=RuleSet(thresholds=thresholds, general=GeneralRules(**general_values)),
        sources=sources,
        clinician=clinician,
        suggestions=_suggestions(_table(data, "suggestions", fail), fail),
        repair_strategies=_strategies(_table(data, "repair", fail), fail, sources),
    )


def _strategies(data: dict[str, Any], fail: Any, sources: dict[str, str]) -> tuple[str, ...]:
    """`[repair] strategies = ["name", ...]`: a clinic's own repair strategies, offered
    after the built-in ones (which stay: stored repairs name them)."""
    for key in set(data) - {"strategies"}:
        raise fail(f"repair.{key}", "is not a known setting")
    names = data.get("strategies", [])
    sources["repair.strategies"] = "file" if "strategies" in data else "default"
    if not isinstance(names, list):
        raise fail("repair.strategies", "must be a list of names")
    added: list[str] = []
    for name in names:
        if not isinstance(name, str) or not name or not name.replace("-", "").isalnum():
            raise fail(
                "repair.strategies", f"must hold names of letters, digits and -, not {name!r}"
            )
        if name not in REPAIR_STRATEGIES and name not in added:
            added.append(name)
    return (*REPAIR_STRATEGIES, *added)


def _suggestions(data: dict[str, Any], fail: Any) -> Library:
    """`[suggestions.KIND]`: `TOPIC = ["text", ...]` (or `{text, source}` tables) replaces
    the built-in suggestions of that topic; `extend = true` adds them after them instead."""
    if not data:
        return BUILTIN_SUGGESTIONS
    changes: dict[str, dict[str, tuple[Suggestion, ...]]] = {}
    extend: set[str] = set()
    for kind, table in data.items():
        prefix = f"suggestions.{kind}"
        if kind not in SUGGESTION_KINDS:
            raise fail(prefix, f"is not a flag kind ({', '.join(SUGGESTION_KINDS)})")
        topics = dict(_as_table(table, prefix, fail))
        flag = topics.pop("extend", False)
        if not isinstance(flag, bool):
            raise fail(f"{prefix}.extend", "must be true or false")
        if flag:
            extend.add(kind)
        for topic, items in topics.items():
            key = f"{prefix}.{topic}"
            if topic not in SUGGESTION_TOPICS:
                raise fail(key, f"is not a topic ({', '.join(SUGGESTION_TOPICS)})")
            if not isinstance(items, list):
                raise fail(key, "must be a list of suggestions")
            topic = ANY_TOPIC if topic == "any" else topic
            changes.setdefault(kind, {})[topic] = tuple(_suggestion(i, key, fail) for i in items)
    return merged(BUILTIN_SUGGESTIONS, changes, extend)


def _suggestion(item: Any, key: str, fail: Any) -> Suggestion:
    text, source = (
        (item.get("text"), item.get("source")) if isinstance(item, dict) else (item, None)
    )
    if not isinstance(text, str) or not text.strip():
        raise fail(key, "must hold texts (or tables with a text and a source)")
    if isinstance(item, dict) and set(item) - {"text", "source"}:
        raise fail(key, "tables take only text and source")
    return Suggestion(text.strip(), str(source) if source else "config file")


def _as_dict(thresholds: Thresholds) -> dict[str, Any]:
    return {key: getattr(thresholds, key) for key in THRESHOLD_FIELDS}


def _table(data: dict[str, Any], key: str, fail: Any) -> dict[str, Any]:
    return _as_table(data.get(key, {}), key, fail)


def _as_table(value: Any, key: str, fail: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(key, "must be a table")
    return value


def _number(
    value: Any,
    key: str,
    fail: Any,
    *,
    integer: bool = False,
    minimum: float | None = None,
) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(key, f"must be a number, not {value!r}")
    if not math.isfinite(value):  # TOML has nan and inf: nan compares false with every total
        raise fail(key, f"must be a finite number, not {value!r}")
    if integer and not isinstance(value, int):
        raise fail(key, f"must be a whole number, not {value!r}")
    if minimum is not None and value < minimum:
        raise fail(key, f"must be at least {minimum:g}")
    return value if integer else float(value)


def _threshold(value: Any, name: str, key: str, fail: Any) -> float | int | None:
    if value is False or value == "off":
        if name not in OPTIONAL_FIELDS:
            raise fail(key, "cannot be switched off; give a number")
        return None  # `low_total = false` switches a rule off
    if name in INTEGER_FIELDS:
        return int(_number(value, key, fail, integer=True, minimum=MINIMUMS.get(name, 1)))
    number = float(_number(value, key, fail, minimum=0))
    if name == "rci_reliability" and not 0 <= number < 1:
        raise fail(key, "must be between 0 and 1")
    return number


def _instrument(name: str, spec: dict[str, Any], fail: Any) -> Instrument:
    prefix = f"instruments.{name}"
    for key in set(spec) - INSTRUMENT_KEYS:
        raise fail(f"{prefix}.{key}", "is not a known instrument setting")
    if not name.replace("-", "").replace("_", "").isalnum():
        raise fail(prefix, "needs a name of letters, digits, - and _")
    for required in ("items", "min", "max", *DIMENSIONS):
        if required not in spec:
            raise fail(f"{prefix}.{required}", "is missing")
    count = int(_number(spec["items"], f"{prefix}.items", fail, integer=True, minimum=1))
    low = float(_number(spec["min"], f"{prefix}.min", fail))
    high = float(_number(spec["max"], f"{prefix}.max", fail))
    if high <= low:
        raise fail(f"{prefix}.max", "must be greater than min")
    decimals = int(
        _number(spec.get("decimals", 0), f"{prefix}.decimals", fail, integer=True, minimum=0)
    )
    how = spec.get("score", "mean")
    if how not in ("value", "mean", "sum"):
        raise fail(f"{prefix}.score", "must be one of value, mean, sum")

    def item_list(value: Any, key: str) -> tuple[int, ...]:
        if not isinstance(value, list) or not value:
            raise fail(key, "must be a non-empty list of item numbers")
        numbers = []
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= count:
                raise fail(key, f"must hold item numbers from 1 to {count}, not {item!r}")
            numbers.append(item)
        return tuple(numbers)

    keys = {dim: item_list(spec[dim], f"{prefix}.{dim}") for dim in DIMENSIONS}
    extra = _as_table(spec.get("extra", {}), f"{prefix}.extra", fail)
    for extra_name, items in extra.items():
        if extra_name in (*DIMENSIONS, "total"):
            raise fail(f"{prefix}.extra.{extra_name}", "cannot redefine a Bordin score")
        keys[extra_name] = item_list(items, f"{prefix}.extra.{extra_name}")
    if how == "value" and any(len(keys[dim]) != 1 for dim in DIMENSIONS):
        raise fail(f"{prefix}.score", '"value" needs exactly one item per dimension')
    return Instrument(
        name=name,
        title=str(spec.get("title", name)),
        item_count=count,
        item_min=low,
        item_max=high,
        decimals=decimals,
        keys=keys,
        dimension_score=how,
        source=str(spec.get("source", "config file")),
        builtin=False,
        extra=tuple(extra),
    )
