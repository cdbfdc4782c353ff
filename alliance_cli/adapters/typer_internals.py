"""The Typer/Click internals alliance relies on, and nothing else.

Each buys start-up time or readable help that public API cannot give (measured in
benchmarks/run.py, "tricks"); tests/test_adapters.py checks every name used here against
the installed Typer, which must be the `VERIFIED_WITH` minor version.

- `OptionAbsentIsNone` / `CheapGroup`: Typer builds a pydantic adapter for a parameter
  before coercing its value, even when the value is None (left out) or a str given for a
  str. A group's options are processed before a subcommand's `--help` is seen: that
  pulled pydantic (~0.07 s) into every `--help` below the root. Overrides
  `TyperOption.process_value`, reads `type_descriptor`, swaps the class of built options.
- `PlainArgument`: a required argument shown as `CODE`, not `{code}` / `code <str>`
  (overrides `_usage_display_name` and `display_type*`; swaps the class of built args).
- `without_completion`: a lazily built sub-Typer must not install its own completion
  options (`Typer._add_completion`).
- `is_no_args_help`: a group typed alone "fails" with its own help
  (`typer._click.exceptions.NoArgsIsHelpError`).
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

VERIFIED_WITH = "0.29"  # Typer major.minor whose internals this relies on


def value_kind(param: Any) -> tuple[Any, tuple[Any, ...]]:
    """(the Python annotation, the choices or ()) of a built Typer parameter."""
    described = getattr(param, "type_descriptor", None)
    if described is None:
        return None, ()
    choices = tuple(described.choices or ()) if described.is_choice else ()
    return described.annotation, choices


class OptionAbsentIsNone(TyperOption):
    """A group option that costs nothing when left out, or when it is plain text."""

    def process_value(self, ctx: Any, value: Any) -> Any:
        if self.nargs == 1 and not self.multiple and self._nothing_to_coerce(value):
            return value if self.callback is None else self.callback(ctx, self, value)
        return super().process_value(ctx, value)

    def _nothing_to_coerce(self, value: Any) -> bool:
        if value is None:
            return not self.required  # else Typer reports the missing option
        described = self.type_descriptor
        plain = described.annotation is str and described.parameter_info.parser is None
        return plain and isinstance(value, str)


class CheapGroup(TyperGroup):
    """A group whose options are coerced only when given (see OptionAbsentIsNone)."""

    def parse_args(self, ctx: Any, args: list[str]) -> Any:
        for param in self.get_params(ctx):  # with the help and completion options
            if type(param) is TyperOption:
                param.__class__ = OptionAbsentIsNone
        return super().parse_args(ctx, args)


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


def is_argument(param: Any) -> bool:
    return isinstance(param, TyperArgument)


def show_plainly(param: Any) -> None:
    """Make a built Typer argument show as its metavar alone (see PlainArgument)."""
    if type(param) is TyperArgument:
        param.__class__ = PlainArgument


def without_completion(holder: typer.Typer) -> None:
    """Build `holder` without Typer's --install/--show-completion options."""
    holder._add_completion = False


def is_no_args_help(error: BaseException) -> bool:
    """A group typed alone: Click "fails" with the group's own help (multi-line, ours)."""
    from typer._click.exceptions import NoArgsIsHelpError

    return isinstance(error, NoArgsIsHelpError)
