"""The console-script entry point (`alliance = alliance_cli.cli.app:main`).

Kept free of Typer: `alliance --version` and Tab completion of patient codes are answered
by `fast_paths` without loading Typer, Click or pydantic; everything else goes to the
Typer tree in `root.py` (global options and the one error boundary). `app` is still
importable from here (`from alliance_cli.cli.app import app`); it loads the tree then.
"""

from __future__ import annotations

import os
import sys
from typing import Any

PRIVATE_UMASK = 0o077


def main() -> None:
    """Console-script entry point."""
    os.umask(PRIVATE_UMASK)
    from alliance_cli.cli.fast_paths import answer

    exit_code = answer(sys.argv[1:], os.environ)
    if exit_code is not None:
        sys.exit(exit_code)
    # alliance uses no pydantic plugins; looking for them scans every installed package's
    # entry points (~10 ms on each command). A user's own setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from alliance_cli.cli.root import app

    app(prog_name="alliance")


def __getattr__(name: str) -> Any:
    """`app` (the Typer tree) loads on first use, so importing this module stays cheap."""
    if name == "app":
        from alliance_cli.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
