"""The Typer/Click internals alliance relies on, and nothing else.

Each buys start-up time or readable help that public API cannot give (measured in
benchmarks/run.py, "tricks"); tests/test_adapters.py checks every name used here against
the installed Typer, which must be the `VERIFIED_WITH` minor version.

- `OptionAbsentIsNone` / `CheapGroup` / `coerce_cheaply`: Typer builds a pydantic
  adapter for a parameter before coercing its value, even when the value is None (left
  out), a str given for a str, or a valid choice of an Enum. A group's options are
  processed before a subcommand's `--help` is seen: that pulled pydantic (~0.07 s) into
  every `--help` below the root, and into every command (~0.1 s with Typer's adapter
  module) whose options are only text, choices, flags or left out. Those values are
  taken as they are (a choice becomes its Enum member); anything else still goes through
  Typer. Overrides `process_value`, reads `type_descriptor`, swaps the class of built
  parameters.
- `PlainArgument`: a required argument shown as `CODE`, not `{code}` / `code <str>`
  (overrides `_usage_display_name` and `display_type*`; swaps the class of built args).
- `without_completion`: a lazily built sub-Typer must not install its own completion
  options (`Typer._add_completion`).
- `is_no_args_help`: a group typed alone "fails" with its own help
  (`typer._click.exceptions.NoArgsIsHelpError`).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

VERIFIED_WITH = "0.29"  # Typer major.minor whose internals this relies on


def value_kind(param: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the Python annotation, the choices or ()) of a built Typer parameter."""
    described = getattr(param, "type_descriptor", None)
    if described is None:
        return None, ()
    choices = tuple(described.choices or ()) if described.is_choice else ()
    return described.annotation, choices


_COERCE = object()  # "let Typer coerce this value"


def _as_typed(param: Any, ctx: Any, value: Any) -> Any:
    """`value` as the command receives it when no pydantic adapter is needed (see module
    doc), after the parameter's callback; `_COERCE` when Typer must coerce it."""
    if param.nargs != 1 or param.multiple:
        return _COERCE
    typed: Any
    if value is None:
        if param.required:
            return _COERCE  # Typer reports it missing
        typed = None
    else:
        described = param.type_descriptor
        if not isinstance(value, str) or described.parameter_info.parser is not None:
            return _COERCE
        kind = described.annotation
        if kind is str:
            typed = value
        elif isinstance(kind, type) and issubclass(kind, Enum) and described.case_sensitive:
            # A valid choice by value (never an Enum's _missing_ hook, as Typer); anything
            # else gets Typer's own message.
            typed = next((member for member in kind if member.value == value), None)
            if typed is None:
                return _COERCE
        else:
            return _COERCE
    return typed if param.callback is None else param.callback(ctx, param, typed)


class OptionAbsentIsNone(TyperOption):
    """An option that costs nothing when left out, plain text or one of its choices."""

    def process_value(self, ctx: Any, value: Any) -> Any:
        typed = _as_typed(self, ctx, value)
        return super().process_value(ctx, value) if typed is _COERCE else typed


def _cheap_options(params: list[Any]) -> None:
    for param in params:
        if type(param) is TyperOption:
            param.__class__ = OptionAbsentIsNone


class CheapGroup(TyperGroup):
    """A group whose options are coerced only when given (see OptionAbsentIsNone)."""

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        _cheap_options(self.get_params(ctx))  # with the help and completion options
        return super().parse_args(ctx, args)


class CheapCommand(TyperCommand):
    """A command whose options are coerced cheaply (see OptionAbsentIsNone)."""

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        _cheap_options(self.get_params(ctx))  # with the help option
        return super().parse_args(ctx, args)


class PlainArgument(TyperArgument):
    """An argument shown by its metavar alone: `CODE` in the usage line and in its help
    (and, as options, taken as typed when it is text or a choice)."""

    def process_value(self, ctx: Any, value: Any) -> Any:
        typed = _as_typed(self, ctx, value)
        return super().process_value(ctx, value) if typed is _COERCE else typed

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if not self.required:
            name = f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def display_type(self, ctx: Any) -> str:
        return ""


def is_argument(param: Any) -> bool:
    return isinstance(param, TyperArgument)


def show_plainly(param: Any) -> None:
    """Make a built Typer argument show as its metavar alone (see PlainArgument)."""
    if type(param) is TyperArgument:
        param.__class__ = PlainArgument


def coerce_cheaply(command: Any) -> None:
    """Give a built command (and a group's commands) the cheap coercion of
    `OptionAbsentIsNone`; arguments get it with `show_plainly`."""
    if type(command) is TyperCommand:
        command.__class__ = CheapCommand
    elif type(command) is TyperGroup:
        command.__class__ = CheapGroup
    for sub in getattr(command, "commands", {}).values():
        coerce_cheaply(sub)


def without_completion(holder: typer.Typer) -> None:
    """Build `holder` without Typer's --install/--show-completion options."""
    holder._add_completion = False


def is_no_args_help(error: BaseException) -> bool:
    """A group typed alone: Click "fails" with the group's own help (multi-line, ours)."""
    from typer._click.exceptions import NoArgsIsHelpError

    return isinstance(error, NoArgsIsHelpError)
