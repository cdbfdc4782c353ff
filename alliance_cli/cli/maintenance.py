"""`alliance backup`, `restore`, `doctor`, `encrypt` and `decrypt`: look after the database
file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from alliance_cli.cli.common import (
    TextFormat,
    TextFormatOption,
    YesOption,
    confirm,
    sqlite_path,
    state,
)
from alliance_cli.errors import ExitCode
from alliance_cli.render.console import message, out
from alliance_cli.render.safe_text import one_line

if TYPE_CHECKING:
    from alliance_cli.services.maintenance.doctor import Check


def backup(
    ctx: typer.Context,
    dest: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write the copy (default: <name>.backup-YYYYmmdd-HHMMSS.db next to "
            "the database; a directory gets that name inside it).",
            show_default=False,
            callback=sqlite_path,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace DEST if it already exists.")
    ] = False,
) -> None:
    """Write a consistent, checked copy of the database (safe while others write); on
    PostgreSQL, a pg_dump archive."""
    location = state(ctx).location()
    if location.is_postgresql:
        from alliance_cli.services.maintenance.pg_backup import backup_postgres

        target = backup_postgres(location, dest, force=force)
        out(one_line(str(target)))
        message(f"Backed up {location.display()} to {target} (pg_dump; restore with pg_restore).")
        return
    from alliance_cli.services.maintenance.backup import backup_database

    target = backup_database(location, dest, force=force)
    out(one_line(str(target)))
    message(f"Backed up {location.display()} to {target} (integrity check ok).")


def restore(
    ctx: typer.Context,
    src: Annotated[
        Path,
        typer.Argument(
            help="A backup made by `alliance backup` (or any alliance database).",
            callback=sqlite_path,
        ),
    ],
    yes: YesOption = False,
) -> None:
    """Replace the database with a backup; the current database is backed up first."""
    from alliance_cli.services.maintenance.backup import check_restore_source, restore_database
    from alliance_cli.services.maintenance.sqlite_files import sqlite_file

    location = state(ctx).location()
    db_path = sqlite_file(location, "restore")
    source = check_restore_source(src)
    confirm(
        f"Replace {db_path} with {source.path}? The current database is backed up first.",
        yes=yes,
        refusal="restore replaces the whole database",
    )
    result = restore_database(location, source.path)
    if result.backup is not None:
        message(f"The database as it was is saved in {result.backup}.")
    message(f"Restored {result.database} from {result.restored_from} (schema {result.revision}).")
    if result.encrypted:
        message("The restored database is encrypted (SQLCipher), with the same key.")
    if result.upgrade_pending:
        message("Its schema is older: it is upgraded (after a backup) the next time it is opened.")


def doctor(ctx: typer.Context, fmt: TextFormatOption = TextFormat.text) -> None:
    """Check the database: integrity, file modes, schema, journal, links, filesystem (on
    PostgreSQL: schema, row-level security, clinic roles, your role)."""
    from alliance_cli.services.maintenance.doctor import doctor as run_checks

    checks = run_checks(state(ctx).location())
    if fmt is TextFormat.json:
        _print_json(checks)
    else:
        _print_text(checks)
    problems = sum(not check.ok for check in checks)
    if problems:
        message(f"{problems} problem(s) found.")
        raise typer.Exit(int(ExitCode.ERROR))
    if fmt is TextFormat.text:
        message("The database looks healthy.")


def _print_text(checks: list[Check]) -> None:
    width = max(len(check.check) for check in checks)
    for check in checks:
        status = "ok     " if check.ok else "PROBLEM"
        out(one_line(f"{status}  {check.check:<{width}}  {check.detail}"))
        if check.advice:
            out(one_line(f"{'':7}  {'':<{width}}  -> {check.advice}"))


def _print_json(checks: list[Check]) -> None:
    from alliance_cli.render.formats import print_json

    print_json(
        [
            {"check": check.check, "ok": check.ok, "detail": check.detail, "advice": check.advice}
            for check in checks
        ]
    )


def encrypt(ctx: typer.Context, yes: YesOption = False) -> None:
    """Encrypt the database file with SQLCipher (key: $ALLIANCE_DB_KEY, keyring or prompt).

    Needs `pip install 'alliance-cli[encryption]'`. A plain backup is written first.
    """
    from alliance_cli.domain.words import plural
    from alliance_cli.services.maintenance.encryption import encrypt_database

    location = state(ctx).location()
    if location.path is not None:
        confirm(
            f"Encrypt {location.path}? A plain backup is written first; without the key "
            "the encrypted database cannot be read.",
            yes=yes,
            refusal="encrypt rewrites the whole database",
        )
    result = encrypt_database(location)
    rows, tables = plural(result.rows, "row"), plural(result.tables, "table")
    message(f"Encrypted {result.database} ({rows} in {tables}).")
    message(
        f"The backup taken before, {result.backup}, is NOT encrypted: once you have "
        "checked the encrypted database, delete it (or move it somewhere safe)."
    )
    message("Keep the key safe: without it the database cannot be read by anyone, you included.")


def decrypt(ctx: typer.Context, yes: YesOption = False) -> None:
    """Turn an encrypted database back into a plain SQLite file (needs its key)."""
    from alliance_cli.services.maintenance.encryption import decrypt_database

    location = state(ctx).location()
    if location.path is not None:
        confirm(
            f"Decrypt {location.path}? It is then stored as a plain SQLite file.",
            yes=yes,
            refusal="decrypt rewrites the whole database",
        )
    result = decrypt_database(location)
    message(f"Decrypted {result.database}: it is now a plain SQLite file.")
    message(f"The encrypted copy taken before is {result.backup}.")
