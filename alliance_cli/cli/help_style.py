"""Usage lines and help that read like a Unix tool's: `CODE`, `--note TEXT`, `--rater a|b`.

Typer 0.29 writes a required argument as `{code}` in the usage line and adds the Python
type to every parameter without a metavar (`code <str>`, `--bond <str>`, which reads as
"text" where a score is meant). `plain_help` gives each parameter of a command a metavar
instead: an argument's name in capitals, an option's kind of value (`TEXT`, `N`, or its
choices), unless the command set one itself.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument

KIND_METAVAR = {str: "TEXT", int: "N", float: "NUMBER", bool: ""}


class PlainArgument(TyperArgument):
    """An argument shown by its metavar alone: `CODE` in the usage line and in its help."""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def display_type(self, ctx: Any) -> str:
        return ""


def plain_help(command: Any) -> None:
    """Give every parameter of `command` (and of its subcommands) a readable metavar."""
    for param in getattr(command, "params", ()):
        if param.metavar is None:
            param.metavar = _metavar(param)
        if type(param) is TyperArgument:
            param.__class__ = PlainArgument
    for sub in getattr(command, "commands", {}).values():
        plain_help(sub)


def _metavar(param: Any) -> str | None:
    if isinstance(param, TyperArgument):
        return str(param.name).upper()
    if getattr(param, "is_flag", False) or getattr(param, "count", False):
        return None
    described = getattr(param, "type_descriptor", None)
    if described is None:
        return None
    if described.is_choice and described.choices:
        return "|".join(str(getattr(choice, "value", choice)) for choice in described.choices)
    return KIND_METAVAR.get(described.annotation) or None
