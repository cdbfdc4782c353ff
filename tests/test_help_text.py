"""Usage lines and help read like a Unix tool's: `CODE`, `--note TEXT`, no Python types."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Cli
from tests.test_missing_database import command_tree


@pytest.fixture(autouse=True)
def _room(request: pytest.FixtureRequest) -> None:
    """The SQLite file's directory exists (alliance creates only its own data directory)."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").make_room()


TYPE_MARKER = re.compile(r"<(str|int|float|bool|[a-z]+\|[a-z|]+)>|\{[a-z_]+\}")


@pytest.mark.parametrize("command", sorted(command_tree()), ids=" ".join)
def test_help_names_values_not_python_types(cli: Cli, command: tuple[str, ...]) -> None:
    result = cli(*command, "--help")
    assert result.exit_code == 0, result.stderr
    assert not TYPE_MARKER.search(result.stdout), result.stdout
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("Usage: alliance " + " ".join(command))


def test_arguments_are_capitals_and_scores_say_score(cli: Cli) -> None:
    shown = cli("session", "add", "--help").stdout
    assert "Usage: alliance session add [OPTIONS] CODE" in shown
    assert "--bond SCORE" in shown and "--note TEXT" in shown
    assert "--rater patient|therapist" in shown
    status = cli("goal", "status", "--help").stdout
    assert "GOAL_ID achieved|dropped|active" in status.splitlines()[0]


def test_a_refused_choice_says_so_without_pydantic_words(cli: Cli) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-01-05")
    result = cli("session", "add", "P1", "--rater", "therpist", "--bond", "5")
    assert result.exit_code == 2
    assert "'therpist' is not one of 'patient', 'therapist'" in result.stderr
    assert "Value error" not in result.stderr
