"""Tab completion of patient codes and `--version` answered without Typer (cli/fast_paths).

The fast path must answer exactly as Typer does for every shell Typer supports, or leave
the request to Typer. Each subprocess request is run twice, once with the fast path
disabled (`_ALLIANCE_NO_FAST_PATH`, Typer answers) and once normally, and both outputs
must be equal byte for byte; `-X importtime` on the fast run shows whether Typer was
loaded. CODE_COMMANDS is checked against the Typer tree so it cannot drift.
"""

from __future__ import annotations

import functools
import io
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alliance_cli.cli import fast_paths
from alliance_cli.cli.completion import complete_code

HEAVY = {
    "typer",
    "click",
    "pydantic",
    "pydantic_core",
    "sqlmodel",
    "sqlalchemy",
    "rich",
    "alembic",
    "plotext",
}
REQUEST_VARS = (
    fast_paths.COMPLETE_VAR,
    fast_paths.SLOW_PATH_VAR,
    "COMP_WORDS",
    "COMP_CWORD",
    "_TYPER_COMPLETE_ARGS",
    "_TYPER_COMPLETE_FISH_ACTION",
    "_TYPER_COMPLETE_WORD_TO_COMPLETE",
    "ALLIANCE_DB",
    "ALLIANCE_CONFIG",
)
# Codes a clinic could use, and the characters that are special to LIKE, shlex or zsh.
CODES = [
    "P1",
    "P2",
    "P10",
    "Q1",
    "a%1",
    "a_1",
    "ab1",
    "a\\1",
    "é1",
    "Ωmega",
    'c"1',
    "c'1",
    "c$1",
    "c`1",
    "c:1",
]
SHELLS = ["bash", "zsh", "fish-get-args", "fish-is-args", "powershell", "pwsh"]


# --- the table of code commands matches the Typer tree -------------------------------


@functools.cache
def _typer_tree() -> Any:
    import typer.main

    from alliance_cli.cli.app import app

    return typer.main.get_command(app)


def _leaves(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    from typer.core import TyperGroup

    if isinstance(command, TyperGroup):
        for name in command.list_commands(None):  # lazy groups are built on demand
            yield from _leaves(command.get_command(None, name), (*path, name))
    else:
        yield path, command


def _completes_codes(param: Any) -> bool:
    """Whether Typer completes this parameter with `complete_code` (Typer keeps the
    function, wrapped, in the closure of the parameter's completion hook)."""
    hook = getattr(param, "_custom_shell_complete", None)
    for cell in getattr(hook, "__closure__", None) or ():
        if getattr(cell.cell_contents, "__wrapped__", None) is complete_code:
            return True
    return False


def test_code_commands_are_exactly_the_commands_whose_code_typer_completes() -> None:
    from typer.core import TyperArgument

    with_codes = set()
    for path, command in _leaves(_typer_tree()):
        if any(_completes_codes(param) for param in command.params):
            with_codes.add(path)
            arguments = [p for p in command.params if isinstance(p, TyperArgument)]
            # The fast path completes the first word after the command: it must be the code.
            assert _completes_codes(arguments[0]), path
            assert arguments[0].nargs == 1, path
    assert with_codes == fast_paths.CODE_COMMANDS


def test_the_root_options_the_fast_path_reads_are_what_it_assumes() -> None:
    root = _typer_tree()
    options = {name: p for p in root.params for name in (*p.opts, *p.secondary_opts)}
    db = options[fast_paths.DB_OPTION]
    assert db.opts == [fast_paths.DB_OPTION] and not db.secondary_opts
    assert not db.is_flag and db.nargs == 1 and not db.multiple and db.callback is None
    for flag in fast_paths.ROOT_FLAGS:
        assert options[flag].is_flag and options[flag].callback is None
    assert root.context_settings.get("token_normalize_func") is None


def test_typer_completes_codes_after_every_code_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Behaviourally too: Typer's own completion of the word after each command is codes."""
    from typer._completion_classes import BashComplete

    db = tmp_path / "codes.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE patient (code VARCHAR NOT NULL)")
        conn.executemany("INSERT INTO patient VALUES (?)", [("K1",), ("K2",)])
    conn.close()
    monkeypatch.setenv("ALLIANCE_DB", str(db))
    complete = BashComplete(_typer_tree(), {}, "alliance", fast_paths.COMPLETE_VAR)
    for path in fast_paths.CODE_COMMANDS:
        items = complete.get_completions(list(path), "K")
        assert [item.value for item in items] == ["K1", "K2"], path


