"""The README's examples are real: its tour runs, and CI runs its test command."""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Cli

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def sh_blocks(section: str) -> list[str]:
    """The ```sh blocks of one `## ` section of the README."""
    body = README.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", body, flags=re.S)


def commands_of(section: str) -> list[list[str]]:
    commands = []
    for block in sh_blocks(section):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words and words[0] == "alliance":
                commands.append(words[1:])
    return commands


def tour_commands() -> list[list[str]]:
    """The tour, then the sharing examples, then the erasure that ends the tour."""
    tour = commands_of("A tour")
    erase = [argv for argv in tour if argv[:2] == ["patient", "delete"]]
    keep = [argv for argv in tour if argv not in erase]
    sharing = commands_of("Weekly summary, exports and import")
    before = commands_of("Before the next session")
    outcomes = commands_of("Outcomes")
    backup = commands_of("Backup, restore and health")
    return keep + before + outcomes + sharing + backup + erase


def test_the_tour_has_commands() -> None:
    assert len(tour_commands()) >= 20


@pytest.mark.sqlite_only  # the tour backs up and restores the SQLite file
def test_every_tour_command_runs_in_order(
    fixed_today: date, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """As of the fixed day: the tour's dates (2026-11-13, `yesterday`, `--days 7`) are
    meant for a reader around then, and a session date in the future is refused."""
    import shutil

    monkeypatch.setenv("ALLIANCE_DB", str(tmp_path / "tour.db"))
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work / "examples")
    monkeypatch.chdir(work)
    for argv in tour_commands():
        result = cli(*argv, db=False)
        expected = 3 if "--fail-on-flags" in argv else 0
        assert result.exit_code in (0, expected), (argv, result.stderr)
        assert "Traceback" not in result.stderr
    assert (work / "everything.json").exists() and (work / "p014-fhir.json").exists()
    assert (work / "alliance-copy.db").exists()


def test_ci_runs_the_readme_test_command() -> None:
    (command,) = [b.strip() for b in sh_blocks("Run the tests (one command)")]
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert command in ci_lines


def test_ci_runs_the_slow_tier_the_readme_names() -> None:
    """The README says how to run the tests its command leaves out (marked `slow`), and
    CI runs them that way."""
    section = README.split("## Run the tests (one command)\n", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"`(python -m pytest [^`]*-m slow)`", section)
    assert commands, "the README names the command of the slow tier"
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci, command


def test_ci_checks_the_readme_install_command() -> None:
    (command,) = [b.strip() for b in sh_blocks("Install and try it (one command)")]
    assert command == "pip install . && alliance demo"
    assert command in (ROOT / "examples" / "fresh_install.sh").read_text()
    assert "examples/fresh_install.sh" in (ROOT / ".ci" / "run").read_text()


def test_readme_lists_every_exit_code() -> None:
    from alliance_cli.errors import ExitCode

    table = README.split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    documented = {int(m) for m in re.findall(r"^\| (\d+) \|", table, flags=re.M)}
    assert documented == {int(code) for code in ExitCode}


def test_readme_documents_every_instrument_and_flag_rule() -> None:
    from alliance_cli.domain.flags import KINDS
    from alliance_cli.domain.instruments import BUILTIN_INSTRUMENTS

    instruments = README.split("## Instruments\n", 1)[1].split("\n## ", 1)[0]
    for name in BUILTIN_INSTRUMENTS:
        assert re.search(rf"^\| `{re.escape(name)}` \|", instruments, flags=re.M), name
    flags = README.split("## Flags\n", 1)[1].split("\n## ", 1)[0]
    for kind in KINDS:
        row = re.search(rf"^\| `{re.escape(kind)}` \|(.*)$", flags, flags=re.M)
        assert row, kind
        cells = [cell.strip() for cell in row.group(1).split("|")]
        severity, rule, default, source = cells[:4]
        assert severity and rule and default and source, kind


CAPTURES_SECTION = "### What the daily views look like at 80 columns\n"


def capture_blocks(readme: str) -> list[tuple[str, str]]:
    """Each ```text block of the captures section that starts with `$ alliance ...`:
    (the whole block as written, the command)."""
    body = readme.split(CAPTURES_SECTION, 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    return [
        (block, block.split("\n", 1)[0].removeprefix("$ "))
        for block in re.findall(r"```text\n(\$ alliance[^\n]*\n.*?)```", body, flags=re.S)
    ]


def test_the_readme_captures_are_what_the_demo_prints_at_80_columns(
    fixed_today: date, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The screenshots cannot drift: each is the piped output of its command on the demo
    caseload of the fixed day, at most 80 columns wide. `ALLIANCE_README_CAPTURES=write`
    rewrites them (then read the diff before committing it)."""
    import os

    monkeypatch.setenv("COLUMNS", "80")
    demo = tmp_path / "demo.db"
    assert Cli(demo)("demo", "--path", str(demo), db=False).exit_code == 0
    blocks = capture_blocks(README)
    assert [command for _, command in blocks] == [
        "alliance",
        "alliance patient list",
        "alliance flags",
        "alliance prep D02",
    ]
    readme = README
    for block, command in blocks:
        output = Cli(demo).ok(*shlex.split(command)[1:]).stdout
        assert max(len(line) for line in output.splitlines()) <= 80, output
        assert "\x1b" not in output and "…" not in output
        fresh = f"$ {command}\n{output}"
        if os.environ.get("ALLIANCE_README_CAPTURES") == "write":
            readme = readme.replace(f"```text\n{block}```", f"```text\n{fresh}```", 1)
        else:
            assert block == fresh, f"README capture of `{command}` is stale:\n{fresh}"
    if readme != README:
        (ROOT / "README.md").write_text(readme)
