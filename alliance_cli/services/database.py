"""The database a command works on, as the CLI gets it: through the services, never
from the store directly (the direction of the arrows: cli -> services -> store)."""

from __future__ import annotations

from alliance_cli.store.engine import Database, open_database

__all__ = ["Database", "open_database"]