# --- subprocesses: the fast path answers as Typer does -------------------------------


@dataclass(frozen=True)
class Answer:
    returncode: int
    stdout: bytes
    errors: list[str]  # stderr lines that are not -X importtime's
    imported: frozenset[str]  # top-level packages imported (fast runs only)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


def _environ(home: Path, request: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUEST_VARS}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        PYTHONIOENCODING="utf-8",
    )
    env.update(request)
    return env


def _run(home: Path, request: dict[str, str], argv: list[str], *, slow: bool) -> Answer:
    env = _environ(home, request)
    command = [sys.executable, "-m", "alliance_cli", *argv]
    if slow:
        env[fast_paths.SLOW_PATH_VAR] = "1"
    else:
        command[1:1] = ["-X", "importtime"]
    result = subprocess.run(command, capture_output=True, env=env, timeout=60)
    lines = result.stderr.decode("utf-8", "replace").splitlines()
    timing = [line for line in lines if line.startswith("import time:")]
    return Answer(
        result.returncode,
        result.stdout,
        [line for line in lines if not line.startswith("import time:")],
        frozenset(line.split("|")[-1].strip().split(".")[0] for line in timing),
    )


@pytest.fixture(scope="module")
def clinic(home: Path) -> Path:
    """A real alliance database (created by alliance) holding CODES."""
    db = home / "clinic.db"
    subprocess.run(
        [sys.executable, "-m", "alliance_cli", "--db", str(db), "patient", "add", "SEED"],
        check=True,
        capture_output=True,
        env=_environ(home, {}),
    )
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO patient (code, clinician, status, instrument, created) "
            "SELECT ?, clinician, status, instrument, created FROM patient WHERE code = 'SEED'",
            [(code,) for code in CODES],
        )
    conn.close()
    return db


def request(shell: str, words: list[str], incomplete: str) -> dict[str, str]:
    """The environment Typer's completion script for `shell` sets when Tab is pressed
    after `alliance WORDS INCOMPLETE` (see typer/_completion_shared.py)."""
    line = " ".join(shlex.quote(word) for word in ["alliance", *words])
    typed = line + " " + (shlex.quote(incomplete) if incomplete else "")
    if shell == "bash":
        return {
            fast_paths.COMPLETE_VAR: "complete_bash",
            "COMP_WORDS": typed,
            "COMP_CWORD": str(len(words) + 1),
        }
    if shell in ("powershell", "pwsh"):
        return {
            fast_paths.COMPLETE_VAR: f"complete_{shell}",
            "_TYPER_COMPLETE_ARGS": typed.rstrip(" "),
            "_TYPER_COMPLETE_WORD_TO_COMPLETE": incomplete,
        }
    env = {fast_paths.COMPLETE_VAR: f"complete_{shell[:4]}", "_TYPER_COMPLETE_ARGS": typed}
    if shell.startswith("fish"):
        env["_TYPER_COMPLETE_FISH_ACTION"] = shell.removeprefix("fish-")
    return env


