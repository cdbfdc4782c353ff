"""The clinic's walls on PostgreSQL (schema 0007), tested with real login roles as a
clinician would use them in `psql`: a patient goes only to a clinician's own login, a
refused transfer tells nothing about another caseload, and the audit trail only grows,
stamped by the database, while undo and erasure keep working for a clinician."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests import backends, test_clinic
from tests.conftest import Cli

clinic = test_clinic.clinic  # the fixture: two clinician roles and a supervisor
RATED = test_clinic.RATED
AUDIT_COLUMNS = "(txn, at, actor, machine, action, entity, record_id, patient_id, undone)"


def scalar(cli: Cli, statement: str) -> Any:
    return cli.sql(statement)[0][0]


@contextmanager
def extra_roles(*statements: str, names: list[str]) -> Iterator[None]:
    """Roles made for one test (run as the administrator), dropped after."""
    admin = backends.admin_url()
    assert admin is not None
    try:
        with backends.connect(admin) as conn:
            for statement in statements:
                conn.execute(statement)
        yield
    finally:
        with backends.connect(admin) as conn:
            for name in names:
                conn.execute(f'DROP ROLE IF EXISTS "{name}"')


def test_a_patient_goes_only_to_a_clinician_login_nobody_else_can_become(
    clinic: dict[str, str],
) -> None:
    a, b, owner = Cli(clinic["dr_a"]), Cli(clinic["dr_b"]), Cli(clinic["owner"])
    a.ok("patient", "add", "P777", "--note", "history")
    a.ok("patient", "add", "B_ONLY")
    b.ok("patient", "add", "B_ONLY")
    database = clinic["owner"].rsplit("/", 1)[1]
    tag = uuid.uuid4().hex[:8]
    shared, bypass, group, dba = (f"{k}_{tag}" for k in ("shared", "bypass", "group", "dba"))
    superuser = scalar(owner, "SELECT current_user")
    with extra_roles(
        # a login that dr_b may SET ROLE to (and whose privileges dr_b inherits)
        f'CREATE ROLE "{shared}" LOGIN IN ROLE alliance_clinician',
        f'GRANT "{shared}" TO "{clinic["dr_b_role"]}"',
        f'CREATE ROLE "{bypass}" LOGIN BYPASSRLS IN ROLE alliance_clinician',
        f'CREATE ROLE "{group}" NOLOGIN IN ROLE alliance_clinician',
        f'CREATE ROLE "{dba}" LOGIN IN ROLE alliance_clinician',
        f'ALTER DATABASE "{database}" OWNER TO "{dba}"',
        names=[shared, bypass, group, dba],
    ):
        try:
            refused = [
                ("P777", "alliance_clinician"),  # every clinician can SET ROLE to it
                ("P777", "alliance_supervisor"),
                ("P777", superuser),
                ("P777", dba),  # the database owner
                ("P777", shared),
                ("P777", bypass),
                ("P777", group),
                ("P777", f"nobody_{tag}"),
                ("B_ONLY", clinic["dr_b_role"]),  # code taken in dr_b's caseload
            ]
            answers = set()
            for code, target in refused:
                result = a("patient", "transfer", code, target)
                assert result.exit_code == 1, (target, result.stderr)
                answers.add(result.stderr.replace(code, "CODE").replace(target, "ROLE"))
            assert len(answers) == 1 and "could not transfer" in answers.pop()
            # The database function itself, as `psql` would call it: one answer for all.
            for code, target in refused:
                pid = scalar(a, f"SELECT id FROM patient WHERE code = '{code}'")
                got = scalar(a, f"SELECT alliance_transfer_patient({pid}, '{target}')")
                assert got == "refused", target
        finally:
            with backends.connect(backends.admin_url() or "") as conn:
                conn.execute(f'ALTER DATABASE "{database}" OWNER TO "{superuser}"')
    assert sorted(code for (code,) in a.sql("SELECT code FROM patient")) == ["B_ONLY", "P777"]
    assert scalar(owner, "SELECT count(*) FROM patient WHERE clinician = 'alliance_clinician'") == 0
    a.ok("patient", "transfer", "P777", clinic["dr_b_role"])
    assert [code for (code,) in b.sql("SELECT code FROM patient ORDER BY code")] == [
        "B_ONLY",
        "P777",
    ]
    log = json.loads(a.ok("log", "-f", "json").stdout)
    assert log[-1]["action"] == "patient.transfer" and log[-1]["actor"] == clinic["dr_a_role"]


def test_clinicians_only_append_to_the_audit_trail_and_the_database_stamps_it(
    clinic: dict[str, str],
) -> None:
    import psycopg

    a, b, owner = Cli(clinic["dr_a"]), Cli(clinic["dr_b"]), Cli(clinic["owner"])
    a.ok("patient", "add", "PZQ9")
    a.ok("session", "add", "PZQ9", "--date", "2026-11-20", *RATED)
    b.ok("patient", "add", "B1")
    mine = scalar(a, "SELECT id FROM patient WHERE code = 'PZQ9'")
    theirs = scalar(b, "SELECT id FROM patient WHERE code = 'B1'")
    trail = owner.rows("audit_log")
    for statement in (
        "UPDATE audit_log SET undone = true",
        "UPDATE audit_log SET patient_id = NULL",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            a.sql(statement)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        a.sql(  # a row naming another clinician's patient
            f"INSERT INTO audit_log {AUDIT_COLUMNS} VALUES ('t', '2020-01-01', "
            f"current_user, 'm', 'session.add', 'session_rating', 1, {theirs}, false)"
        )
    assert owner.rows("audit_log") == trail
    # Numbered before the others, backdated, in another's name, from elsewhere, marked
    # undone: the database says which row, who, when and from where itself.
    forged = a.sql(
        f"INSERT INTO audit_log (id, {AUDIT_COLUMNS[1:-1]}, patient_hash) VALUES (0, 't', "
        f"'2020-01-01', '{clinic['dr_b_role']}', 'elsewhere', 'patient.edit', 'patient', "
        f"{mine}, {mine}, true, 'sha256:0') "
        "RETURNING id, actor, at = now() AT TIME ZONE 'UTC', machine, undone, patient_hash"
    )
    row_id, actor, now, machine, undone, digest = forged[0]
    assert row_id > max(int(str(row[0])) for row in trail)
    assert (actor, now, undone, digest) == (clinic["dr_a_role"], True, False, None)
    assert str(machine).startswith("elsewhere (") and str(machine).endswith(")")
    # An undo row naming someone else's change marks nothing.
    txn = scalar(owner, f"SELECT txn FROM audit_log WHERE patient_id = {mine} ORDER BY id LIMIT 1")
    b.sql(
        f"INSERT INTO audit_log {AUDIT_COLUMNS[:-1]}, undoes) VALUES ('u', now(), "
        f"current_user, 'm', 'undo', 'patient', NULL, NULL, false, '{txn}')"
    )
    assert not any(e["undone"] for e in json.loads(a.ok("log", "-f", "json").stdout))


def test_undo_and_erasure_keep_working_for_a_clinician(clinic: dict[str, str]) -> None:
    from alliance_cli.store.audit import code_hash

    a, owner = Cli(clinic["dr_a"]), Cli(clinic["owner"])
    a.ok("patient", "add", "PZQ9")
    a.ok("session", "add", "PZQ9", "--date", "2026-11-20", *RATED)
    rating = json.loads(a.ok("session", "list", "PZQ9", "-f", "json").stdout)[0]["id"]
    a.ok("session", "edit", str(rating), "--bond", "2")
    a.ok("undo", "--yes")
    shown = json.loads(a.ok("session", "list", "PZQ9", "-f", "json").stdout)
    assert shown[0]["bond"] == 3
    log = json.loads(a.ok("log", "-f", "json").stdout)
    assert [(e["action"], e["undone"]) for e in log[-2:]] == [
        ("session.edit", True),
        ("undo", False),
    ]
    assert all(e["actor"] == clinic["dr_a_role"] for e in log)
    a.ok("patient", "add", "P_GONE")  # undoing an add removes the patient it names
    a.ok("undo", "--yes")
    assert [c for (c,) in a.sql("SELECT code FROM patient")] == ["PZQ9"]
    again = a("undo", "--yes")  # the edit is undone already; the add before it is next
    assert again.exit_code == 0, again.stderr
    pid = scalar(owner, "SELECT id FROM patient WHERE code = 'PZQ9'")
    a.ok("patient", "delete", "PZQ9", "--yes")
    assert scalar(owner, f"SELECT count(*) FROM audit_log WHERE patient_id = {pid}") == 0
    hashes = {h for (h,) in owner.sql("SELECT DISTINCT patient_hash FROM audit_log")}
    assert code_hash("PZQ9") in hashes  # the database's hash is alliance's
    assert "PZQ9" not in "\n".join(owner.dump())
    assert json.loads(a.ok("log", "-f", "json").stdout)[-1]["action"] == "patient.delete"


def test_a_clinic_database_of_schema_0006_is_walled_on_upgrade() -> None:
    from alliance_cli.store.migrate import upgrade
    from alliance_cli.store.schema import SCHEMA_HEAD

    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    with backends.fresh_database(admin, migrated=False) as url:
        upgrade(url, "0006")
        owner = Cli(url)
        owner.sql(
            "INSERT INTO patient (clinician, code, status, instrument, created) "
            "VALUES (current_user, 'OLD1', 'active', 'quick', now())"
        )
        owner.sql(
            f"INSERT INTO audit_log {AUDIT_COLUMNS} SELECT 'legacy', now(), current_user, "
            "'host', 'patient.edit', 'patient', id, id, true FROM patient"
        )
        listed = json.loads(owner.ok("patient", "list", "-f", "json").stdout)  # upgrades
        assert [p["code"] for p in listed] == ["OLD1"]
        assert owner.sql("SELECT version_num FROM alembic_version") == [(SCHEMA_HEAD,)]
        assert json.loads(owner.ok("log", "-f", "json").stdout)[0]["undone"] is True
        assert owner.sql(
            "SELECT has_table_privilege('alliance_clinician', 'audit_log', 'UPDATE')"
        ) == [(False,)]
        with pytest.raises(Exception, match="append-only"):
            owner.sql("UPDATE audit_log SET undone = false")
        pid = scalar(owner, "SELECT id FROM patient")
        got = scalar(owner, f"SELECT alliance_transfer_patient({pid}, 'alliance_clinician')")
        assert got == "refused"
