"""`alliance where`: where the data lives and how much of it there is."""

from __future__ import annotations

from alliance_cli.config import config_path
from alliance_cli.domain.records import DatabaseInfo
from alliance_cli.errors import DatabaseMissing
from alliance_cli.paths import DatabaseLocation
from alliance_cli.store.engine import open_database
from alliance_cli.store.models import Patient, SessionRating
from alliance_cli.store.queries import count_rows


def database_info(location: DatabaseLocation) -> DatabaseInfo:
    """Report on the database; one that does not exist yet is reported as such, never
    created (`where` is how a user finds out where alliance is looking)."""
    config = config_path()
    try:
        db = open_database(location)
    except DatabaseMissing:
        return DatabaseInfo(
            location=location.display(),
            source=location.source,
            schema_version=None,
            patients=0,
            sessions=0,
            config=str(config),
            config_exists=config.exists(),
            exists=False,
        )
    from alliance_cli.store.migrate import stored_revision

    try:
        with db.read() as session:
            return DatabaseInfo(
                location=location.display(),
                source=location.source,
                schema_version=stored_revision(session.connection()),
                patients=count_rows(session, Patient),
                sessions=count_rows(session, SessionRating),
                config=str(config),
                config_exists=config.exists(),
                exists=True,
            )
    finally:
        db.close()
