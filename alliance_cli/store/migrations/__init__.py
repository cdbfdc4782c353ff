"""Alembic environment embedded in the package; users never run alembic by hand."""
