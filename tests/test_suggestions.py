"""The suggestion library: data with a source per entry, a clinic's changes on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alliance_cli.config import ConfigError, _settings
from alliance_cli.domain.flag_model import KINDS
from alliance_cli.domain.suggestions import ANY, BUILTIN, Suggestion, suggestions_for
from tests.conftest import Cli


@pytest.fixture(autouse=True)
def _room(request: pytest.FixtureRequest) -> None:
    """The SQLite file's directory exists (alliance creates only its own data directory)."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").make_room()


CONFIG = Path("/nowhere/config.toml")
DIMENSION_KINDS = ("low", "drop", "decline", "rupture", "discrepancy")
NEW_KINDS = ("reported-rupture", "unnoticed-rupture")  # issue 15, part 4


@pytest.mark.parametrize("kind", [*KINDS, *NEW_KINDS])
@pytest.mark.parametrize("dimension", ["bond", "goal", "task", "total", None])
def test_every_flag_kind_and_dimension_has_a_suggestion(kind: str, dimension: str | None) -> None:
    found = suggestions_for(BUILTIN, kind, dimension)
    assert found, (kind, dimension)
    assert all(item.text.strip() and item.source.strip() for item in found)


@pytest.mark.parametrize("kind", DIMENSION_KINDS)
def test_a_dimension_has_its_own_suggestions(kind: str) -> None:
    """A bond drop and a task drop call for different things: not the kind's fallback."""
    shown = {dim: suggestions_for(BUILTIN, kind, dim) for dim in ("bond", "goal", "task")}
    assert len({items for items in shown.values()}) == 3
    assert all(items != BUILTIN[kind].get(ANY) for items in shown.values())


def test_a_rupture_marker_comes_before_its_dimension() -> None:
    withdrawal = suggestions_for(BUILTIN, "rupture", "total", "withdrawal")
    confrontation = suggestions_for(BUILTIN, "rupture", "total", "confrontation")
    assert withdrawal != confrontation
    assert withdrawal == BUILTIN["rupture"]["withdrawal"]


def test_every_source_names_a_publication_and_texts_are_short() -> None:
    for topics in BUILTIN.values():
        for items in topics.values():
            for item in items:
                assert any(ch.isdigit() for ch in item.source), item  # a year at least
                assert len(item.text) <= 75 and item.text[-1] in ".?", item


def test_a_clinic_replaces_or_extends_suggestions() -> None:
    settings = _settings(
        CONFIG,
        True,
        {
            "suggestions": {
                "rupture": {"bond": ["Our own first step."]},
                "low": {
                    "extend": True,
                    "task": [{"text": "Use the exercise diary.", "source": "clinic protocol 4"}],
                },
            }
        },
    )
    bond = suggestions_for(settings.suggestions, "rupture", "bond")
    assert bond == (Suggestion("Our own first step.", "config file"),)
    task = suggestions_for(settings.suggestions, "low", "task")
    assert task[: len(BUILTIN["low"]["task"])] == BUILTIN["low"]["task"]
    assert task[-1] == Suggestion("Use the exercise diary.", "clinic protocol 4")
    assert suggestions_for(settings.suggestions, "rupture", "goal") == BUILTIN["rupture"]["goal"]


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"rupturee": {"bond": ["x"]}}, "suggestions.rupturee"),
        ({"rupture": {"mood": ["x"]}}, "suggestions.rupture.mood"),
        ({"rupture": {"bond": "x"}}, "suggestions.rupture.bond"),
        ({"rupture": {"bond": [""]}}, "suggestions.rupture.bond"),
        ({"rupture": {"bond": [{"text": "x", "url": "y"}]}}, "suggestions.rupture.bond"),
        ({"rupture": {"extend": "yes"}}, "suggestions.rupture.extend"),
        ({"rupture": ["x"]}, "suggestions.rupture"),
    ],
)
def test_a_bad_suggestion_entry_names_its_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError, match=f"{key} "):
        _settings(CONFIG, True, {"suggestions": data})


def test_config_show_lists_where_suggestions_come_from(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[suggestions.low]\nextend = true\nany = ["Ask about sleep."]\n')
    monkeypatch.setenv("ALLIANCE_CONFIG", str(path))
    shown = cli.ok("config", "show").stdout
    assert any(
        line.split()[:2] == ["low", "any"] and "built in + file" in line
        for line in shown.splitlines()
    )
    data = json.loads(cli.ok("config", "show", "--format", "json").stdout)
    low_any = [s for s in data["suggestions"] if (s["kind"], s["topic"]) == ("low", "any")]
    assert low_any[-1] == {
        "kind": "low",
        "topic": "any",
        "text": "Ask about sleep.",
        "source": "config file",
    }


def test_flags_suggest_adds_what_to_try(cli: Cli, fixed_today: object) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-09-01")
    for day in ("2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26"):
        cli.ok("session", "add", "P1", "--date", day, "--bond", "9", "--goal", "9", "--task", "9")
    cli.ok(
        "session", "add", "P1", "--date", "2026-11-30", "--bond", "4", "--goal", "9", "--task", "9"
    )
    plain = cli.ok("flags").stdout
    assert "What to try" not in plain
    shown = cli.ok("flags", "--suggest").stdout
    assert "What to try (suggestions only: you decide)" in shown
    tips = [line for line in shown.splitlines() if line.startswith("  - ")]
    assert 1 <= len(tips) <= 3
    assert "Name the strain gently" in shown  # the bond drop leads: bond suggestions
    assert "(sources: " in shown
    data = json.loads(cli.ok("flags", "--suggest", "--format", "json").stdout)
    assert data and all(flag["suggestions"] for flag in data)
    assert all({"text", "source"} == set(s) for flag in data for s in flag["suggestions"])
    assert json.loads(cli.ok("flags", "--format", "json").stdout)[0].keys() == data[0].keys() - {
        "suggestions"
    }
    csv_text = cli.ok("flags", "--suggest", "--format", "csv").stdout
    assert csv_text.splitlines()[0].endswith(",suggestions")


def test_the_readme_example_is_a_valid_config() -> None:
    import re
    import tomllib

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Before the next session\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    settings = _settings(CONFIG, True, tomllib.loads(block))
    assert suggestions_for(settings.suggestions, "rupture", "bond")[0].source == "config file"
    missed = suggestions_for(settings.suggestions, "tasks-missed")
    assert missed[-1] == Suggestion("Check the exercise diary together.", "clinic protocol 4")
