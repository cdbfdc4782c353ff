"""The contracts of alliance_cli/adapters/: the library internals alliance relies on are
still there in the installed versions. An upgrade of Typer or plotext fails here first,
naming the version the adapter was written for; the adapter is the one file to change."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from enum import StrEnum
from typing import Annotated, Any

import plotext
import pytest
import typer
import typer.main
from typer.core import TyperArgument, TyperOption

from alliance_cli.adapters import plotext_internals as plotext_import
from alliance_cli.adapters import typer_internals


def test_typer_is_the_verified_minor_version() -> None:
    assert typer.__version__.startswith(typer_internals.VERIFIED_WITH + "."), (
        f"alliance_cli/adapters/typer_internals.py was verified with Typer "
        f"{typer_internals.VERIFIED_WITH}, this is {typer.__version__}: check each "
        "internal it names, then update VERIFIED_WITH"
    )


def test_plotext_is_the_verified_minor_version() -> None:
    version = importlib.metadata.version("plotext")
    assert version.startswith(plotext_import.VERIFIED_WITH + "."), (
        f"alliance_cli/adapters/plotext_import.py was verified with plotext "
        f"{plotext_import.VERIFIED_WITH}, this is {version}"
    )


def output_of(command: Any, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What a built Click command prints for `args` (Typer vendors Click: no CliRunner of
    its own for a built command, and `click` itself need not be installed)."""
    capsys.readouterr()
    command.main(args, prog_name="root", standalone_mode=False)
    return capsys.readouterr().out


def _built() -> typer.Typer:
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def add(
        code: Annotated[str, typer.Argument()],
        rater: Annotated[str | None, typer.Option("--rater")] = None,
    ) -> None:
        typer.echo(f"{code} {rater}")

    @app.command()
    def other() -> None:
        pass

    return app


def test_typer_internals_are_where_the_adapter_reads_them() -> None:
    command = typer.main.get_command(_built()).commands["add"]  # type: ignore[attr-defined]
    argument, option = command.params
    assert type(argument) is TyperArgument and type(option) is TyperOption
    assert typer_internals.value_kind(argument) == (str, ())
    assert typer_internals.value_kind(option)[0] in (str, str | None)
    assert option.type_descriptor.parameter_info.parser is None
    for name in ("_usage_display_name", "display_type", "display_type_rich"):
        assert callable(getattr(TyperArgument, name)), name
    assert argument.display_name_raw
    assert "process_value" in vars(TyperOption) or hasattr(TyperOption, "process_value")


def test_plain_argument_shows_its_metavar_alone(capsys: pytest.CaptureFixture[str]) -> None:
    holder = _built()
    command = typer.main.get_command(holder)
    add = command.commands["add"]  # type: ignore[attr-defined]
    add.params[0].metavar = "CODE"
    typer_internals.show_plainly(add.params[0])
    assert type(add.params[0]) is typer_internals.PlainArgument
    usage = output_of(command, ["add", "--help"], capsys)
    assert "add [OPTIONS] CODE\n" in usage and "{code}" not in usage
    assert "  CODE  [required]" in usage


def test_an_option_left_out_or_given_as_text_skips_coercion(
    capsys: pytest.CaptureFixture[str],
) -> None:
    holder = _built()
    holder.info.cls = typer_internals.CheapGroup
    command = typer.main.get_command(holder)
    assert isinstance(command, typer_internals.CheapGroup)
    assert output_of(command, ["add", "P1", "--rater", "patient"], capsys) == "P1 patient\n"
    assert output_of(command, ["add", "P1"], capsys) == "P1 None\n"


class Shade(StrEnum):
    light = "light"
    dark = "dark"

    @classmethod
    def _missing_(cls, value: object) -> Shade | None:  # Typer never consults it
        return next((m for m in cls if m.value == str(value).lower()), None)