def same_answer(
    home: Path, env: dict[str, str], *, fast: bool, argv: list[str] | None = None
) -> Answer:
    """Run a request through Typer and through the fast path; both answers must be equal,
    and the fast path must have answered (Typer not loaded) exactly when `fast`."""
    typer_answer = _run(home, env, argv or [], slow=True)
    answer = _run(home, env, argv or [], slow=False)
    assert (answer.returncode, answer.stdout, answer.errors) == (
        typer_answer.returncode,
        typer_answer.stdout,
        typer_answer.errors,
    )
    if fast:
        assert not HEAVY & answer.imported, sorted(HEAVY & answer.imported)
    else:
        assert "typer" in answer.imported
    return answer


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("words", "incomplete", "expected"),
    [
        (["session", "add"], "P", ["P1", "P10", "P2"]),
        (["--debug", "--db={db}", "patient", "show"], "a%", ["a%1"]),
        (["goal", "list"], "c", sorted(c for c in CODES if c.startswith("c"))),
        (["rate"], "zz", []),
    ],
    ids=["prefix", "db-option-percent", "zsh-special", "no-match"],
)
def test_every_shell_gets_the_answer_typer_gives(
    home: Path, clinic: Path, shell: str, words: list[str], incomplete: str, expected: list[str]
) -> None:
    words = [word.format(db=clinic) for word in words]
    with_option = any(word.startswith("--db") for word in words)  # then it must win
    where = home / "missing.db" if with_option else clinic
    env = request(shell, words, incomplete) | {"ALLIANCE_DB": str(where)}
    answer = same_answer(home, env, fast=True)
    if shell == "bash":
        assert answer.stdout.decode().split("\n")[:-1] == (expected or [""])
    if shell == "fish-is-args":
        assert (answer.returncode, answer.stdout) == (0 if expected else 1, b"")


@pytest.mark.parametrize("shell", ["bash", "zsh", "powershell"])
@pytest.mark.parametrize("incomplete", ["a_", "a\\", "é", "Ω", ""])
def test_codes_with_special_characters(
    home: Path, clinic: Path, shell: str, incomplete: str
) -> None:
    env = request(shell, ["--db", str(clinic), "flags"], incomplete)
    answer = same_answer(home, env, fast=True)
    if shell == "bash":
        expected = sorted(c for c in [*CODES, "SEED"] if c.startswith(incomplete))
        assert answer.stdout.decode().split("\n")[:-1] == expected


def _broken_databases(home: Path) -> dict[str, str]:
    places = home / "broken"
    places.mkdir(exist_ok=True)
    (places / "garbage.db").write_bytes(b"not a database at all" * 100)
    (places / "directory.db").mkdir(exist_ok=True)
    sqlite3.connect(places / "no-table.db").close()
    locked = places / "locked.db"
    if not locked.exists():
        shutil.copy(home / "clinic.db", locked)
    locked.chmod(0)
    return {
        "missing": str(places / "missing.db"),
        "garbage": str(places / "garbage.db"),
        "directory": str(places / "directory.db"),
        "no-table": str(places / "no-table.db"),
        "unreadable": str(locked),
        "server-url": "postgresql://someone:secret@localhost/alliance",
        "memory-url": "sqlite://",
    }


@pytest.mark.parametrize(
    "which",
    ["missing", "garbage", "directory", "no-table", "unreadable", "server-url", "memory-url"],
)
def test_an_unusable_database_gives_no_codes_and_no_error(
    home: Path, clinic: Path, which: str
) -> None:
    db = _broken_databases(home)[which]
    for shell in ("bash", "zsh"):
        answer = same_answer(home, request(shell, ["--db", db, "trend"], ""), fast=True)
        assert answer.returncode == 0 and answer.errors == []


