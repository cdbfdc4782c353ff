"""Usage lines and help that read like a Unix tool's: `CODE`, `--note TEXT`, `--rater a|b`.

Typer 0.29 writes a required argument as `{code}` in the usage line and adds the Python
type to every parameter without a metavar (`code <str>`, `--bond <str>`, which reads as
"text" where a score is meant). `plain_help` gives each parameter of a command a metavar
instead: an argument's name in capitals, an option's kind of value (`TEXT`, `N`, or its
choices), unless the command set one itself.
"""

from __future__ import annotations

from typing import Any

from alliance_cli.adapters.typer_internals import is_argument, show_plainly, value_kind

KIND_METAVAR = {str: "TEXT", int: "N", float: "NUMBER", bool: ""}


def plain_help(command: Any) -> None:
    """Give every parameter of `command` (and of its subcommands) a readable metavar."""
    for param in getattr(command, "params", ()):
        if param.metavar is None:
            param.metavar = _metavar(param)
        show_plainly(param)
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)


def _metavar(param: Any) -> str | None:
    if is_argument(param):
        return str(param.name).upper()
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    annotation, choices = value_kind(param)
    if choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in choices)
    return KIND_METAVAR.get(annotation) or None
