"""Storage: SQLModel models, the one engine factory, migrations and queries."""
