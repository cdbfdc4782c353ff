"""`encrypt`, `decrypt` and `restore` replace the live SQLite file while a writer adds
sessions (issue 13, "High"): no acknowledged write is ever lost, the file is never left
unreadable, and a conversion either completes with every row or changes nothing.

The reproduction of the issue, 20 rounds per command: a writer process adds sessions to
patient RX one after another (`alliance session add RX --date ...`, the real CLI) and,
once it has acknowledged a first add, another process runs `alliance encrypt --yes` (or
`decrypt --yes`, or `restore SNAPSHOT --yes`); the writer goes on until it has
acknowledged two more adds after the command returned. Then:

- every add the writer acknowledged (exit 0) is in the database, or, for `restore`, in
  the database or in the copy of it that restore took first;
- the database passes SQLite's integrity check (with the key when it is encrypted, with
  the standard library's sqlite3 when it is plain) and a command (`session list RX`)
  reads it;
- a command that succeeded left the file converted (encrypted / plain / the snapshot's
  content); one that failed said so on one line and left the file as it was (still plain /
  still encrypted, every row of the caseload there).

Both roles are long-lived Python processes that call the console script's entry point
once per command (tests/cli_loop.py `call`), so a round costs ~1-2 s instead of a dozen
interpreter start-ups; alliance keeps nothing between commands. Nothing is timed: the
test waits for lines from the processes' pipes (with generous upper bounds as a safety
net only).

A tally of how each command ended (and why the writer's refused adds were refused) is
part of every failure message; at least one round must have converted the file, so the
test cannot pass by refusing every time. Before the fix (services/maintenance/replacement.py), on
the development machine (2 busy cores, three runs): encrypt and decrypt lost
acknowledged adds in 1-3 rounds of 20 (exit 4 "the converted copy lost rows": the
writer's new `-wal` deleted) and were refused as "in use" in all the others; restore
lost the adds written between its backup and its rename in 11 of 20. After it: 20 of 20
converted in every run, nothing lost, and the writer refused a few adds with "the
database file was replaced" (exit 4).
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import alliance_cli

pytestmark = pytest.mark.sqlite_only  # about the SQLite file itself

PACKAGE_ROOT = Path(alliance_cli.__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
ROUNDS = 20
KEY = "supersecretkey1"
CODE = "RX"
FIRST = date(2020, 1, 1)
ADDS = 400  # more dates than a round ever reaches: the writer stops when told
AFTER = 2  # adds the writer must acknowledge after the command returned
WAIT = 120.0  # seconds: a safety net only, never a timing assumption
SQLITE_HEADER = b"SQLite format 3\x00"

# One role per process, many commands: a "write" job runs its commands in order until
# the stop file exists, printing one line per command ({"i", "rc", "stderr"}) and then
# {"done": true}; a "run" job runs one command and prints cli_loop's record.
DRIVER = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from cli_loop import call
import alliance_cli
print(json.dumps({"alliance_cli": alliance_cli.__file__}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    if job["kind"] == "write":
        for i, argv in enumerate(job["commands"]):
            if os.path.exists(job["stop"]):
                break
            result = call(argv)
            print(json.dumps({"i": i, "rc": result["rc"], "stderr": result["stderr"]}), flush=True)
        print(json.dumps({"done": True}), flush=True)
    else:
        print(json.dumps(call(job["argv"])), flush=True)
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if part
    )
    env["ALLIANCE_DB_KEY"] = KEY  # as in the issue: every command has the key
    return env


@dataclass
class Role:
    """A driver process; its lines are read without blocking (selectors)."""

    process: subprocess.Popen[bytes]
    buffer: bytes = b""
    lines: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, env: dict[str, str]) -> Role:
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, str(TESTS)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        role = cls(process)
        os.set_blocking(process.stdout.fileno(), False)  # type: ignore[union-attr]
        return role

    def send(self, job: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(job).encode() + b"\n")
        self.process.stdin.flush()

    def pump(self) -> None:
        """Take whatever the process has written so far."""
        assert self.process.stdout is not None
        while True:
            try:
                chunk = os.read(self.process.stdout.fileno(), 65536)
            except BlockingIOError:
                break
            if not chunk:
                assert self.process.poll() is None or not self.buffer, "driver died"
                break
            self.buffer += chunk
        *complete, self.buffer = self.buffer.split(b"\n")
        self.lines.extend(json.loads(line) for line in complete)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def wait_for(roles: list[Role], done: Any, what: str) -> None:
    """Read the roles' pipes until `done()` holds (a safety-net deadline only)."""
    deadline = time.monotonic() + WAIT
    with selectors.DefaultSelector() as selector:
        for role in roles:
            selector.register(role.process.stdout, selectors.EVENT_READ)  # type: ignore[arg-type]
        while True:
            for role in roles:
                role.pump()
            if done():
                return
            assert time.monotonic() < deadline, f"no {what} within {WAIT:.0f} s"
            for role in roles:
                assert role.process.poll() is None, f"a driver exited while waiting for {what}"
            selector.select(timeout=1.0)


