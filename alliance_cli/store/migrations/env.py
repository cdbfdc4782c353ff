"""Alembic environment: runs on the connection handed over by `store.migrate.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from alliance_cli.store import audit, models  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached if someone runs alembic by hand
    raise RuntimeError("run migrations through alliance, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
