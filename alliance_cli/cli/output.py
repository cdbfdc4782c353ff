"""Where a report or export goes: stdout, or a private file written atomically."""

from __future__ import annotations

import sys
from pathlib import Path

from alliance_cli.errors import Conflict, InvalidInput
from alliance_cli.render.console import message


def deliver(text: str, output: Path | None, *, force: bool = False) -> None:
    """Print `text`, or write it to `output` (mode 0600, temp file + rename)."""
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from alliance_cli.paths import write_private_file

    target = output.expanduser()
    if not target.parent.is_dir():
        raise InvalidInput(f"directory {target.parent} does not exist", "create it first")
    try:
        write_private_file(target, text if text.endswith("\n") else text + "\n", force=force)
    except FileExistsError:
        raise Conflict(f"{target} already exists", "pass --force to replace it") from None
    except PermissionError:
        raise InvalidInput(f"cannot write {target}", "check the directory's permissions") from None
    except OSError as error:
        raise InvalidInput(f"cannot write {target}: {error.strerror}") from None
    message(f"Wrote {target}.")