def test_the_database_is_found_as_every_command_finds_it(home: Path, clinic: Path) -> None:
    missing = str(home / "missing.db")
    # --db wins over ALLIANCE_DB; the last --db wins; a sqlite URL; ~ in a path
    cases = [
        (["--db", str(clinic), "log"], {"ALLIANCE_DB": missing}),
        (["--db", missing, "--db", str(clinic), "log"], {}),
        (["--db", f"sqlite:///{clinic}", "export"], {}),
        (["--db", "~/clinic.db", "export"], {}),
        (["--db=", "export"], {"ALLIANCE_DB": str(clinic)}),
    ]
    for words, extra in cases:
        answer = same_answer(home, request("bash", words, "P1") | extra, fast=True)
        assert answer.stdout == b"P1\nP10\n", words
    # the default location: alliance.db in the user data directory
    default = home / "data" / "alliance" / "alliance.db"
    default.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(clinic, default)
    try:
        answer = same_answer(home, request("zsh", ["task", "add"], "Q"), fast=True)
        assert answer.stdout == b"_arguments '*: :((\"Q1\"))'\n"
    finally:
        default.unlink()


@pytest.mark.parametrize(
    ("words", "incomplete"),
    [
        (["session", "add", "--when", "today"], "P"),  # an option before the code
        (["session", "add", "P1"], "P"),  # the code is already there
        (["--version", "session", "add"], "P"),  # an eager root option
        (["--", "session", "add"], "P"),
        (["session"], "a"),  # a command name
        (["session", "add"], "--"),  # an option name
        (["session", "add"], "="),
        (["--db"], ""),  # the value of --db
        (["import"], "P"),  # not a code argument
        (["sesion", "add"], "P"),  # a typo
    ],
)
def test_anything_else_is_left_to_typer(
    home: Path, clinic: Path, words: list[str], incomplete: str
) -> None:
    same_answer(home, request("bash", words, incomplete) | {"ALLIANCE_DB": str(clinic)}, fast=False)


def test_codes_that_click_would_alter_are_left_to_typer(home: Path, tmp_path: Path) -> None:
    db = tmp_path / "hostile.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE patient (code VARCHAR NOT NULL)")
        conn.executemany("INSERT INTO patient VALUES (?)", [("X\x1b[31mred",), ("X1",)])
    conn.close()
    env = request("bash", ["--db", str(db), "flags"], "X")
    answer = same_answer(home, env, fast=False)
    assert b"\x1b" not in answer.stdout  # Click strips escape sequences


def test_other_completion_instructions_are_left_to_typer(home: Path) -> None:
    for instruction in ("source_bash", "complete_tcsh", "complete"):
        same_answer(home, {fast_paths.COMPLETE_VAR: instruction}, fast=False)


def test_version_is_answered_without_typer(home: Path) -> None:
    answer = same_answer(home, {}, argv=["--version"], fast=True)
    assert answer.stdout == b"alliance 0.1.0\n" and answer.returncode == 0
    same_answer(home, {}, argv=["--version", "--help"], fast=False)
    same_answer(home, {}, argv=["--db", "x.db", "--version"], fast=False)


SYS_MODULES_PROBE = """
import json, sys
sys.argv = ["alliance", *{argv!r}]
from alliance_cli.cli.app import run
code = run()  # all of the console script but its final os._exit
sys.stdout.flush()
print(json.dumps([code, sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})]),
      file=sys.stderr)
"""


@pytest.mark.parametrize("slow", [False, True])
def test_sys_modules_after_the_fast_paths(home: Path, clinic: Path, slow: bool) -> None:
    for argv, env in (
        ([], request("bash", ["session", "add"], "P") | {"ALLIANCE_DB": str(clinic)}),
        ([], request("fish-get-args", ["--db", str(clinic), "rate"], "Q")),
        (["--version"], {}),
    ):
        environ = _environ(home, env)
        if slow:  # guard: the probe does see Typer when it is loaded
            environ[fast_paths.SLOW_PATH_VAR] = "1"
        code = SYS_MODULES_PROBE.format(argv=argv, heavy=sorted(HEAVY))
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=environ, timeout=60
        )
        exit_code, loaded = json.loads(result.stderr.strip().splitlines()[-1])
        assert exit_code in (0, None)
        assert result.stdout.split() in (["P1", "P10", "P2"], ["Q1"], ["alliance", "0.1.0"])
        if slow:
            assert "typer" in loaded
        else:
            assert loaded == []


