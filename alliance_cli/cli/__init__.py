"""The Typer command tree: thin commands over the services."""
