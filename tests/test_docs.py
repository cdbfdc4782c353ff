"""The docs cannot drift from the code (sqlite-utils' tests/test_docs.py is the model).

- Every command of the Typer tree (walked recursively, the lazily built ones included)
  has its row in the README's command table (`### The commands`), and every global
  option of the root is on that section's `Global options:` line.
- Every module under alliance_cli/ has its line in DEVELOPERS.md's layout, and every
  module named there exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DEVELOPERS = ROOT / "DEVELOPERS.md"
PACKAGE = ROOT / "alliance_cli"
REVISIONS = Path("store/migrations/versions")  # one per schema change: not listed one by one


# ------------------------------------------------------------------ the Typer tree


def _walk(command: Any, path: tuple[str, ...], ctx: Any) -> Iterator[tuple[tuple[str, ...], Any]]:
    import typer

    if not hasattr(command, "list_commands"):  # a leaf
        yield path, command
        return
    for name in command.list_commands(ctx):
        sub = command.get_command(ctx, name)  # builds a lazy command (cli/root.py)
        yield from _walk(sub, (*path, name), typer.Context(sub, parent=ctx, info_name=name))


def _root() -> tuple[Any, Any]:
    import typer
    import typer.main

    from alliance_cli.cli.root import app

    command = typer.main.get_command(app)
    return command, typer.Context(command, info_name="alliance")


def commands() -> list[str]:
    """Every command a user can type, as `alliance ...` (the root itself included: typed
    alone it shows the caseload at a glance)."""
    command, ctx = _root()
    found = ["alliance"]
    for path, leaf in _walk(command, (), ctx):
        if not leaf.hidden:
            found.append(" ".join(("alliance", *path)))
    return found


def global_options() -> list[str]:
    """The root's options, by their long name (--help is every command's)."""
    command, ctx = _root()
    names = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False) or param.name == "help":
            continue
        names.append(max(param.opts, key=len))
    return names


# ------------------------------------------------------------------ the README


def commands_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n### The commands\n")
    end = re.compile(r"^#{1,3} ", re.MULTILINE).search(text, start + 2)
    return text[start : end.start() if end else len(text)]


def command_table() -> str:
    return "\n".join(line for line in commands_section().splitlines() if line.startswith("|"))


def global_options_line() -> str:
    lines = [line for line in commands_section().splitlines() if line.startswith("Global options:")]
    assert len(lines) == 1, "the README's command section has one `Global options:` line"
    return lines[0]


@pytest.mark.parametrize("command", commands())
def test_every_command_is_in_the_readmes_command_table(command: str) -> None:
    """In a code span of the table: `alliance goal status GOAL_ID ...` names `goal status`."""
    spans = re.findall(r"`([^`]*)`", command_table())
    assert any(span == command or span.startswith(command + " ") for span in spans), (
        f"README.md, '### The commands': no row names `{command}`"
    )


@pytest.mark.parametrize("option", global_options())
def test_every_global_option_is_on_the_readmes_global_options_line(option: str) -> None:
    assert re.search(rf"{re.escape(option)}(?![\w-])", global_options_line()), (
        f"README.md, '### The commands': {option} is not on the `Global options:` line"
    )


def test_the_tree_walk_finds_lazy_commands_and_subcommands() -> None:
    """A control: the walk sees commands built on demand and a group's subcommands."""
    found = commands()
    assert {"alliance flags", "alliance patient add", "alliance config show"} <= set(found)
    assert {"--db", "--clinician", "--debug", "--version"} <= set(global_options())


# ------------------------------------------------------------------ DEVELOPERS.md


def listed_modules() -> set[Path]:
    """The paths named in DEVELOPERS.md's layout tree (indentation gives the folder)."""
    text = DEVELOPERS.read_text(encoding="utf-8")
    block = text[text.index("\n    alliance_cli/\n") :]
    listed: set[Path] = set()
    folders: list[tuple[int, str]] = []  # (indent, name) of the enclosing folders
    for line in block.splitlines()[2:]:
        entry = re.match(r"^    ( +)(\S+)", line)
        if entry is None:
            break  # the end of the block
        indent, name = len(entry.group(1)), entry.group(2)
        while folders and folders[-1][0] >= indent:
            folders.pop()
        path = Path(*(folder for _, folder in folders), name.rstrip("/"))
        if name.endswith("/"):
            folders.append((indent, name.rstrip("/")))
            listed.add(path / "__init__.py")  # a package line stands for its __init__
        else:
            listed.add(path)
    return listed


def package_modules() -> set[Path]:
    found = set()
    for module in PACKAGE.rglob("*.py"):
        relative = module.relative_to(PACKAGE)
        if relative.parent == REVISIONS and relative.name != "__init__.py":
            continue
        found.add(relative)
    return found


def test_every_module_has_its_line_in_developers_md() -> None:
    missing = sorted(str(path) for path in package_modules() - listed_modules())
    assert not missing, f"DEVELOPERS.md's layout does not name: {missing}"


def test_every_module_developers_md_names_exists() -> None:
    stale = sorted(str(path) for path in listed_modules() - package_modules())
    assert not stale, f"DEVELOPERS.md's layout names modules that do not exist: {stale}"
