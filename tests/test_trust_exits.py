"""Exit codes the user's input decides (issue 13, Low: exits).

Exit 5 says "a bug in alliance". Each case here used to end in it although the input was
at fault: a huge number (OverflowError from SQLite, a chart of 10^23 rows), a JSON file
with a 5,000-digit number or nested 100,000 deep, a file name that is not UTF-8, a
stdout that cannot take an arrow (`PYTHONIOENCODING=ascii`). Now each is one `error:`
line with exit 1 (2 for a value out of an option's documented range, as below its
minimum), or the output is written in ASCII. Also: `--debug` only adds the traceback,
never another exit code, and a backup DEST that cannot be written is exit 1, as the
README says.
"""

from __future__ import annotations

import enum
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import Cli
from tests.test_trust_hostile import unprivileged  # noqa: F401 (a fixture used below)

REPO_ROOT = Path(__file__).resolve().parents[1]
HUGE = "9" * 23  # more than SQLite's 64-bit integers, more days than the calendar has
NOT_UTF8 = "\udcff"  # how Python passes the byte 0xff of an argument (surrogateescape)

# What a command line needs besides the parameter under test (p014's records).
FILL = {"code": "P014", "text": "Walk", "clinician": "dr_b", "role": "dr_b"}
EXTRA: dict[tuple[str, ...], tuple[str, ...]] = {
    ("session", "edit"): ("--bond", "5"),
    ("session", "delete"): ("--yes",),
    ("goal", "edit"): ("--text", "Walk further"),
    ("task", "edit"): ("--text", "Walk twice"),
    ("task", "review"): ("--adherence", "done"),
    ("goal", "review"): ("--gas", "0"),
    ("patient", "edit"): ("--name", "Ann"),
    ("patient", "delete"): ("--yes",),
    ("session", "add"): ("--date", "2026-02-03", "--bond", "5", "--goal", "5", "--task", "5"),
    ("rate",): ("--date", "2026-02-03", "--bond", "5", "--goal", "5", "--task", "5"),
    ("restore",): ("--yes",),
    ("undo",): ("--yes",),
}


def alliance(
    *args: str,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
    encoding: str = "utf-8",
) -> subprocess.CompletedProcess[str]:
    """`python -m alliance_cli ARGS` as a real process (the console script's way out)."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run(
        [*prefix, sys.executable, "-m", "alliance_cli", *args],
        env=environment,
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        encoding=encoding,
        errors="surrogateescape" if encoding == "utf-8" else "strict",
        timeout=120,
        check=False,
    )


def describe(result: Result | subprocess.CompletedProcess[str]) -> str:
    code = result.exit_code if isinstance(result, Result) else result.returncode
    return f"exit {code}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-2000:]}"


def refused(result: Result | subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The one `error:` line of a command that failed with `code`, without a traceback."""
    exit_code = result.exit_code if isinstance(result, Result) else result.returncode
    assert exit_code == code, describe(result)
    assert "Traceback" not in result.stdout + result.stderr, describe(result)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), describe(result)
    return lines[0]


# ------------------------------------------------------------------ the CLI tree


Walked = tuple[tuple[str, ...], Any, Any]  # (command as typed, its command, a parameter)


def parameters() -> Iterator[Walked]:
    """Every parameter of every command (walked as tests/test_missing_database.py does)."""
    from alliance_cli.cli.root import LAZY, build_command

    for name in LAZY:
        command = build_command(name)
        subcommands = getattr(command, "commands", None) or {None: command}
        for sub, leaf in subcommands.items():
            typed = (name,) if sub is None else (name, sub)
            for param in leaf.params:
                if param.name != "help":
                    yield typed, leaf, param


def kind(param: Any) -> Any:
    return param.type_descriptor.annotation


def is_argument(param: Any) -> bool:
    return not param.opts[0].startswith("-")


def command_line(walked: Walked, value: str, rows: Path) -> list[str]:
    """The command with `value` given to the parameter and every required argument filled."""
    typed, leaf, target = walked
    args = list(typed)
    for param in leaf.params:
        if param is target:
            args += [value] if is_argument(param) else [f"{param.opts[0]}={value}"]
        elif is_argument(param) and param.required:
            args.append(filler(param, rows))
    extra = list(EXTRA.get(typed, ()))
    if not is_argument(target) and target.opts[0] in extra:  # the option under test wins
        at = extra.index(target.opts[0])
        del extra[at : at + 2]
    return args + extra


