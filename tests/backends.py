"""The databases tests run against: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL tests need a server. `.ci/run` starts one (`.ci/postgres.sh`) and sets
`ALLIANCE_TEST_PG` to an administrator URL; without it they skip, saying how to run them.
Each test gets its own database, copied from a template that is migrated once per test
process (each pytest-xdist worker has its own template, dropped at the end of the session
by `drop_kept`, which tests/conftest.py calls).
"""

from __future__ import annotations

import atexit
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

PG_ENV = "ALLIANCE_TEST_PG"
SKIP_PG = (
    "PostgreSQL tests skipped: run `bash .ci/run` (it starts a server), or start one and set "
    f"{PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:PORT/postgres"
)
TEMPLATE = f"alliance_template_{os.getpid()}"
# Migrations create cluster-wide roles (`IF NOT EXISTS`), which two processes migrating at
# the same moment would both try to create: templates are made one at a time.
TEMPLATE_LOCK = 0x616C6C69  # pg_advisory_lock key

_numbers = itertools.count()
_template_ready: set[str] = set()
_kept: list[tuple[str, str]] = []  # (admin URL, database): templates to drop at the end


def admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def database_url(admin: str, name: str) -> str:
    """The admin URL with another database name."""
    base, _, _ = admin.rpartition("/")
    return f"{base}/{name}"


def libpq_url(url: str) -> str:
    """psycopg takes `postgresql://`, not SQLAlchemy's `postgresql+psycopg://`."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}"


@contextmanager
def connect(url: str, *, autocommit: bool = True) -> Iterator[Any]:
    import psycopg

    conn = psycopg.connect(libpq_url(url), autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def _ensure_template(admin: str) -> None:
    """A migrated, empty database that every test database is copied from."""
    if admin in _template_ready:
        return
    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import open_database

    with connect(admin) as lock:
        lock.execute("SELECT pg_advisory_lock(%s)", (TEMPLATE_LOCK,))
        with connect(admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {TEMPLATE}")
        _kept.append((admin, TEMPLATE))
        open_database(resolve_database(database_url(admin, TEMPLATE))).close()
    _template_ready.add(admin)


@contextmanager
def fresh_database(
    admin: str, *, migrated: bool = True, template: str | None = None
) -> Iterator[str]:
    """A new database for one test (migrated unless asked otherwise, or a copy of
    `template`, a database made by `keep_as_template`); dropped after."""
    name = f"alliance_test_{os.getpid()}_{next(_numbers)}"
    if migrated and template is None:
        _ensure_template(admin)
        template = TEMPLATE
    with connect(admin) as conn:
        conn.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    try:
        yield database_url(admin, name)
    finally:
        with connect(admin) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def keep_as_template(admin: str, url: str) -> str | None:
    """A copy of the database at `url` (nobody connected to it) for `fresh_database` to copy
    again, dropped when the process ends; None if it cannot be copied now."""
    name = f"alliance_snapshot_{os.getpid()}_{next(_numbers)}"
    source = url.rsplit("/", 1)[1]
    try:
        with connect(admin) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {source}")
    except Exception:  # e.g. a connection to the source is still open: just do without
        return None
    _kept.append((admin, name))
    return name


@atexit.register  # also at exit, for a process that used this module outside a session
def drop_kept() -> None:
    """Drop the templates this process made."""
    while _kept:
        admin, name = _kept.pop()
        _template_ready.discard(admin)
        try:
            with connect(admin) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        except Exception:  # the server may be gone already
            pass


def tables(url: str) -> list[str]:
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY table_name"
        ).fetchall()
    return [name for (name,) in rows]


def rows(url: str, table: str) -> list[tuple[object, ...]]:
    with connect(url) as conn:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()


def dump(url: str) -> list[str]:
    """Every row of every table as text. (Sequences are left out: PostgreSQL never gives
    back the ids a rolled-back transaction drew, and that changes no stored data.)"""
    lines: list[str] = []
    with connect(url) as conn:
        for table in tables(url):
            order = "id" if table != "alembic_version" else "version_num"
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY {order}'):
                lines.append(f"{table}: {row!r}")
    return lines