@contextmanager
def roles(env: dict[str, str]) -> Iterator[tuple[Role, Role]]:
    writer, operator = Role.start(env), Role.start(env)
    try:
        wait_for([writer, operator], lambda: writer.lines and operator.lines, "start-up")
        for role in (writer, operator):
            header = role.lines.pop(0)
            assert Path(header["alliance_cli"]).resolve().parent == PACKAGE_ROOT / "alliance_cli"
        yield writer, operator
    finally:
        writer.stop()
        operator.stop()


def run(operator: Role, *argv: str) -> dict[str, Any]:
    operator.lines.clear()
    operator.send({"kind": "run", "argv": list(argv)})
    wait_for([operator], lambda: operator.lines, f"`alliance {' '.join(argv[2:])}`")
    return operator.lines.pop()


@dataclass
class Round:
    db: Path
    result: dict[str, Any]  # the command's record (rc, stdout, stderr)
    acked: set[str]  # dates of the adds the writer acknowledged
    tried: set[str]  # dates of every add it attempted
    refused: list[str]  # the error lines of the adds it did not acknowledge


def one_round(writer: Role, operator: Role, db: Path, command: list[str]) -> Round:
    """Writer adding sessions to `db`; `command` once it has acknowledged one add; the
    writer stops after AFTER more acknowledged adds."""
    stop = db.with_name("stop")
    dates = [(FIRST + timedelta(days=n)).isoformat() for n in range(ADDS)]
    rating = ["--bond", "5", "--goal", "5", "--task", "5"]
    commands = [["--db", str(db), "session", "add", CODE, "--date", d, *rating] for d in dates]
    writer.lines.clear()
    writer.send({"kind": "write", "commands": commands, "stop": str(stop)})

    def acked() -> list[int]:
        return [line["i"] for line in writer.lines if line.get("rc") == 0]

    wait_for([writer], lambda: acked(), "first acknowledged add")
    operator.lines.clear()
    operator.send({"kind": "run", "argv": ["--db", str(db), *command]})
    wait_for([writer, operator], lambda: operator.lines, f"`alliance {command[0]}`")
    result = operator.lines.pop()
    seen = len(acked())
    wait_for([writer], lambda: len(acked()) >= seen + AFTER, "adds after the command")
    stop.touch()
    wait_for([writer], lambda: writer.lines and writer.lines[-1].get("done"), "writer stop")
    calls = [line for line in writer.lines if "i" in line]
    for line in calls:  # a refused add says why on one line (busy, replaced...), no traceback
        assert line["rc"] == 0 or line["stderr"].startswith("error: "), line
    return Round(
        db=db,
        result=result,
        acked={dates[line["i"]] for line in calls if line["rc"] == 0},
        tried={dates[line["i"]] for line in calls},
        refused=[line["stderr"].strip() for line in calls if line["rc"] != 0],
    )


