"""Audit trail (who changed what, never the content) and undo."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Cli

SENTINEL = "SENTINEL-a11ce"


def log(cli: Cli, *args: str) -> list[dict[str, object]]:
    return json.loads(cli.ok("log", *args, "--format", "json").stdout)


def test_every_change_is_recorded_without_content(p014: Cli) -> None:
    from alliance_cli.clinician import os_user

    clinician = os_user() if p014.is_sqlite else "postgres"  # the clinician (the role)
    p014.ok("session", "edit", "1", "--note", SENTINEL)
    entries = log(p014)
    assert [e["action"] for e in entries] == [
        "patient.add",
        "goal.add",
        "task.add",
        "session.add",
        "session.edit",
    ]
    last = entries[-1]
    assert (last["entity"], last["record_id"], last["patient"], last["actor"]) == (
        "session_rating",
        1,
        "P014",
        clinician,
    )
    audit = p014.rows("audit_log")
    assert SENTINEL not in repr(audit) and "back to running" not in repr(audit)
    assert log(p014, "P014") == entries
    assert log(p014, "--since", "2999-01-01") == []


def test_the_audit_trail_is_append_only(p014: Cli) -> None:
    before = p014.dump()
    for statement in (
        "DELETE FROM audit_log",
        "UPDATE audit_log SET action = 'forged'",
        "UPDATE audit_log SET actor = 'someone else'",
        "UPDATE audit_log SET undone = true",  # undo appends instead (schema 0007)
        "UPDATE audit_log SET undoes = txn",
    ):
        with pytest.raises(Exception, match="append-only"):  # sqlite3 or psycopg error
            p014.sql(statement)
    assert p014.dump() == before


def test_erasure_leaves_no_patient_data_in_the_audit_trail(p014: Cli) -> None:
    p014.ok("session", "edit", "1", "--note", SENTINEL)
    p014.ok("patient", "delete", "P014", "--yes")
    entries = log(p014)
    assert entries[-1]["action"] == "patient.delete"
    hashes = {e["patient"] for e in entries}
    assert len(hashes) == 1 and str(hashes.pop()).startswith("sha256:")
    dump = "\n".join(p014.dump())
    for secret in ("P014", SENTINEL, "back to running", "Run 5 km"):
        assert secret not in dump, secret
    assert p014.rows("undo_step") == []


def test_undo_reverts_a_mistyped_score(p014: Cli) -> None:
    before = p014.rows("session_rating")
    p014.ok("session", "edit", "1", "--bond", "2")
    result = p014.ok("undo", "--yes")
    assert "session.edit session_rating 1 of P014" in result.stderr
    assert p014.rows("session_rating") == before
    assert log(p014)[-2]["undone"] is True


def test_undo_of_add_and_of_delete(p014: Cli) -> None:
    p014.ok(
        "session",
        "add",
        "P014",
        "--date",
        "2026-02-09",
        "--bond",
        "5",
        "--goal",
        "5",
        "--task",
        "5",
    )
    p014.ok("undo", "--yes")
    assert len(p014.rows("session_rating")) == 1
    before = p014.rows("session_rating")
    p014.ok("session", "delete", "1", "--yes")
    assert p014.rows("session_rating") == []
    p014.ok("undo", "--yes")
    assert p014.rows("session_rating") == before  # same id, same values


def test_undo_walks_back_one_change_at_a_time(p014: Cli) -> None:
    p014.ok("patient", "edit", "P014", "--beliefs", "pain means damage")
    p014.ok("goal", "status", "1", "achieved")
    p014.ok("undo", "--yes")
    goals = json.loads(p014.ok("goal", "list", "P014", "--format", "json").stdout)
    assert goals[0]["status"] == "active" and goals[0]["reviews"] == []
    p014.ok("undo", "--yes")
    shown = json.loads(p014.ok("patient", "show", "P014", "--format", "json").stdout)
    assert shown["patient"]["beliefs"] is None


def test_undo_asks_and_refuses_off_a_terminal(p014: Cli) -> None:
    before = p014.dump()
    result = p014("undo")
    assert result.exit_code == 1 and "--yes" in result.stderr
    assert p014.dump() == before


def test_erasure_and_import_cannot_be_undone(p014: Cli) -> None:
    p014.ok("patient", "add", "P020")
    p014.ok("patient", "delete", "P020", "--yes")
    result = p014("undo", "--yes")
    assert result.exit_code == 1 and "cannot be undone" in result.stderr


def test_nothing_to_undo(cli: Cli) -> None:
    cli.make_room()
    cli.ok("patient", "add", "P1")  # a database exists only once something was stored
    cli.ok("undo", "--yes")
    result = cli("undo", "--yes")
    assert result.exit_code == 1 and "nothing to undo" in result.stderr
