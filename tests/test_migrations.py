"""Schema migrations: every released schema opens under the current code, data intact."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest

from alliance_cli.paths import resolve_database
from tests.conftest import Cli

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself


@pytest.fixture(autouse=True)
def fixture_clinician(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures' patients belong to this clinician (see make_schema_fixture.py)."""
    monkeypatch.setenv("ALLIANCE_CLINICIAN", "fixture-clinician")


FIXTURES = Path(__file__).parent / "fixtures"
RELEASED = sorted(FIXTURES.glob("schema-*.db"))


def test_there_is_a_fixture_for_the_current_schema() -> None:
    from alliance_cli.store.schema import SCHEMA_HEAD

    assert (FIXTURES / f"schema-{SCHEMA_HEAD}.db") in RELEASED


def test_schema_head_constant_matches_alembic_head() -> None:
    from alliance_cli.store.migrate import head_revision
    from alliance_cli.store.schema import SCHEMA_HEAD

    assert head_revision() == SCHEMA_HEAD


def _subset(actual: object, expected: object) -> bool:
    """Every key and value of `expected` is in `actual` (upgrades may add keys)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and _subset(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(_subset(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return actual == expected


@pytest.mark.parametrize("fixture", RELEASED, ids=lambda p: p.stem)
def test_released_schema_opens_with_data_intact(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import fix_today
    from tests.fixtures.make_schema_fixture import LISTINGS, MADE_ON

    fix_today(monkeypatch, date.fromisoformat(MADE_ON))

    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    expected = json.loads(fixture.with_suffix(".json").read_text())
    cli = Cli(db)
    for argv, want in zip(LISTINGS, expected, strict=True):
        got = json.loads(cli.ok(*argv).stdout)
        assert _subset(got, want), argv
    # and the upgraded database still takes new data
    cli.ok(
        "session", "add", "F01", "--date", "2026-01-26", "--bond", "8", "--goal", "8", "--task", "8"
    )


BEFORE_0009 = [fixture for fixture in RELEASED if fixture.stem < "schema-0009"]


@pytest.mark.parametrize("fixture", BEFORE_0009, ids=lambda p: p.stem)
def test_schema_0009_gives_old_goals_the_gas_defaults_and_old_discharges_unknown(
    fixture: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import fix_today
    from tests.fixtures.make_schema_fixture import MADE_ON

    fix_today(monkeypatch, date.fromisoformat(MADE_ON))
    db = tmp_path / fixture.name
    shutil.copy(fixture, db)
    cli = Cli(db)
    goals = json.loads(cli.ok("goal", "list", "F01", "--all", "--format", "json").stdout)
    assert goals and all(
        (g["baseline"], g["weight"], g["gas"], g["gas_history"]) == (-1, 1.0, None, [])
        for g in goals
    )
    assert all(r["gas"] is None for g in goals for r in g["reviews"])
    patients = json.loads(cli.ok("patient", "list", "--all", "--format", "json").stdout)
    assert {p["code"]: p["ending"] for p in patients} == {"F01": None, "F02": "unknown"}
    assert json.loads(cli.ok("patient", "show", "F01", "--format", "json").stdout)["gas_t"] is None
    # and the upgraded database takes GAS reviews and endings
    gas = ("--baseline", "-2", "--weight", "2")
    swim = cli.ok("goal", "add", "F01", "Swim", *gas, "--date", "2026-02-02").stdout.strip()
    cli.ok("goal", "review", swim, "--gas", "1", "--date", "2026-03-02")
    assert json.loads(cli.ok("patient", "show", "F01", "--format", "json").stdout)["gas_t"] == 60.0
    cli.ok("patient", "discharge", "F01", "--date", "2026-03-09", "--ending", "mutual")
    patients = json.loads(cli.ok("patient", "list", "--all", "--format", "json").stdout)
    assert {p["code"]: p["ending"] for p in patients} == {"F01": "mutual", "F02": "unknown"}


def test_models_match_the_migrated_schema(tmp_path: Path) -> None:
    """The migrations create exactly what the SQLModel models describe."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from alliance_cli.store import models  # noqa: F401
    from alliance_cli.store.engine import open_database

    db = open_database(resolve_database(str(tmp_path / "fresh.db")), create=True)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, SQLModel.metadata) == []
    finally:
        db.close()


def test_database_from_a_newer_alliance_is_refused_untouched(cli: Cli) -> None:
    cli.db_path.parent.mkdir(parents=True)
    cli.ok("patient", "add", "P1")
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    before = cli.dump()
    result = cli("patient", "list")
    assert result.exit_code == 4
    assert "newer" in result.stderr and "Traceback" not in result.stderr
    assert cli.dump() == before


def test_foreign_sqlite_database_is_refused_untouched(cli: Cli) -> None:
    cli.db_path.parent.mkdir(parents=True)
    with sqlite3.connect(cli.db_path) as conn:
        conn.execute("CREATE TABLE other (x)")
        conn.execute("INSERT INTO other VALUES (1)")
    before = cli.dump()
    result = cli("patient", "list")
    assert result.exit_code == 4
    assert "did not create" in result.stderr
    assert cli.dump() == before


def test_backup_before_upgrade_is_a_private_consistent_copy(p014: Cli) -> None:
    from alliance_cli.store.engine import make_engine
    from alliance_cli.store.migrate import backup_before_upgrade

    engine = make_engine(f"sqlite:///{p014.db_path}")
    try:
        backup = backup_before_upgrade(engine, p014.db_path, "0001")
    finally:
        engine.dispose()
    assert backup.parent == p014.db_path.parent
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    copy = Cli(backup)
    assert copy.rows("session_rating") == p014.rows("session_rating")
    assert copy.rows("patient") == p014.rows("patient")


def test_a_failing_migration_leaves_the_database_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A revision made to fail on purpose: error reported, data intact, backup kept."""
    from alliance_cli.store import migrate
    from alliance_cli.store.schema import SCHEMA_HEAD

    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, scripts)
    (scripts / "versions" / "9000_broken.py").write_text(
        "import sqlalchemy as sa\n"
        "from alembic import op\n"
        f"revision = '9000'\ndown_revision = '{SCHEMA_HEAD}'\n"
        "branch_labels = None\ndepends_on = None\n\n"
        "def upgrade():\n"
        "    op.add_column('patient', sa.Column('doomed', sa.String()))\n"
        "    op.execute('DELETE FROM session_rating')\n"
        "    raise RuntimeError('made to fail')\n\n"
        "def downgrade():\n    pass\n"
    )
    db = tmp_path / "clinic.db"
    shutil.copy(FIXTURES / f"schema-{SCHEMA_HEAD}.db", db)
    before = Cli(db).dump()
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrate, "SCHEMA_HEAD", "9000")
    result = Cli(db)("patient", "list")
    assert result.exit_code == 4
    assert "schema upgrade to 9000 failed" in result.stderr and "unchanged" in result.stderr
    assert "Traceback" not in result.stderr
    assert Cli(db).dump() == before
    backups = list(tmp_path.glob("clinic.db.pre-9000-*.bak"))
    # (VACUUM INTO may list the schema's objects in another order: compare as sets of lines)
    assert len(backups) == 1 and sorted(Cli(backups[0]).dump()) == sorted(before)