# --------------------------------------------------------------------------------------
# Reading the files with the drivers themselves
# --------------------------------------------------------------------------------------


def encrypted(path: Path) -> bool:
    return not path.read_bytes()[:16].startswith(SQLITE_HEADER)


def connect(path: Path) -> Any:
    """sqlite3 for a plain file, SQLCipher keyed with KEY for an encrypted one."""
    if not encrypted(path):
        return sqlite3.connect(path, timeout=30)
    import sqlcipher3

    from alliance_cli.store import cipher

    connection = sqlcipher3.connect(str(path), timeout=30)
    connection.execute(f'PRAGMA key = "{cipher.raw_key(KEY, path.read_bytes()[:16])}"')
    return connection


def content(path: Path) -> tuple[set[str], dict[str, int]]:
    """RX's session dates and the number of rows of every other patient's sessions and of
    the tables the writer does not touch; the file must pass SQLite's integrity check."""
    with closing(connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], path
        dates = {
            str(day)[:10]
            for (day,) in conn.execute(
                "SELECT s.date FROM session_rating s JOIN patient p ON p.id = s.patient_id"
                " WHERE p.code = ?",
                (CODE,),
            )
        }
        counts = {
            "others": conn.execute(
                "SELECT count(*) FROM session_rating s JOIN patient p ON p.id = s.patient_id"
                " WHERE p.code != ?",
                (CODE,),
            ).fetchone()[0],
            **{
                table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("patient", "goal", "task")
            },
        }
    return dates, counts


def check_readable(operator: Role, done: Round, dates: set[str]) -> None:
    """A command reads the database (the key is in its environment) and sees `dates`."""
    listed = run(operator, "--db", str(done.db), "session", "list", CODE, "--format", "json")
    assert listed["rc"] == 0, listed["stderr"]
    assert {row["date"][:10] for row in json.loads(listed["stdout"])} == dates


def outcome(done: Round) -> list[str]:
    """How the command ended ("0" or its error line), then the writer's refusals: what
    the tally counts."""
    said = "0" if done.result["rc"] == 0 else done.result["stderr"].strip()
    return [line.replace(str(done.db), "DB") for line in (said, *done.refused)]


def tally(outcomes: Counter[str]) -> str:
    return "outcomes (command, then the writer's refusals): " + "; ".join(
        f"{n} x {what!r}" for what, n in outcomes.most_common()
    )


def one_error_line(result: dict[str, Any]) -> None:
    lines = result["stderr"].splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result["stderr"]


# --------------------------------------------------------------------------------------
# Fixtures: a small caseload, plain and encrypted
# --------------------------------------------------------------------------------------


def make_template(tmp_path: Path, env: dict[str, str]) -> Path:
    template = tmp_path / "template" / "alliance.db"
    template.parent.mkdir()
    script = PACKAGE_ROOT / "benchmarks" / "make_caseload.py"
    made = subprocess.run(
        [sys.executable, str(script), "12", "8", str(template)],
        capture_output=True,
        text=True,
        env=env,
        timeout=WAIT,
    )
    assert made.returncode == 0, made.stderr
    return template


def fresh_copy(template: Path, directory: Path) -> Path:
    directory.mkdir(mode=0o700)
    db = directory / "alliance.db"
    shutil.copy(template, db)
    return db


def add_rx(operator: Role, db: Path) -> None:
    made = run(operator, "--db", str(db), "patient", "add", CODE, "--since", FIRST.isoformat())
    assert made["rc"] == 0, made["stderr"]


def side_files_clean(directory: Path) -> None:
    """No temp copy left behind (side files of a closed database are SQLite's business)."""
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# --------------------------------------------------------------------------------------
# The engine's half, deterministic: a connection bound to a file that was replaced
# --------------------------------------------------------------------------------------


