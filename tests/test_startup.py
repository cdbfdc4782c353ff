"""Start-up stays cheap: help and version never import the database or chart stacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlmodel", "sqlalchemy", "alembic", "plotext", "rich", "pydantic")

PROBE = """
import json, sys
from alliance_cli.cli.app import run
sys.argv = ["alliance", *{args!r}]
run()  # all of the console script but its final os._exit
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})), file=sys.stderr)
"""


def loaded_after(*args: str) -> list[str]:
    code = PROBE.format(args=list(args), heavy=list(HEAVY))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return json.loads(result.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["session", "--help"],
        ["session", "add", "--help"],
        ["patient", "list", "--help"],
        ["--db", "x.db", "--clinician", "a", "goal", "add", "--help"],
    ],
)
def test_help_and_version_import_no_heavy_module(args: list[str]) -> None:
    """pydantic too: Typer would build an adapter for every option left out (the root's
    --db, each group's --help) before a subcommand's --help is seen."""
    heavy = {"sqlmodel", "sqlalchemy", "alembic", "plotext", "pydantic"}
    loaded = loaded_after(*args)
    assert not heavy & {m.split(".")[0] for m in loaded}, loaded


def test_the_root_help_lists_each_command_as_typer_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`alliance --help` lists commands from their help text without building them; the
    text must be what Typer prints once every command is built."""
    from typer.core import TyperGroup
    from typer.testing import CliRunner

    from alliance_cli.cli.root import LAZY, AllianceGroup, app

    listed = CliRunner().invoke(app, ["--help"], terminal_width=100)
    monkeypatch.setattr(AllianceGroup, "format_commands", TyperGroup.format_commands)
    built = CliRunner().invoke(app, ["--help"], terminal_width=100)
    assert listed.exit_code == built.exit_code == 0
    assert listed.output == built.output
    for name in LAZY:
        assert f"\n  {name} " in listed.output


@pytest.mark.parametrize("group", ["session", "patient", "goal", "task", "admin", "config"])
def test_a_group_typed_alone_shows_its_help_on_several_lines(group: str) -> None:
    """Click answers `alliance session` with the group's help as a usage error; that
    text is ours, so it is not squeezed onto one escaped line like a quoted argument."""
    from typer.testing import CliRunner

    from alliance_cli.cli.app import app

    result = CliRunner().invoke(app, [group])
    assert result.exit_code == 2
    assert result.output.startswith(f"Usage: alliance {group} [OPTIONS] COMMAND")
    assert "\nCommands:\n" in result.output and "\\n" not in result.output


def test_importing_the_cli_module_loads_no_heavy_module() -> None:
    code = (
        "import sys, alliance_cli.cli.app; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {list(HEAVY)!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_probe_can_see_heavy_imports(tmp_path: Path) -> None:
    """Guard against a probe that always passes: a real command does load sqlmodel."""
    assert "sqlmodel" in loaded_after("--db", str(tmp_path / "a.db"), "patient", "list")


def test_completion_lists_patient_codes_without_the_database_stack(tmp_path: Path) -> None:
    import os

    db = tmp_path / "codes.db"
    for code in ("P1", "P2", "Q1"):
        subprocess.run(
            [sys.executable, "-m", "alliance_cli", "--db", str(db), "patient", "add", code],
            check=True,
            capture_output=True,
        )
    env = dict(
        os.environ,
        _ALLIANCE_COMPLETE="complete_bash",
        COMP_WORDS="alliance session add P",
        COMP_CWORD="3",
        ALLIANCE_DB=str(db),
    )
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "alliance_cli"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.stdout.split() == ["P1", "P2"]
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert not {"sqlmodel", "sqlalchemy", "alembic", "plotext"} & imported
    env["COMP_WORDS"] = "alliance --db " + str(db) + " flags Q"
    env["COMP_CWORD"] = "4"
    env.pop("ALLIANCE_DB")
    other = subprocess.run(
        [sys.executable, "-m", "alliance_cli"], capture_output=True, text=True, env=env
    )
    assert other.stdout.split() == ["Q1"]
