"""`alliance backup` on PostgreSQL: a `pg_dump` archive (custom format), private to its
owner, written to a temp file and moved into place only when pg_dump succeeded.

The password (if the URL has one) reaches pg_dump through its environment, never its
command line. Rows are dumped as the connecting role may read them (row-level security
on), so a clinician's backup holds their own caseload and the owner's the whole clinic.
Restore with PostgreSQL's `pg_restore` (an administrator's task, not alliance's).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

from alliance_cli.errors import Conflict, InvalidInput, StorageError
from alliance_cli.paths import DatabaseLocation
from alliance_cli.render.safe_text import one_line
from alliance_cli.services.maintenance.backup import at_destination
from alliance_cli.services.maintenance.sqlite_files import fsync_file, install, private_temp

DUMP_MAGIC = b"PGDMP"


def _target(database: str, dest: Path | None, *, force: bool, now: datetime | None) -> Path:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    name = f"{database}.backup-{stamp}.dump"
    if dest is None:
        return Path.cwd() / name
    target = dest.expanduser().absolute()
    if target.is_dir():
        return target / name
    if not target.parent.is_dir():
        raise InvalidInput(f"directory {target.parent} does not exist", "create it first")
    if (target.exists() or target.is_symlink()) and not force:
        raise Conflict(f"{target} already exists", "pass --force to replace it")
    return target


def backup_postgres(
    location: DatabaseLocation,
    dest: Path | None = None,
    *,
    force: bool = False,
    now: datetime | None = None,
) -> Path:
    """Dump the database with pg_dump to a 0600 file; return its path."""
    from sqlalchemy.engine import make_url

    program = shutil.which("pg_dump")
    if program is None:
        raise StorageError(
            "pg_dump is not installed: it makes backups of a PostgreSQL database",
            "install PostgreSQL's client tools (e.g. apt-get install postgresql-client)",
        )
    url = make_url(location.url)
    if not url.database:
        raise InvalidInput(f"the URL {location.display()} names no database")
    target = _target(url.database, dest, force=force, now=now)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    with ExitStack() as stack:
        with at_destination(dest):
            temp = stack.enter_context(private_temp(target.parent, target.name))
        done = subprocess.run(
            [
                program,
                "--format=custom",
                "--enable-row-security",
                f"--file={temp}",
                f"--dbname={conninfo}",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
            errors = [line for line in lines if "error:" in line] or lines[-1:]
            reason = one_line(errors[0]) if errors else ""
            raise StorageError(
                f"pg_dump failed ({reason or f'exit {done.returncode}'}); {target} was not written"
            )
        with temp.open("rb") as handle:
            if handle.read(len(DUMP_MAGIC)) != DUMP_MAGIC:
                raise StorageError(f"pg_dump wrote no archive; {target} was not written")
        fsync_file(temp)
        with at_destination(dest):
            install(temp, target, replace=force)
    return target
