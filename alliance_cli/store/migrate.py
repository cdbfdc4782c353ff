"""Schema migrations, applied automatically when a database is opened.

The check is cheap: the stored Alembic revision is compared with `SCHEMA_HEAD` before
Alembic is imported. An upgrade of a database that holds data is preceded by a
`VACUUM INTO` backup and runs in one transaction with foreign keys off (SQLite batch
migrations rebuild tables, and ON DELETE CASCADE would otherwise delete child rows).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from alliance_cli.errors import StorageError
from alliance_cli.paths import (
    DatabaseLocation,
    create_private_temp,
    fsync_directory,
    place_new,
    remove_temp,
)
from alliance_cli.store import cipher
from alliance_cli.store.schema import SCHEMA_HEAD

if TYPE_CHECKING:  # Alembic itself is imported only when a migration runs
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"


def stored_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, or None for a database without one."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    return connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()


def has_tables(connection: Connection) -> bool:
    return bool(inspect(connection).get_table_names())


def ensure_schema(engine: Engine, location: DatabaseLocation, *, clinician: str = "") -> str:
    """Bring the database to `SCHEMA_HEAD`; return the revision it had before.

    `clinician` owns the patients of a SQLite file that predates clinicians (schema 0005).
    """
    with engine.connect() as connection:
        current = stored_revision(connection)
        populated = current is not None or has_tables(connection)
    if current == SCHEMA_HEAD:
        return current
    if current is None and populated:
        raise StorageError(
            f"{location.display()} holds tables that alliance did not create",
            "point --db at an alliance database or a new file",
        )
    known = known_revisions()
    if current is not None and current not in known:
        raise StorageError(
            f"the database has schema {current}, newer than this alliance understands",
            "upgrade alliance (pip install -U alliance-cli)",
        )
    if location.read_only():
        raise StorageError(
            f"the database needs a schema upgrade to {SCHEMA_HEAD} but is read-only",
            "make it writable once so alliance can upgrade it",
        )
    backup = None
    if populated and location.path is not None:
        backup = backup_before_upgrade(engine, location.path, current or "none")
    # `upgrade` reads the file's header (its own engine); closing that descriptor would
    # drop every POSIX lock this process holds on the file, the SHARED lock of a pooled
    # connection included, which keeps a replacement out (services/maintenance/replacement.py).
    engine.dispose()
    try:
        upgrade(location.url, SCHEMA_HEAD, clinician=clinician)
    except StorageError:
        raise
    except Exception as error:
        kept = f"; a copy taken before is at {backup}" if backup else ""
        raise StorageError(
            f"the schema upgrade to {SCHEMA_HEAD} failed ({type(error).__name__}); "
            f"the database was left unchanged{kept}",
            "report this with `alliance --debug`",
        ) from error
    return current or ""


def backup_path_for(db_path: Path, revision: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return db_path.with_name(f"{db_path.name}.pre-{SCHEMA_HEAD}-from-{revision}-{stamp}.bak")


def backup_before_upgrade(engine: Engine, db_path: Path, revision: str) -> Path:
    """A consistent copy (VACUUM INTO) of the database, private to its owner.

    The copy is written to a temp file (`paths.create_private_temp`), flushed to disk and
    only then given its `.bak` name: a file with that name is always a whole backup. A
    command killed meanwhile leaves a temp file that the next command removes.
    """
    target = backup_path_for(db_path, revision)
    if target.exists() or target.is_symlink():
        raise StorageError(f"backup file {target} already exists", "move it away and try again")
    try:
        temp = create_private_temp(db_path.parent, target.name)
    except OSError as error:
        raise StorageError(
            f"cannot create the backup taken before the schema upgrade in {db_path.parent}: "
            f"{error.strerror}",
            "check the directory's permissions; the database was left unchanged",
        ) from None
    failures: tuple[type[Exception], ...] = (OSError, *cipher.errors())
    try:
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM INTO ?", (str(temp),))  # type: ignore[union-attr]
        finally:
            raw.close()
        _fsync(temp)
        place_new(temp, target)
    except FileExistsError:
        raise StorageError(
            f"backup file {target} already exists", "move it away and try again"
        ) from None
    except failures as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise StorageError(
            f"cannot write the backup taken before the schema upgrade ({reason})",
            "free some space or check the directory; the database was left unchanged",
        ) from None
    finally:
        remove_temp(temp)
    fsync_directory(db_path.parent)
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


CLINICIAN_ATTRIBUTE = "clinician"  # read by migration 0005


def _alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


def upgrade(url: str, target: str, *, clinician: str = "") -> None:
    """Run the migrations up to `target` in one transaction, foreign keys off."""
    from alembic import command

    from alliance_cli.store.engine import make_engine

    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.execution_options(alliance_write=True).begin() as connection:
            config = _alembic_config(connection)
            config.attributes[CLINICIAN_ATTRIBUTE] = clinician
            command.upgrade(config, target)
            problems = (
                connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if (engine.dialect.name == "sqlite")
                else []
            )
            if problems:
                raise StorageError(
                    "the schema upgrade would break links between records; nothing was changed"
                )
    finally:
        engine.dispose()
