"""Where the configuration file lives (its contents arrive with the instruments work)."""

from __future__ import annotations

import os
from pathlib import Path

from alliance_cli.paths import APP_NAME

CONFIG_ENV = "ALLIANCE_CONFIG"
CONFIG_FILENAME = "config.toml"


def config_path() -> Path:
    """`ALLIANCE_CONFIG`, else `config.toml` in the per-user config directory."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path(APP_NAME) / CONFIG_FILENAME
