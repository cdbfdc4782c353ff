"""The domain vocabulary (domain/vocabulary.py): the words the database stores, and a
stored word the vocabulary does not know is a damaged file, not a crash."""

from __future__ import annotations

from datetime import date

import pytest

from alliance_cli.domain.vocabulary import (
    Adherence,
    Ending,
    GoalStatus,
    Marker,
    PatientStatus,
    Rater,
    Severity,
    TaskStatus,
)
from tests.conftest import Cli


def test_the_words_are_the_stored_strings() -> None:
    assert [str(s) for s in Severity] == ["alert", "watch", "info"]
    assert list(Rater) == ["patient", "therapist"]
    assert list(Marker) == ["none", "withdrawal", "confrontation"]
    assert list(PatientStatus) == ["active", "discharged"]
    assert list(GoalStatus) == ["active", "achieved", "dropped"]
    assert list(TaskStatus) == ["active", "completed", "dropped"]
    assert list(Adherence) == ["done", "partly", "not-done"]
    assert list(Ending) == ["mutual", "dropout", "referred", "moved", "other"]


@pytest.mark.parametrize(
    ("table", "column", "command"),
    [
        ("session_rating", "rater", ("session", "list", "P1")),
        ("goal", "status", ("goal", "list", "P1", "--all")),
        ("patient", "status", ("patient", "show", "P1")),
    ],
)
def test_a_stored_word_out_of_the_vocabulary_is_a_damaged_database(
    fixed_today: date, cli: Cli, table: str, column: str, command: tuple[str, ...]
) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    cli.ok(
        "session", "add", "P1", "--date", "2026-11-20", "--bond", "7", "--goal", "7", "--task", "7"
    )
    cli.ok("goal", "add", "P1", "Walk daily", "--date", "2026-11-02")
    try:
        cli.sql(f"UPDATE {table} SET {column} = 'robot'")
    except Exception:  # a CHECK constraint keeps the word out: nothing to read back
        pytest.skip(f"{table}.{column} is checked by the database itself")
    result = cli(*command)
    assert result.exit_code == 4, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "robot" not in result.stderr
    assert result.stderr.startswith("error: the database holds a damaged value")