def _with_choices() -> typer.Typer:
    app = typer.Typer(rich_markup_mode=None)

    @app.command()
    def paint(
        code: Annotated[str, typer.Argument()],
        shade: Annotated[Shade, typer.Option("--shade")] = Shade.light,
        note: Annotated[str | None, typer.Option("--note")] = None,
        times: Annotated[int, typer.Option("--times")] = 1,
        loud: Annotated[bool, typer.Option("--loud")] = False,
    ) -> None:
        typer.echo(f"{code} {shade!r} {note} {times!r} {loud}")

    @app.command()
    def other() -> None:
        pass

    return app


def test_a_command_takes_text_and_choices_as_typed_and_coerces_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """coerce_cheaply: a choice becomes its Enum member, text stays text, a number is
    still coerced (and checked) by Typer, a bad choice gets Typer's own message."""
    command = typer.main.get_command(_with_choices())
    typer_internals.coerce_cheaply(command)
    paint = command.commands["paint"]  # type: ignore[attr-defined]
    assert type(paint) is typer_internals.CheapCommand
    for param in paint.params:
        typer_internals.show_plainly(param)
    said = output_of(command, ["paint", "P1", "--shade", "dark", "--times", "3"], capsys)
    assert said == "P1 <Shade.dark: 'dark'> None 3 False\n"
    said = output_of(command, ["paint", "P1", "--note", "x", "--loud"], capsys)
    assert said == "P1 <Shade.light: 'light'> x 1 True\n"
    for wrong in (["--shade", "Dark"], ["--times", "three"]):
        with pytest.raises(Exception) as raised:
            command.main(["paint", "P1", *wrong], prog_name="root", standalone_mode=False)
        assert type(raised.value).__name__ == "BadParameter", raised.value
    with pytest.raises(Exception) as missing:
        command.main(["paint"], prog_name="root", standalone_mode=False)
    assert type(missing.value).__name__ == "MissingParameter"


@pytest.mark.parametrize("command", [["outcomes"], ["flags", "--format", "json"]])
def test_caseload_reports_read_without_the_orm_or_pydantic(
    tmp_path: Any, command: list[str]
) -> None:
    """`outcomes` and `flags` over the caseload read with plain SQL and plain options:
    importing SQLModel, the ORM and pydantic cost about 0.2 s of start-up
    (benchmarks/run.py)."""
    db = tmp_path / "demo.db"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    made = subprocess.run(
        [sys.executable, "-m", "alliance_cli", "demo", "--path", str(db)],
        capture_output=True,
        env=env,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "alliance_cli", "--db", str(db), *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert "sqlalchemy" in imported  # the check itself sees imports
    assert not imported & {"sqlmodel", "sqlalchemy.orm", "pydantic", "typer._adapters"}


def test_without_completion_removes_the_completion_options() -> None:
    with_it, without = _built(), _built()
    typer_internals.without_completion(without)
    names = {
        app: {p.name for p in typer.main.get_command(app).params} for app in (with_it, without)
    }
    assert "install_completion" in names[with_it]
    assert "install_completion" not in names[without]


def test_a_group_typed_alone_is_recognised() -> None:
    holder = _built()
    holder.info.no_args_is_help = True
    command = typer.main.get_command(holder)
    try:
        command.main([], standalone_mode=False)
    except Exception as error:
        assert typer_internals.is_no_args_help(error)
    else:
        raise AssertionError("Click no longer raises for a group typed alone")
    assert not typer_internals.is_no_args_help(ValueError())


def test_plotext_has_the_documentation_module_the_adapter_stands_in_for() -> None:
    assert importlib.util.find_spec(plotext_import.DOC_MODULE) is not None
    code = (
        "import sys\n"
        "from alliance_cli.adapters.plotext_internals import import_plotext, DOC_MODULE\n"
        "plt = import_plotext()\n"
        "assert callable(plt.figure.build) and callable(plt.figure.signal)\n"
        "assert DOC_MODULE not in sys.modules  # never built\n"
        "import importlib; doc = importlib.import_module(DOC_MODULE)\n"
        "assert hasattr(doc, 'docs') and doc.docs is not None  # the real one, later\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unclipped_restores_the_terminal_limit() -> None:
    before = list(plotext.terminal._limit)
    with plotext_import.unclipped(plotext):
        assert list(plotext.terminal._limit) == [False, False]
    assert list(plotext.terminal._limit) == before
