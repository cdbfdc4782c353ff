"""Clinicians and caseloads: each clinician sees and changes only their own patients.

On a SQLite file the CLI keeps caseloads apart (`--clinician`); on PostgreSQL the database
does, with row-level security keyed on the connecting role: tested with two real login
roles and a supervisor, through the CLI and through raw SQL (as `psql` would).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests import backends
from tests.conftest import FIXED_TODAY, Cli

RATED = ("--bond", "3", "--goal", "3", "--task", "3")


@pytest.fixture
def shared(fixed_today: date, tmp_path: Path) -> Cli:
    """A SQLite file shared by dr_a and dr_b, each with a patient P1 (and dr_a a P2), as of
    the fixed day (the sessions below are from November 2026)."""
    cli = Cli(tmp_path / "clinic.db")
    cli.ok("--clinician", "dr_a", "patient", "add", "P1", "--name", "Ann of A")
    cli.ok("--clinician", "dr_a", "session", "add", "P1", "--date", "2026-11-20", *RATED)
    cli.ok("--clinician", "dr_a", "goal", "add", "P1", "Walk to the shop")
    cli.ok("--clinician", "dr_a", "patient", "add", "P2")
    cli.ok("--clinician", "dr_b", "patient", "add", "P1", "--name", "Bob of B")
    return cli


def codes(cli: Cli, *args: str) -> list[tuple[str, str]]:
    rows = json.loads(cli.ok(*args, "patient", "list", "--all", "-f", "json").stdout)
    return [(row["clinician"], row["code"]) for row in rows]


@pytest.mark.sqlite_only
def test_each_clinician_sees_only_their_caseload(shared: Cli) -> None:
    assert codes(shared, "--clinician", "dr_a") == [("dr_a", "P1"), ("dr_a", "P2")]
    assert codes(shared, "--clinician", "dr_b") == [("dr_b", "P1")]
    shown = shared.ok("--clinician", "dr_b", "patient", "show", "P1", "-f", "json").stdout
    assert json.loads(shown)["patient"]["name"] == "Bob of B"
    missing = shared("--clinician", "dr_b", "session", "list", "P2")
    assert missing.exit_code == 1 and "unknown patient 'P2'" in missing.stderr


@pytest.mark.sqlite_only
def test_records_of_another_caseload_cannot_be_reached_by_id(shared: Cli) -> None:
    before = shared.dump()
    for args in (
        ("goal", "status", "1", "achieved"),
        ("session", "edit", "1", "--note", "changed"),
        ("session", "delete", "1", "--yes"),
    ):
        result = shared("--clinician", "dr_b", *args)
        assert result.exit_code == 1, (args, result.stderr)
        assert "unknown" in result.stderr
    assert shared.dump() == before


@pytest.mark.sqlite_only
def test_the_clinician_comes_from_option_env_config_or_os_user(
    shared: Cli, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    monkeypatch.setenv("ALLIANCE_CLINICIAN", "dr_b")
    assert codes(shared) == [("dr_b", "P1")]
    assert codes(shared, "--clinician", "dr_a")[0] == ("dr_a", "P1")
    monkeypatch.delenv("ALLIANCE_CLINICIAN")
    config = isolated_home / ".config" / "alliance" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[general]\nclinician = "dr_a"\n')
    assert codes(shared) == [("dr_a", "P1"), ("dr_a", "P2")]
    config.unlink()
    assert codes(shared) == []  # the OS user has no patients here
    bad = shared("--clinician", " ", "patient", "list")
    assert bad.exit_code == 1 and "clinician name" in bad.stderr


def november_summary(cli: Cli, *args: str) -> dict[str, Any]:
    period = ("--since", "2026-11-01", "--until", "2026-11-27", "-f", "json")
    summary: dict[str, Any] = json.loads(cli.ok(*args, *period).stdout)
    return summary


@pytest.mark.sqlite_only
def test_all_clinicians_lists_flags_and_summarises_the_clinic(shared: Cli) -> None:
    rows = json.loads(
        shared.ok("patient", "list", "--all-clinicians", "-f", "json").stdout  # any clinician
    )
    assert sorted((r["clinician"], r["code"]) for r in rows) == [
        ("dr_a", "P1"),
        ("dr_a", "P2"),
        ("dr_b", "P1"),
    ]
    table = shared.ok("patient", "list", "--all-clinicians").stdout
    assert table.splitlines()[0].split()[0] == "clinician"
    flags = json.loads(shared.ok("flags", "--all-clinicians", "-f", "json").stdout)
    assert {(f["clinician"], f["patient"]) for f in flags} >= {("dr_a", "P1")}
    report = november_summary(shared, "summary", "--all-clinicians")
    lines = {c["clinician"]: c for c in report["clinicians"]}
    assert lines["dr_a"]["sessions"] == 1 and lines["dr_a"]["alerts"] >= 1
    assert lines["dr_b"]["sessions"] == 0 and lines["dr_b"]["no_contact"] == 1
    assert [p["patient"] for p in report["patients"]] == ["dr_a/P1"]
    mine = november_summary(shared, "--clinician", "dr_b", "summary")
    assert mine["patients"] == [] and "clinicians" not in mine


@pytest.mark.sqlite_only
def test_a_shared_file_streams_only_the_chosen_patients_rows(shared: Cli) -> None:
    """Reports over a shared file read only the caseload asked for: another clinician's
    ratings (and discharged patients', when only active ones are wanted) are left out
    in SQL, before Python decodes them."""
    from alliance_cli.paths import resolve_database
    from alliance_cli.services.reports.caseload import SOME_SERIES_SQL, _series
    from alliance_cli.store.engine import open_database

    shared.ok("--clinician", "dr_b", "session", "add", "P1", "--date", "2026-11-21", *RATED)
    shared.ok("--clinician", "dr_a", "session", "add", "P2", "--date", "2026-11-22", *RATED)
    ending = ("--ending", "mutual")
    shared.ok("--clinician", "dr_a", "patient", "discharge", "P2", "--date", "2026-11-23", *ending)
    db = open_database(resolve_database(shared.db), clinician="dr_a")
    try:
        with db.read() as session:

            def days(**chosen: Any) -> list[str]:
                return sorted(str(row[0]) for row in _series(session, **chosen))

            assert days(active_only=True, clinician="dr_a") == ["2026-11-20"]
            assert days(active_only=False, clinician="dr_a") == ["2026-11-20", "2026-11-22"]
            assert days(active_only=True, clinician=None) == ["2026-11-20", "2026-11-21"]
            assert len(days(active_only=False, clinician=None)) == 3
            # Streamed in index order, never sorted whole (memory: one patient at a time).
            plan = session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN "
                + SOME_SERIES_SQL.format(where="p.clinician = ? AND p.status = 'active'"),
                ("dr_a",),
            )
            assert "TEMP B-TREE" not in " ".join(str(row[-1]) for row in plan)
    finally:
        db.close()


@pytest.mark.sqlite_only
def test_transfer_hands_the_whole_history_over(shared: Cli) -> None:
    clash = shared("--clinician", "dr_a", "patient", "transfer", "P1", "dr_b")
    assert clash.exit_code == 1 and "already has a patient 'P1'" in clash.stderr
    shared.ok("--clinician", "dr_a", "patient", "transfer", "P2", "dr_b")
    assert codes(shared, "--clinician", "dr_b") == [("dr_b", "P1"), ("dr_b", "P2")]
    assert codes(shared, "--clinician", "dr_a") == [("dr_a", "P1")]
    log = json.loads(shared.ok("--clinician", "dr_a", "log", "-f", "json").stdout)
    assert log[-1]["action"] == "patient.transfer" and log[-1]["actor"] == "dr_a"
    same = shared("--clinician", "dr_b", "patient", "transfer", "P2", "dr_b")
    assert same.exit_code == 1


@pytest.mark.sqlite_only
def test_an_older_file_belongs_to_whoever_upgrades_it(tmp_path: Path) -> None:
    import shutil

    db = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "schema-0004.db", db)
    cli = Cli(db)
    owned = codes(cli, "--clinician", "dr_solo")
    assert owned and {who for who, _ in owned} == {"dr_solo"}
    assert codes(cli, "--clinician", "someone_else") == []


def test_admin_commands_need_postgresql(cli: Cli) -> None:
    cli.make_room()
    if cli.is_sqlite:
        result = cli("admin", "grant-clinician", "dr_a")
        assert result.exit_code == 1 and "PostgreSQL" in result.stderr
    else:
        missing = cli("admin", "grant-clinician", f"nobody_{uuid.uuid4().hex[:8]}")
        assert missing.exit_code == 1 and "does not exist" in missing.stderr


# ------------------------------------------------------------------ PostgreSQL roles


@pytest.fixture
def clinic(fixed_today: date) -> Iterator[dict[str, str]]:
    """A database with two clinician roles and a supervisor role: {name: URL} (as of the
    fixed day: the sessions of these tests are from November 2026)."""
    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    suffix = uuid.uuid4().hex[:8]
    names = {kind: f"{kind}_{suffix}" for kind in ("dr_a", "dr_b", "sup")}
    with backends.fresh_database(admin) as url:
        with backends.connect(admin) as conn:
            for role in names.values():
                conn.execute(f'CREATE ROLE "{role}" LOGIN')
        try:
            owner = Cli(url)
            owner.ok("admin", "grant-clinician", names["dr_a"])
            owner.ok("admin", "grant-clinician", names["dr_b"])
            owner.ok("admin", "grant-supervisor", names["sup"])
            base, _, rest = url.partition("://")
            host = rest.split("@", 1)[1]
            urls = {kind: f"{base}://{role}@{host}" for kind, role in names.items()}
            yield {"owner": url, **urls, **{f"{k}_role": v for k, v in names.items()}}
        finally:
            with backends.connect(admin) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
                for role in names.values():
                    conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_row_level_security_keeps_caseloads_apart_even_in_raw_sql(
    clinic: dict[str, str],
) -> None:
    a, b, sup = Cli(clinic["dr_a"]), Cli(clinic["dr_b"]), Cli(clinic["sup"])
    a.ok("patient", "add", "P1", "--name", "Ann of A")
    a.ok("session", "add", "P1", "--date", "2026-11-20", *RATED, "--note", "secret of A")
    a.ok("goal", "add", "P1", "Walk to the shop")
    b.ok("patient", "add", "P1", "--name", "Bob of B")
    assert [r["name"] for r in json.loads(b.ok("patient", "list", "-f", "json").stdout)] == [
        "Bob of B"
    ]
    # Raw SQL as dr_b (what `psql` would show): nothing of dr_a's caseload.
    assert b.sql("SELECT code, name FROM patient") == [("P1", "Bob of B")]
    for table in ("session_rating", "goal"):
        assert b.sql(f"SELECT * FROM {table}") == [], table
    own_ids = set(b.sql("SELECT id FROM patient"))
    assert set(b.sql("SELECT patient_id FROM undo_step")) <= own_ids
    assert {row[0] for row in b.sql("SELECT actor FROM audit_log")} == {clinic["dr_b_role"]}
    # ...and no way to write into it.
    assert b.sql("UPDATE patient SET name = 'x' WHERE name = 'Ann of A'") == []
    with pytest.raises(Exception, match="row-level security"):
        b.sql(
            f"INSERT INTO patient (clinician, code, status, instrument, created) "
            f"VALUES ('{clinic['dr_a_role']}', 'P9', 'active', 'quick', now())"
        )
    # The supervisor reads both caseloads, through the CLI and in raw SQL, but writes nothing.
    listed = json.loads(sup.ok("patient", "list", "--all-clinicians", "-f", "json").stdout)
    assert sorted((r["clinician"], r["name"]) for r in listed) == [
        (clinic["dr_a_role"], "Ann of A"),
        (clinic["dr_b_role"], "Bob of B"),
    ]
    assert len(sup.sql("SELECT * FROM session_rating")) == 1
    with pytest.raises(Exception, match="permission denied"):
        sup.sql("DELETE FROM session_rating")
    flags = json.loads(sup.ok("flags", "--all-clinicians", "-f", "json").stdout)
    assert {f["clinician"] for f in flags} == {clinic["dr_a_role"]}
    # A clinician's --all-clinicians still shows only what the database lets it read.
    own = json.loads(b.ok("patient", "list", "--all-clinicians", "-f", "json").stdout)
    assert [r["clinician"] for r in own] == [clinic["dr_b_role"]]
    assert a.dump() != []  # dr_a's data is intact
    assert Cli(clinic["owner"]).rows("patient") != []


def test_transfer_on_postgresql_moves_the_patient_to_a_clinician_role(
    clinic: dict[str, str],
) -> None:
    a, b = Cli(clinic["dr_a"]), Cli(clinic["dr_b"])
    a.ok("patient", "add", "P2", "--note", "history")
    a.ok("session", "add", "P2", "--date", "2026-11-20", *RATED)
    refused = a("patient", "transfer", "P2", "not_a_clinician")
    assert refused.exit_code == 1 and "could not transfer 'P2'" in refused.stderr
    b.ok("patient", "add", "P2")
    clash = a("patient", "transfer", "P2", clinic["dr_b_role"])  # says no more (0007)
    assert clash.exit_code == 1
    assert clash.stderr.replace(clinic["dr_b_role"], "X") == refused.stderr.replace(
        "not_a_clinician", "X"
    )
    b.ok("patient", "delete", "P2", "--yes")
    a.ok("patient", "transfer", "P2", clinic["dr_b_role"])
    assert a.sql("SELECT code FROM patient") == []
    sessions = json.loads(b.ok("session", "list", "P2", "-f", "json").stdout)
    assert len(sessions) == 1
    other = a("--clinician", clinic["dr_b_role"], "patient", "list")
    assert other.exit_code == 1 and "role you connect as" in other.stderr


@pytest.mark.slow  # a real server set up by a shell script
def test_the_clinic_setup_script_of_the_readme_runs(tmp_path: Path) -> None:
    """examples/clinic_setup.sh, run as the README says, against the test server."""
    import os
    import shutil
    import subprocess
    import sys

    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    suffix = uuid.uuid4().hex[:8]
    roles = [f"dr_a_{suffix}", f"dr_b_{suffix}", f"sup_{suffix}"]
    db = f"clinic_{suffix}"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "alliance"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m alliance_cli "$@"\n')
    shim.chmod(0o755)
    server = backends.libpq_url(admin).rsplit("/", 1)[0]
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PGADMIN": server,
        "CLINIC_DB": db,
        "CLINICIANS": " ".join(roles[:2]),
        "SUPERVISOR": roles[2],
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    script = Path(__file__).resolve().parent.parent / "examples" / "clinic_setup.sh"
    # The script's sessions are dated November 2026 and alliance refuses a session date
    # in the future: its processes see the fixed day (starting then, the clock running),
    # with faketime when it is installed (`.ci/run` installs it), else the real date.
    # (The database server's clock plays no part: alliance's "today" is the client's.)
    pinned = []
    if shutil.which("faketime") is not None:
        pinned = ["faketime", f"{FIXED_TODAY.isoformat()} 12:00:00"]
    elif date.today() < FIXED_TODAY:
        pytest.fail(f"before {FIXED_TODAY} this test needs faketime (apt-get install faketime)")
    try:
        done = subprocess.run(
            [*pinned, "bash", str(script)], env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        report = done.stdout[done.stdout.index("Alliance summary") :]
        for role in roles[:2]:
            assert role in report
        assert "Sessions held: 2" in report
    finally:
        with backends.connect(admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            for role in roles:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.sqlite_only
def test_completion_offers_only_your_own_codes(
    shared: Cli, monkeypatch: pytest.MonkeyPatch, isolated_home: Path
) -> None:
    import os
    import subprocess
    import sys

    from alliance_cli.cli.completion import matching_codes

    shared.ok("--clinician", "dr_b", "patient", "add", "B7")
    db = str(shared.db_path)
    assert matching_codes(db, "", "dr_a") == ["P1", "P2"]
    assert matching_codes(db, "", "dr_b") == ["B7", "P1"]
    monkeypatch.setenv("ALLIANCE_CLINICIAN", "dr_b")
    assert matching_codes(db, "") == ["B7", "P1"]
    monkeypatch.delenv("ALLIANCE_CLINICIAN")
    config = isolated_home / ".config" / "alliance" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[general]\nclinician = "dr_a"\n')
    assert matching_codes(db, "P") == ["P1", "P2"]
    # The fast path (no Typer) answers the same for a real Tab press in bash.
    env = {
        **os.environ,
        "_ALLIANCE_COMPLETE": "complete_bash",
        "COMP_WORDS": f"alliance --db {db} session add ",
        "COMP_CWORD": "5",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    done = subprocess.run(
        [sys.executable, "-m", "alliance_cli"], env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["P1", "P2"], done.stdout + done.stderr


def test_backup_on_postgresql_is_a_private_pg_dump_of_what_the_role_may_read(
    clinic: dict[str, str], tmp_path: Path
) -> None:
    import shutil
    import stat
    import subprocess

    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed")
    a, b = Cli(clinic["dr_a"]), Cli(clinic["dr_b"])
    a.ok("patient", "add", "A1", "--note", "secret of A")
    b.ok("patient", "add", "B1")
    folder = tmp_path / "dumps"
    folder.mkdir()
    target = folder / "a.dump"
    done = a.ok("backup", str(target))
    assert done.stdout.strip() == str(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(b"PGDMP")
    restored = subprocess.run(
        ["pg_restore", "--data-only", "--table=patient", "--file=-", str(target)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "secret of A" in restored and "B1" not in restored  # dr_a's caseload only
    again = a("backup", str(target))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert [p.name for p in folder.iterdir()] == ["a.dump"]  # no temp file left
    host = clinic["dr_a"].split("@", 1)[1]
    wrong = Cli(f"postgresql+psycopg://nobody:pw-s3cret@{host}")("backup", str(folder / "x"))
    assert wrong.exit_code == 4 and "pg_dump failed" in wrong.stderr
    assert "pw-s3cret" not in wrong.stderr + wrong.stdout
    assert [p.name for p in folder.iterdir()] == ["a.dump"]


def test_only_a_person_s_own_login_role_can_be_made_a_clinician_or_supervisor(
    clinic: dict[str, str],
) -> None:
    """A group role would hand the caseload to all its members, a NOLOGIN role names
    nobody, a superuser, BYPASSRLS or owner role sees every caseload anyway: each refused in
    one line (exit 1, as bad input), and nothing granted."""
    owner = Cli(clinic["owner"])
    suffix = uuid.uuid4().hex[:8]
    unfit = {
        f"team_{suffix}": "NOLOGIN",
        f"root_{suffix}": "LOGIN SUPERUSER",
        f"seer_{suffix}": "LOGIN BYPASSRLS",
        f"shared_{suffix}": "LOGIN",
        f"owner_{suffix}": "LOGIN",  # owns the database: row-level security passes it by
    }
    admin = backends.admin_url()
    assert admin is not None
    database = clinic["owner"].rsplit("/", 1)[1]
    with backends.connect(admin) as conn:
        for role, options in unfit.items():
            conn.execute(f'CREATE ROLE "{role}" {options}')
        conn.execute(f'GRANT "shared_{suffix}" TO "{clinic["dr_b_role"]}"')
        conn.execute(f'ALTER DATABASE "{database}" OWNER TO "owner_{suffix}"')
    try:
        before = owner.ok("admin", "roles", "--format", "json").stdout
        for role in [*unfit, "alliance_clinician"]:
            for kind in ("clinician", "supervisor"):
                result = owner("admin", f"grant-{kind}", role)
                assert result.exit_code == 1, (role, kind, result.stderr)
                assert result.stderr.startswith(f"error: role '{role}' ")
                assert f"cannot be made a {kind}" in result.stderr
                assert "Traceback" not in result.stderr
        assert owner.ok("admin", "roles", "--format", "json").stdout == before
        owner.ok("admin", "grant-clinician", clinic["dr_a_role"])  # still fine: idempotent
    finally:
        with backends.connect(admin) as conn:
            conn.execute(f'ALTER DATABASE "{database}" OWNER TO CURRENT_USER')
            for role in unfit:
                conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_doctor_on_postgresql_checks_schema_security_and_roles(clinic: dict[str, str]) -> None:
    def checks(cli: Cli) -> tuple[int, dict[str, dict[str, object]]]:
        result = cli("doctor", "--format", "json")
        return result.exit_code, {c["check"]: c for c in json.loads(result.stdout)}

    code, found = checks(Cli(clinic["dr_a"]))
    assert code == 0
    assert found["your role"]["detail"] == f"{clinic['dr_a_role']}: clinician"
    assert found["row-level security"]["ok"] and found["schema"]["ok"]
    assert checks(Cli(clinic["sup"]))[1]["your role"]["detail"].endswith("supervisor")
    owner = Cli(clinic["owner"])
    assert "owns the tables" in str(checks(owner)[1]["your role"]["detail"])
    assert found["audit trail"]["ok"]
    owner.sql("ALTER TABLE goal DISABLE ROW LEVEL SECURITY")
    owner.sql("GRANT UPDATE ON audit_log TO alliance_clinician")
    code, found = checks(Cli(clinic["dr_a"]))
    assert code == 1 and found["row-level security"]["detail"] == "off for goal"
    assert not found["audit trail"]["ok"]