# --- in-process: random command lines, fast path against Typer ----------------------


def _typer_in_process(environ: dict[str, str]) -> tuple[int, bytes]:
    from typer.completion import shell_complete

    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    with patch.dict(os.environ, environ, clear=True), redirect_stdout(out):
        try:
            code = shell_complete(
                _typer_tree(),
                {},
                "alliance",
                fast_paths.COMPLETE_VAR,
                environ[fast_paths.COMPLETE_VAR],
            )
        except SystemExit as exit:
            code = int(exit.code or 0)
        out.flush()
    return code, raw.getvalue()


def _fast_in_process(environ: dict[str, str]) -> tuple[int, bytes] | None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    with patch.dict(os.environ, environ, clear=True), redirect_stdout(out):
        code = fast_paths.answer([], os.environ)
        out.flush()
    return None if code is None else (code, raw.getvalue())


ROOT_WORDS = st.sampled_from(
    ["--db", "--db={db}", "--db=", "{db}", "{missing}", "--debug", "--version", "-h", "--", "-"]
)
PATHS = st.sampled_from(
    [
        *sorted(fast_paths.CODE_COMMANDS),
        (),
        ("session",),
        ("session", "edit"),
        ("import",),
        ("sesion", "add"),
        ("flags", "add"),
    ]
)
WORDS = st.sampled_from(
    ["", "=", "--when", "today", "--format", "-f", "P", "P1", "a%", "'unfinished", "add", "{db}"]
)


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE patient (code VARCHAR NOT NULL)")
        conn.executemany("INSERT INTO patient VALUES (?)", [(c,) for c in CODES])
    conn.close()
    return db


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shell=st.sampled_from(SHELLS),
    root=st.lists(ROOT_WORDS, max_size=4),
    path=PATHS,
    tail=st.lists(WORDS, max_size=2),
    incomplete=st.sampled_from(["", "P", "P1", "a%", "c", "-", "--d", "=", "sess", "'P"]),
    raw=st.booleans(),
    use_env=st.booleans(),
)
def test_random_command_lines_get_typers_answer_or_none(
    fuzz_db: Path,
    tmp_path: Path,
    shell: str,
    root: list[str],
    path: tuple[str, ...],
    tail: list[str],
    incomplete: str,
    raw: bool,
    use_env: bool,
) -> None:
    words = [*root, *path, *tail]
    filled = [w.format(db=fuzz_db, missing=tmp_path / "nothing.db") for w in words]
    env = request(shell, filled, incomplete)
    if raw:  # as typed, unquoted (unfinished quotes and all)
        line = " ".join(["alliance", *filled, incomplete])
        for key in ("COMP_WORDS", "_TYPER_COMPLETE_ARGS"):
            if key in env:
                env[key] = line
    base = {k: v for k, v in os.environ.items() if k not in REQUEST_VARS}
    if use_env:
        base["ALLIANCE_DB"] = str(fuzz_db)
    environ = base | env
    fast = _fast_in_process(environ)
    if fast is not None:
        assert fast == _typer_in_process(environ)


def test_completion_and_the_orm_share_one_caseload_filter() -> None:
    """Completion writes the caseload filter in SQL from alliance_cli/clinician.py, where
    `store.queries.mine` takes its column: both say the same thing."""
    from types import SimpleNamespace

    from sqlmodel import select

    from alliance_cli.clinician import caseload_condition
    from alliance_cli.store.engine import CLINICIAN_KEY
    from alliance_cli.store.models import Patient
    from alliance_cli.store.queries import mine

    transaction = SimpleNamespace(info={CLINICIAN_KEY: "dr_a"})  # what `mine` reads
    query = select(Patient.code).where(mine(transaction))  # type: ignore[arg-type]
    compiled = query.compile()
    assert str(compiled).endswith(f"WHERE {caseload_condition(':clinician_1')}")
    assert compiled.params == {"clinician_1": "dr_a"}
