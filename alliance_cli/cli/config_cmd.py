"""`alliance config show|path`: the effective thresholds and where each came from."""

from __future__ import annotations

import typer

from alliance_cli.cli.common import TextFormat, TextFormatOption, settings
from alliance_cli.render.console import out

app = typer.Typer(
    help="The config file: rule thresholds per instrument, custom instruments.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("path")
def path() -> None:
    """Print where the config file is read from (it may not exist yet)."""
    from alliance_cli.config import config_path

    out(str(config_path()))


@app.command("show")
def show(ctx: typer.Context, fmt: TextFormatOption = TextFormat.text) -> None:
    """Print every effective setting, its value and whether it comes from the file."""
    from alliance_cli.render.config_view import config_settings

    config_settings(settings(ctx), fmt.value)
