"""`alliance config show`: every effective setting, where it came from, the instruments."""

from __future__ import annotations

from alliance_cli.config import Settings
from alliance_cli.domain.suggestions import ANY, BUILTIN, Suggestion
from alliance_cli.render.console import out
from alliance_cli.render.formats import print_json
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.tables import Column, print_table

JSON = "json"


def _setting_value(value: object) -> object:
    return "off" if value is None else value


def config_settings(config: Settings, fmt: str) -> None:
    """Every effective setting with its source, and the instruments available."""
    from alliance_cli.domain.rules import THRESHOLD_FIELDS

    rows: list[tuple[str, object, str]] = []
    for key in sorted(k for k in config.sources if k.startswith("general.")):
        rows.append((key, getattr(config.rules.general, key.split(".", 1)[1]), config.sources[key]))
    for name in sorted(config.instruments):
        thresholds = config.rules.for_instrument(name)
        for field in THRESHOLD_FIELDS:
            key = f"thresholds.{name}.{field}"
            rows.append((key, getattr(thresholds, field), config.sources.get(key, "default")))
    strategies = ", ".join(config.repair_strategies)
    rows.append(
        ("repair.strategies", strategies, config.sources.get("repair.strategies", "default"))
    )
    instruments = [
        {
            "name": i.name,
            "title": i.title,
            "items": i.item_count,
            "range": [i.item_min, i.item_max],
            "keys": {k: list(v) for k, v in i.keys.items()},
            "score": i.dimension_score,
            "builtin": i.builtin,
            "source": i.source,
        }
        for i in sorted(config.instruments.values(), key=lambda i: i.name)
    ]
    if fmt == JSON:
        print_json(
            {
                "path": str(config.path),
                "exists": config.exists,
                "settings": [{"key": k, "value": v, "source": s} for k, v, s in rows],
                "instruments": instruments,
                "suggestions": [
                    {"kind": kind, "topic": topic, "text": item.text, "source": item.source}
                    for kind, topic, items in _suggestion_topics(config)
                    for item in items
                ],
            }
        )
        return
    state = "" if config.exists else " (not present: defaults apply)"
    out(one_line(f"config file: {config.path}{state}"))
    out()
    print_table(
        [Column("setting"), Column("value", numeric=True), Column("source")],
        [[k, f"{_setting_value(v)}", s] for k, v, s in rows],
    )
    out()
    print_table(
        [Column("instrument"), Column("items", numeric=True), Column("range"), Column("source")],
        [
            [i.name, str(i.item_count), i.scale, i.source]
            for i in sorted(config.instruments.values(), key=lambda i: i.name)
        ],
        title="Instruments",
    )
    out()
    print_table(
        [Column("kind"), Column("topic"), Column("suggestions", numeric=True), Column("from")],
        [
            [kind, topic, str(len(items)), _origin(kind, topic, items)]
            for kind, topic, items in _suggestion_topics(config)
        ],
        title="Suggestions (see them with `alliance flags --suggest`)",
    )


def _suggestion_topics(config: Settings) -> list[tuple[str, str, tuple[Suggestion, ...]]]:
    return [
        (kind, "any" if topic == ANY else topic, items)
        for kind, topics in config.suggestions.items()
        for topic, items in topics.items()
    ]


def _origin(kind: str, topic: str, items: tuple[Suggestion, ...]) -> str:
    """Built in, from the config file, or both (a clinic's `extend = true`)."""
    builtin = BUILTIN.get(kind, {}).get(ANY if topic == "any" else topic, ())
    if items == builtin:
        return "built in"
    if builtin and items[: len(builtin)] == builtin:
        return "built in + file"
    return "file"