def replaced_under(tmp_path: Path) -> tuple[Path, Path]:
    """A database with P1 and a copy of it holding P2 as well (the "new" file)."""
    from tests.conftest import Cli

    db = tmp_path / "clinic" / "alliance.db"
    db.parent.mkdir()
    Cli(db).ok("patient", "add", "P1")
    new = tmp_path / "clinic" / "new.db"
    shutil.copy(db, new)
    Cli(new).ok("patient", "add", "P2")
    return db, new


def codes(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return [code for (code,) in conn.execute("SELECT code FROM patient ORDER BY code")]


def test_a_connection_to_a_replaced_file_writes_nothing_and_says_so(tmp_path: Path) -> None:
    """Opened before the rename, used after (what a writer waiting for the lock of
    `restore`/`encrypt` would do): no transaction begins, the new file is untouched, and
    closing the old connection leaves the new file's side files alone."""
    from alliance_cli.errors import StorageError
    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import open_database

    db, new = replaced_under(tmp_path)
    database = open_database(resolve_database(str(db)))
    try:
        with database.read() as session:  # a connection on the old file, in the pool
            session.connection()
        for suffix in ("-wal", "-shm"):  # as the replacer does, but with them still in use
            os.replace(f"{db}{suffix}", f"{db}.old{suffix}")
        os.replace(new, db)
        other = sqlite3.connect(db)  # the new file in use, its WAL holding a change
        other.execute("PRAGMA journal_mode = WAL")
        other.execute("UPDATE patient SET code = 'P3' WHERE code = 'P2'")
        other.commit()
        for begin in (database.write, database.read):
            with pytest.raises(StorageError, match="replaced") as raised, begin() as session:
                session.connection()
            assert "\n" not in raised.value.message
    finally:
        database.close()
    assert Path(f"{db}-wal").stat().st_size > 0  # not checkpointed away by the old one
    other.close()
    assert codes(db) == ["P1", "P3"]


def test_an_engine_never_connects_to_a_file_that_replaced_its_own(tmp_path: Path) -> None:
    from alliance_cli.errors import StorageError
    from alliance_cli.store.engine import make_engine

    db, new = replaced_under(tmp_path)
    engine = make_engine(f"sqlite:///{db}")
    try:
        os.replace(new, db)
        with pytest.raises(StorageError, match="replaced"), engine.connect():
            pass
    finally:
        engine.dispose()
    assert codes(db) == ["P1", "P2"]


# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_encrypt_racing_a_writer_loses_nothing_and_damages_nothing(tmp_path: Path) -> None:
    pytest.importorskip("sqlcipher3")
    env = _env()
    template = make_template(tmp_path, env)
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    with roles(env) as (writer, operator):
        add_rx(operator, template)
        before, counts = content(template)
        assert before == set()
        for number in range(ROUNDS):
            db = fresh_copy(template, tmp_path / f"round-{number:02d}")
            done = one_round(writer, operator, db, ["encrypt", "--yes"])
            said, *refused = outcome(done)
            outcomes[said] += 1
            outcomes.update(f"writer: {line}" for line in refused)
            try:
                dates, now = content(db)
                if done.result["rc"] == 0:
                    assert encrypted(db), "encrypt said it succeeded, the file is plain"
                    (copy,) = db.parent.glob("alliance.pre-encryption-*.db")
                    assert not encrypted(copy)
                    content(copy)  # sound
                else:
                    one_error_line(done.result)
                    assert not encrypted(db), "a failed encrypt changed the file"
                assert now == counts, "rows of the caseload changed"
                assert done.acked <= dates, f"acknowledged adds lost: {done.acked - dates}"
                assert dates <= done.tried
                check_readable(operator, done, dates)
                side_files_clean(db.parent)
            except (AssertionError, sqlite3.DatabaseError, ImportError) as error:
                failures.append(f"round {number}: rc {done.result['rc']}: {error}")
            except Exception as error:  # sqlcipher3's errors do not derive from sqlite3's
                failures.append(f"round {number}: rc {done.result['rc']}: {error!r}")
    assert not failures, "\n".join([*failures, tally(outcomes)])
    assert outcomes.get("0"), f"no round converted the file: {tally(outcomes)}"


@pytest.mark.slow
def test_decrypt_racing_a_writer_loses_nothing_and_damages_nothing(tmp_path: Path) -> None:
    pytest.importorskip("sqlcipher3")
    env = _env()
    template = make_template(tmp_path, env)
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    with roles(env) as (writer, operator):
        add_rx(operator, template)
        _, counts = content(template)
        made = run(operator, "--db", str(template), "encrypt", "--yes")
        assert made["rc"] == 0, made["stderr"]
        for copy in template.parent.glob("alliance.pre-encryption-*.db"):
            copy.unlink()
        assert encrypted(template)
        for number in range(ROUNDS):
            db = fresh_copy(template, tmp_path / f"round-{number:02d}")
            done = one_round(writer, operator, db, ["decrypt", "--yes"])
            said, *refused = outcome(done)
            outcomes[said] += 1
            outcomes.update(f"writer: {line}" for line in refused)
            try:
                dates, now = content(db)
                if done.result["rc"] == 0:
                    assert not encrypted(db), "decrypt said it succeeded, the file is encrypted"
                    (copy,) = db.parent.glob("alliance.pre-decryption-*.db")
                    assert encrypted(copy)
                    content(copy)
                else:
                    one_error_line(done.result)
                    assert encrypted(db), "a failed decrypt changed the file"
                assert now == counts, "rows of the caseload changed"
                assert done.acked <= dates, f"acknowledged adds lost: {done.acked - dates}"
                assert dates <= done.tried
                check_readable(operator, done, dates)
                side_files_clean(db.parent)
            except (AssertionError, sqlite3.DatabaseError) as error:
                failures.append(f"round {number}: rc {done.result['rc']}: {error}")
            except Exception as error:  # sqlcipher3's errors do not derive from sqlite3's
                failures.append(f"round {number}: rc {done.result['rc']}: {error!r}")
    assert not failures, "\n".join([*failures, tally(outcomes)])
    assert outcomes.get("0"), f"no round converted the file: {tally(outcomes)}"


@pytest.mark.slow
def test_restore_racing_a_writer_loses_nothing_and_damages_nothing(tmp_path: Path) -> None:
    env = _env()
    template = make_template(tmp_path, env)
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    with roles(env) as (writer, operator):
        add_rx(operator, template)
        _, counts = content(template)
        snapshot = tmp_path / "snapshot.db"  # RX without sessions: restoring it drops them
        made = run(operator, "--db", str(template), "backup", str(snapshot))
        assert made["rc"] == 0, made["stderr"]
        assert content(snapshot) == (set(), counts)
        for number in range(ROUNDS):
            db = fresh_copy(template, tmp_path / f"round-{number:02d}")
            done = one_round(writer, operator, db, ["restore", str(snapshot), "--yes"])
            said, *refused = outcome(done)
            outcomes[said] += 1
            outcomes.update(f"writer: {line}" for line in refused)
            try:
                dates, now = content(db)
                if done.result["rc"] == 0:
                    (copy,) = db.parent.glob("alliance.backup-*.db")
                    kept, kept_counts = content(copy)
                    assert kept_counts == counts
                    assert done.acked <= dates | kept, (
                        f"acknowledged adds lost: {done.acked - dates - kept}"
                    )
                    assert now == counts
                else:
                    one_error_line(done.result)
                    assert now == counts, "a failed restore changed the file"
                    assert done.acked <= dates, f"acknowledged adds lost: {done.acked - dates}"
                assert dates <= done.tried
                check_readable(operator, done, dates)
                side_files_clean(db.parent)
            except (AssertionError, sqlite3.DatabaseError) as error:
                failures.append(f"round {number}: rc {done.result['rc']}: {error}")
    assert not failures, "\n".join([*failures, tally(outcomes)])
    assert outcomes.get("0"), f"no round converted the file: {tally(outcomes)}"