def filler(param: Any, rows: Path) -> str:
    annotation = kind(param)
    if param.name in FILL:
        return FILL[param.name]
    if annotation is int:
        return "1"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return str(list(annotation)[-1].value)  # achieved/dropped...: a real status
    return str(rows)


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text("patient,date,bond,goal,task\nP014,2026-02-03,7,7,7\n", encoding="utf-8")
    return path


def int_parameters() -> list[Walked]:
    return [walked for walked in parameters() if kind(walked[2]) is int]


def test_the_walk_finds_every_kind_of_int_parameter() -> None:
    """The walk below is not vacuous: ids, counts and chart sizes are all in it."""
    found = {(*typed, param.opts[0]) for typed, _, param in int_parameters()}
    assert {
        ("session", "edit", "session_id"),
        ("session", "delete", "session_id"),
        ("goal", "status", "goal_id"),
        ("task", "review", "task_id"),
        ("task", "add", "--goal"),
        ("patient", "show", "--recent"),
        ("trend", "--width"),
        ("trend", "--height"),
        ("trend", "--last"),
        ("summary", "--days"),
    } <= found


def test_a_huge_number_for_any_int_parameter_is_the_users_error(
    p014: Cli, rows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every int parameter of the tree, given 10^23 (and -10^23 for options): exit 1 (an
    id no database can hold is unknown; a count beyond the calendar is refused), 2 (out
    of the option's documented range) or 0 (`trend --last`: all of them), never 5, never
    a traceback; nothing changes."""
    monkeypatch.chdir(tmp_path)
    before = p014.dump()
    failures = []
    for walked in int_parameters():
        for value in [HUGE] if is_argument(walked[2]) else [HUGE, "-" + HUGE]:
            args = command_line(walked, value, rows)
            result = p014(*args)
            crashed = result.exception and not isinstance(result.exception, SystemExit)
            if crashed or result.exit_code not in (0, 1, 2) or "Traceback" in result.stderr:
                failures.append((args, describe(result)))
            elif result.exit_code == 1:
                refused(result)
            elif result.exit_code == 2:
                assert "Invalid value" in result.stderr, describe(result)
    assert not failures, failures
    assert p014.dump() == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("session", "edit", HUGE, "--bond", "5"), f"unknown session {HUGE}"),
        (("session", "delete", HUGE, "--yes"), f"unknown session {HUGE}"),
        (("goal", "status", HUGE, "achieved"), f"unknown goal {HUGE}"),
        (("goal", "edit", HUGE, "--text", "x"), f"unknown goal {HUGE}"),
        (("task", "add", "P014", "Walk", "--goal", HUGE), f"unknown goal {HUGE}"),
        (("task", "review", HUGE, "--adherence", "done"), f"unknown task {HUGE}"),
        (("task", "status", HUGE, "completed"), f"unknown task {HUGE}"),
        (("session", "edit", str(2**63), "--bond", "5"), f"unknown session {2**63}"),
        (("session", "edit", "0", "--bond", "5"), "unknown session 0"),
    ],
)
def test_an_id_no_database_can_hold_is_unknown(p014: Cli, args: tuple[str, ...], says: str) -> None:
    before = p014.dump()
    assert says in refused(p014(*args))
    assert p014.dump() == before


@pytest.mark.parametrize(
    ("args", "limit"),
    [
        (("patient", "show", "P014", "--recent", HUGE), "10000"),
        (("trend", "P014", "--width", HUGE), "1000"),
        (("trend", "P014", "--height", HUGE), "500"),
        (("trend", "P014", "--height", "501"), "500"),
    ],
)
def test_a_count_beyond_its_documented_range_is_a_usage_error(
    p014: Cli, args: tuple[str, ...], limit: str
) -> None:
    """--height 10^23 ended in `std::bad_alloc` (exit 134) inside the chart library."""
    result = p014(*args)
    assert result.exit_code == 2, describe(result)
    assert f"less than or equal to {limit}" in result.stderr
    assert f"-{limit}" in p014(*args[:2], "--help").stdout  # the range is in the help


def test_summary_days_beyond_the_calendar_is_one_line(p014: Cli) -> None:
    assert "before year 1" in refused(p014("summary", "--days", HUGE))


# ------------------------------------------------------------------ import


def export_of(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(cli.ok("export", "P014", "--format", "json").stdout)
    document["patients"][0]["code"] = "P015"  # a new patient: an import would add it
    return document


def nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def malformed_files(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """Files that are not exports (as text: json.dumps cannot write some of them)."""
    document = export_of(cli, tmp_path)
    long_rating = json.dumps(document).replace('"bond": 7.0', '"bond": ' + "7" * 5000, 1)
    assert "7" * 5000 in long_rating
    deep_value = dict(document)
    deep_value["patients"] = [dict(document["patients"][0], note=nested(985))]
    return {
        "number of 5000 digits": '{"format": ' + "1" * 5000 + "}",
        "rating of 5000 digits": long_rating,
        "nested 100000 deep": "[" * 100_000 + "]" * 100_000,
        "objects nested 100000 deep": '{"a": ' * 100_000 + "1" + "}" * 100_000,
        "a note nested 985 deep": _dumps_deep(deep_value),
    }


def _dumps_deep(document: dict[str, Any]) -> str:
    """json.dumps of a value nested nearly as deep as Python allows."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(limit + 5000)
    try:
        return json.dumps(document)
    finally:
        sys.setrecursionlimit(limit)


@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_an_import_of_a_malformed_json_file_is_one_line_and_changes_nothing(
    p014: Cli, tmp_path: Path, dry_run: bool
) -> None:
    before = p014.dump()
    for name, text in malformed_files(p014, tmp_path).items():
        path = tmp_path / "export.json"
        path.write_text(text, encoding="utf-8")
        result = p014("import", str(path), *(["--dry-run"] if dry_run else []))
        line = refused(result)
        assert "is not an alliance JSON export" in line or "is not valid JSON" in line, name
        assert p014.dump() == before, name


def test_a_real_process_imports_nothing_from_a_deep_file(p014: Cli, tmp_path: Path) -> None:
    """In a real process (its own stack and recursion limit), not only in pytest's."""
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    before = p014.dump()
    assert "nested too deeply" in refused(alliance("--db", p014.db, "import", str(path)))
    assert p014.dump() == before


def test_a_csv_import_with_a_5000_digit_number_is_one_bad_row(p014: Cli, tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(f"patient,date,bond,goal,task\nP014,2026-02-03,{'7' * 5000},7,7\n")
    before = p014.dump()
    result = p014("import", str(path))
    assert result.exit_code == 1, describe(result)
    assert result.stderr.startswith("error: 1 bad row") and "Traceback" not in result.stderr
    assert p014.dump() == before


def test_a_json_export_still_imports(p014: Cli, tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export_of(p014, tmp_path)), encoding="utf-8")
    p014.ok("import", str(path))
    assert "P015" in p014.ok("patient", "list").stdout


# ------------------------------------------------------------------ not UTF-8


def text_parameters() -> list[Walked]:
    return [walked for walked in parameters() if kind(walked[2]) in (str, Path)]


@pytest.mark.sqlite_only  # the words are refused before any database is asked
def test_bytes_that_are_not_utf8_in_any_text_or_path_parameter(
    p014: Cli, rows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every text or file parameter of the tree, given the byte 0xff: refused in one line
    (exit 1) or accepted, never exit 5; nothing that is not UTF-8 is ever stored."""
    monkeypatch.chdir(tmp_path)  # `--output`s land here
    failures = []
    for walked in text_parameters():
        args = command_line(walked, NOT_UTF8, rows)
        result = p014(*args)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        one_line = result.exit_code != 1 or result.stderr.startswith("error: ")
        clean = one_line and "Traceback" not in result.stderr
        if result.exit_code not in (0, 1, 2) or crashed or not clean:
            failures.append((args, describe(result)))
    assert not failures, failures
    "\n".join(p014.dump()).encode("utf-8")  # no lone surrogate was stored


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--db", "{dir}/\udcff.db", "patient", "list"), "database path from --db"),
        (("--db", "{dir}/\udcff.db", "patient", "add", "P1"), "database path from --db"),
        (("--db", "sqlite:///{dir}/\udcff.db", "flags"), "database path from --db"),
        (("--db", "{db}", "backup", "{dir}/\udcff.db"), "DEST is not a UTF-8 file name"),
        (("--db", "{db}", "restore", "{dir}/\udcff.db", "--yes"), "SRC is not a UTF-8"),
        (("demo", "--path", "{dir}/\udcff.db"), "--path is not a UTF-8 file name"),
        (("--db", "{db}", "patient", "add", "\udcff"), "patient code is not valid UTF-8"),
        (("--db", "{db}", "goal", "add", "P014", "\udcff"), "goal text is not valid UTF-8"),
        (("--db", "{db}", "--clinician", "\udcff", "flags"), "clinician name from --clinician"),
    ],
)
@pytest.mark.sqlite_only  # a file next to the database
def test_a_real_process_given_bytes_that_are_not_utf8(
    p014: Cli, tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    """Real argv bytes (0xff), decoded by Python itself; no file is created for them."""
    folder = tmp_path / "here"
    folder.mkdir()
    (folder / "\udcff.db").write_bytes(p014.db_path.read_bytes())  # SRC, or a --db there
    before = p014.dump()
    argv = [a.format(dir=folder, db=p014.db) for a in args]
    line = refused(alliance(*argv))
    assert says in line
    assert sorted(os.listdir(folder)) == ["\udcff.db"]
    assert p014.dump() == before


# ------------------------------------------------------------------ stdout's encoding


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo caseload (arrows, dashes, chart lines in its listings), made once."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    home = folder / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "d"), "XDG_CONFIG_HOME": str(home)}
    done = alliance("demo", "--path", str(path), env=env)
    assert done.returncode == 0, describe(done)
    return path


LISTINGS = [
    ("patient", "list"),
    ("patient", "show", "D02"),
    ("session", "list", "D02"),
    ("flags", "--history"),
    ("summary",),
    ("summary", "--format", "markdown"),
    ("trend", "D02", "--width", "60", "--height", "16"),
    ("goal", "list", "D02", "--all"),
    ("task", "list", "D02", "--all"),
    ("export", "D02"),
    ("export", "D02", "--format", "json"),
    ("export", "--all", "--format", "csv"),
    ("where",),
    ("config", "show"),
]
LATIN_1 = [("patient", "show", "D02"), ("summary",), ("trend", "D02")]


@pytest.mark.parametrize(
    ("args", "encoding"),
    [(args, "ascii") for args in LISTINGS] + [(args, "latin-1") for args in LATIN_1],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else value,
)
def test_a_listing_on_a_stdout_that_cannot_take_unicode(
    demo_db: Path, args: tuple[str, ...], encoding: str
) -> None:
    """PYTHONIOENCODING=ascii: 7 listings ended in UnicodeEncodeError (exit 5), half-way
    through their output. Now what the encoding cannot take is written in ASCII."""
    env = {"PYTHONIOENCODING": encoding}
    done = alliance("--db", str(demo_db), *args, env=env, encoding=encoding)  # or a decode error
    assert done.returncode == 0, describe(done)
    assert "Traceback" not in done.stderr
    assert (done.stdout + done.stderr).strip()


def test_the_listings_do_hold_what_ascii_cannot_take(demo_db: Path) -> None:
    """The test above is not vacuous: in UTF-8 the same listings hold arrows and lines."""
    wide = "".join(
        alliance("--db", str(demo_db), *args, env={"PYTHONIOENCODING": "utf-8"}).stdout
        for args in (("patient", "list"), ("trend", "D02"), ("export", "D02"))
    )
    assert {"\u2191", "\u2193", "\u2500", "\u2014"} & set(wide)
    ascii_only = alliance(
        "--db", str(demo_db), "patient", "list", env={"PYTHONIOENCODING": "ascii"}
    )
    assert "^" in ascii_only.stdout or "v" in ascii_only.stdout


def test_what_ascii_writes_instead() -> None:
    from alliance_cli.render.ascii_fallback import register

    handler = register()
    assert "\u2191\u2193\u2192".encode("ascii", handler) == b"^v>"
    assert "\u250c\u2500\u2510\u2502\u2524".encode("ascii", handler) == b"+-+|+"
    assert "M\u00fcller \u2014 \u00b10.5".encode("ascii", handler) == b"M\\xfcller - +/-0.5"
    assert "\u00fc\u2191".encode("latin-1", handler) == b"\xfc^"
    assert "\U0001f600".encode("ascii", handler) == b"\\U0001f600"


# ------------------------------------------------------------------ --debug


def corrupt_items(db: Path) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE session_rating SET items = '{{{' WHERE id = 1")
    conn.close()


@pytest.mark.parametrize(
    ("case", "code"),
    [("unknown patient", 1), ("missing database", 4), ("internal error", 5), ("usage", 2)],
)
@pytest.mark.sqlite_only  # a row corrupted in the file
def test_debug_adds_the_traceback_and_keeps_the_exit_code(
    p014: Cli, tmp_path: Path, case: str, code: int
) -> None:
    db = p014.db
    args: tuple[str, ...] = ("patient", "show", "NOPE")
    if case == "missing database":
        db = str(tmp_path / "missing" / "alliance.db")
    elif case == "internal error":
        corrupt_items(p014.db_path)
        args = ("session", "list", "P014")
    elif case == "usage":
        args = ("patient", "show", "P014", "--no-such-option")
    quiet = alliance("--db", db, *args)
    loud = alliance("--debug", "--db", db, *args)
    assert quiet.returncode == loud.returncode == code, (describe(quiet), describe(loud))
    if code == 2:
        return
    assert "Traceback" not in quiet.stderr
    last = loud.stderr.splitlines()[-1]
    assert last == quiet.stderr.splitlines()[-1].replace(
        "Rerun with --debug to see the traceback", "The traceback is above"
    )
    assert "Traceback" in loud.stderr


def test_debug_keeps_exit_4_for_a_wrong_key(tmp_path: Path) -> None:
    """tests/test_encryption.py: a wrong ALLIANCE_DB_KEY is exit 4; with --debug it was 1."""
    pytest.importorskip("sqlcipher3", reason="SQLCipher is not installed")
    from alliance_cli.store.cipher import KEY_ENV

    db = str(tmp_path / "alliance.db")
    assert alliance("--db", db, "patient", "add", "P1").returncode == 0
    assert alliance("--db", db, "encrypt", "--yes", env={KEY_ENV: "right key"}).returncode == 0
    wrong = {KEY_ENV: "wrong key"}
    quiet = alliance("--db", db, "patient", "list", env=wrong)
    loud = alliance("--debug", "--db", db, "patient", "list", env=wrong)
    assert "wrong key" in refused(quiet, 4)
    assert loud.returncode == 4, describe(loud)
    assert "Traceback" in loud.stderr
    assert loud.stderr.splitlines()[-1] == quiet.stderr.strip()


# ------------------------------------------------------------------ backup DEST


@pytest.mark.sqlite_only  # a SQLite backup (PostgreSQL's goes through the same mapping)
def test_a_backup_dest_that_cannot_be_written_is_exit_1(
    p014: Cli,
    tmp_path: Path,
    unprivileged: tuple[str, ...],  # noqa: F811
) -> None:
    """README, "Exit codes": "a backup file that cannot be written there" is exit 1 (it
    was 4, the code for the database itself)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        for dest in (locked / "copy.db", locked):
            done = alliance("--db", p014.db, "backup", str(dest), prefix=unprivileged)
            assert "cannot create a file in" in refused(done, 1)
            assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_nesting_is_measured_without_recursion() -> None:
    """A value nested near Python's limit is refused before anything walks it
    recursively (in the ORM, even the interpreter's error reports then failed)."""
    from alliance_cli.services.exchange.import_json import MAX_DEPTH, _depth_over

    def nested(depth: int) -> Any:
        value: Any = "x"
        for level in range(depth):
            value = [value] if level % 2 else {"a": value}
        return value

    assert not _depth_over({"patients": [{"note": "x", "goals": [{"reviews": []}]}]}, MAX_DEPTH)
    assert not _depth_over(nested(MAX_DEPTH), MAX_DEPTH)
    assert _depth_over(nested(MAX_DEPTH + 1), MAX_DEPTH)
    assert _depth_over(nested(200_000), MAX_DEPTH)  # far past the recursion limit
