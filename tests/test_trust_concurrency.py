"""Trust under load and under crashes: real `alliance` processes against one SQLite file.

Numbers used:

- Concurrency: 4 writer processes x 100 `alliance session add` = 400 adds through the real
  CLI (4 patients x 100 distinct past dates, so every add is valid), while a fifth process
  loops `alliance summary --format json` and `alliance backup <new file>` (0.1 s apart)
  until the writers finish. Each of the five is one Python process that calls the
  console script's entry point (`alliance_cli.cli.app:main`) once per command, with that
  command's argv, its own captured stdout/stderr and exit code (tests/cli_loop.py): a new
  interpreter per command costs ~0.65 s of CPU (start-up, imports), so 400 of them would
  take ~4 minutes on 2 cores. alliance keeps nothing between commands (each opens and
  disposes of its own engine), so the database sees what separate processes would do.
  On 2 cores the 400 adds take ~20 s (~60 ms each alone, up to ~2 s waiting for the write
  lock), the loop makes ~55-65 summary/backup rounds meanwhile, and the test ~25-30 s.
  Whatever the machine's speed, at least MIN_ROUNDS_DURING rounds see a part-written
  database: the first writer waits at MIN_ROUNDS_DURING points of its run until the loop
  has run a whole round (events, not timings).
  Without BEGIN IMMEDIATE 202-216 of the 400 adds failed ("the database is busy"), with a
  zero busy timeout 221-229.
- Crash: a writer recording sessions through `record_session` is SIGKILLed 22 times,
  0.02-0.6 s after it acknowledged its first session (seeded `random.Random`);
  `alliance patient delete D1 --yes` on a patient with ~8,000 sessions, 150 goals and
  150 tasks with reviews, audit and undo rows is run 10 times, alternately SIGKILLed at a
  random moment of the run and just after its first write reaches the WAL, and more
  times (up to 40) until at least 5 of them were killed before they ended.

Every subprocess imports the same `alliance_cli` as this test (PYTHONPATH is set to the
package's root), so a scratch copy of the project tests its own code.
"""

from __future__ import annotations

import json
import os
import random
import selectors
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

import alliance_cli

pytestmark = pytest.mark.slow  # minutes of real processes: CI's slow tier (`-m slow`)

PACKAGE_ROOT = Path(alliance_cli.__file__).resolve().parent.parent

# Numbers and timings: see the module docstring.
WRITERS = 4
N_ADDS = 100
WATCH_PAUSE = 0.1  # seconds between summary/backup rounds, to leave some CPU to the writers
MIN_ROUNDS_DURING = 5  # summaries (and backups) that must see a partly written database
CLI_LOOP = Path(__file__).with_name("cli_loop.py")
FIRST_DATE = date(2025, 1, 1)

SESSION_KILLS = 22
DELETE_KILLS = 10  # runs of the delete, of which at least half must be killed before the end
MAX_DELETE_RUNS = 4 * DELETE_KILLS  # a safety net: the kills land long before that
SEED = 20260127

TABLES = ("patient", "goal", "goal_review", "task", "task_review", "session_rating")


def _env() -> dict[str, str]:
    """The test's environment, with this checkout's package first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


def _alliance(db: Path | str, *args: str) -> list[str]:
    return [sys.executable, "-m", "alliance_cli", "--db", str(db), *args]


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=120
    )


def _connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, timeout=30, isolation_level=None)


def _integrity(db: Path) -> list[tuple[Any, ...]]:
    conn = _connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def _lost_stderr(stderr: str) -> bool:
    text = stderr.lower()
    return "locked" in text or "busy" in text


# --------------------------------------------------------------------------------------
# 1. Concurrency: writers, a summary/backup loop, one database
# --------------------------------------------------------------------------------------


@dataclass
class Loop:
    """One Python process running the real CLI many times (tests/cli_loop.py). Its output
    goes to files, so that no pipe fills up and stalls it while the test waits."""

    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    @classmethod
    def start(cls, name: str, mode: str, spec: object, env: dict[str, str]) -> Loop:
        out, err = (Path(f"{name}.{suffix}") for suffix in ("out", "err"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [sys.executable, str(CLI_LOOP), mode, json.dumps(spec)],
                stdout=stdout,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        return cls(process, out, err)

    def calls(self, timeout: float) -> list[dict[str, Any]]:
        """The calls it reported, once it has ended and shown it ran this checkout's code."""
        self.process.wait(timeout=timeout)
        err = self.err.read_text()
        assert self.process.returncode == 0, err
        assert not _lost_stderr(err), err
        header, *lines = [json.loads(line) for line in self.out.read_text().splitlines()]
        assert Path(header["alliance_cli"]).resolve().parent == PACKAGE_ROOT / "alliance_cli"
        return lines

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _rating(worker: int, day: int) -> tuple[str, str, str]:
    return (str((day + worker) % 11), str((day * 3 + worker) % 11), f"{(day * 7) % 100 / 10:g}")


def _rounds_file(tmp_path: Path) -> Path:
    """Where the watcher counts its rounds (the first writer waits on it)."""
    return tmp_path / "watcher-rounds"


def start_writers(
    db: str, tmp_path: Path, env: dict[str, str]
) -> tuple[list[Loop], dict[tuple[str, str], tuple[float, float, float]], list[str]]:
    """WRITERS patients, each with its own process adding N_ADDS sessions to `db`; gives
    the writers, the ratings each (code, date) must end with, and a summary command over
    the written period. The first writer waits at MIN_ROUNDS_DURING points of its run
    until the watcher (`watch_until_written`) has run a whole round, so that at least
    that many rounds see a part-written database, however fast or slow the machine."""
    codes = [f"W{n}" for n in range(1, WRITERS + 1)]
    for code in codes:
        made = _run(_alliance(db, "patient", "add", code, "--since", "2024-12-01"), env)
        assert made.returncode == 0, made.stderr
    dates = [FIRST_DATE + timedelta(days=day) for day in range(N_ADDS)]
    expected: dict[tuple[str, str], tuple[float, float, float]] = {}
    writers = []
    for worker, code in enumerate(codes):
        commands = []
        for day, when in enumerate(dates):
            bond, goal, task = _rating(worker, day)
            expected[(code, when.isoformat())] = (float(bond), float(goal), float(task))
            rating = ["--bond", bond, "--goal", goal, "--task", task]
            commands.append(
                ["--db", db, "session", "add", code, "--date", when.isoformat(), *rating]
            )
        spec: object = commands
        if worker == 0:
            step = N_ADDS // (MIN_ROUNDS_DURING + 1)
            wait_at = [step * point for point in range(1, MIN_ROUNDS_DURING + 1)]
            spec = {"commands": commands, "wait_at": wait_at, "rounds": str(_rounds_file(tmp_path))}
        writers.append(Loop.start(str(tmp_path / code), "run", spec, env))
    summary = ["--db", db, "summary", "--format", "json"]
    summary += ["--since", dates[0].isoformat(), "--until", dates[-1].isoformat()]
    return writers, expected, summary


def watch_until_written(
    writers: list[Loop], commands: list[list[str]], tmp_path: Path, env: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float]:
    """Run `commands` in rounds while the writers write, and once more after: gives every
    add, every round's calls, and how long the writing took."""
    stop = tmp_path / "writers-done"
    watch = {
        "commands": commands,
        "stop": str(stop),
        "pause": WATCH_PAUSE,
        "rounds": str(_rounds_file(tmp_path)),
    }
    watcher = Loop.start(str(tmp_path / "watcher"), "repeat", watch, env)
    started = time.monotonic()
    try:
        adds = [call for writer in writers for call in writer.calls(timeout=300)]
        writing = time.monotonic() - started
        stop.touch()
        rounds = watcher.calls(timeout=120)
    finally:
        for loop in [*writers, watcher]:
            loop.kill()
    return adds, rounds, writing


def test_concurrent_adds_summaries_and_backups_lose_nothing(tmp_path: Path) -> None:
    env = _env()
    db = tmp_path / "clinic" / "alliance.db"
    db.parent.mkdir()
    backups = tmp_path / "backups"
    backups.mkdir()
    writers, expected, summary = start_writers(str(db), tmp_path, env)
    backup = ["--db", str(db), "backup", str(backups / "backup-{round}.db")]
    adds, rounds, writing = watch_until_written(writers, [summary, backup], tmp_path, env)

    assert len(adds) == WRITERS * N_ADDS, "a writer stopped early"
    failed = [r for r in adds if r["rc"] != 0]
    assert not failed, f"{len(failed)} session add(s) failed, e.g. {failed[:3]}"
    lost = [r for r in adds if _lost_stderr(r["stderr"])]
    assert not lost, f"{len(lost)} session add(s) reported locked/busy, e.g. {lost[:3]}"
    acknowledged = {(r["argv"][4], r["argv"][6]) for r in adds if r["rc"] == 0}
    assert acknowledged == set(expected)

    bad_rounds = [r for r in rounds if r["rc"] != 0 or _lost_stderr(r["stderr"])]
    assert not bad_rounds, f"{len(bad_rounds)} summary/backup call(s) failed: {bad_rounds[:3]}"
    summaries = [json.loads(r["stdout"])["rating_sets"] for r in rounds if r["argv"] == summary]
    # Each summary reads one committed snapshot, and snapshots only grow.
    assert summaries == sorted(summaries), summaries
    assert summaries[-1] == WRITERS * N_ADDS
    during = [n for n in summaries if 0 < n < WRITERS * N_ADDS]
    backup_paths = [Path(r["stdout"].strip()) for r in rounds if r["argv"][2] == "backup"]
    print(
        f"{len(adds)} adds in {writing:.1f} s, {len(summaries)} summaries "
        f"({len(during)} while writing), {len(backup_paths)} backups"
    )
    assert len(during) >= MIN_ROUNDS_DURING, "the summary/backup loop hardly ran during writes"
    assert len(backup_paths) == len(summaries)
    backed_up = []
    for path in backup_paths:
        assert path.is_file(), path
        assert _integrity(path) == [("ok",)], path
        conn = _connect(path)
        try:
            backed_up.append(conn.execute("SELECT count(*) FROM session_rating").fetchone()[0])
        finally:
            conn.close()
    assert backed_up == sorted(backed_up), backed_up
    assert backed_up[-1] == WRITERS * N_ADDS
    assert len([n for n in backed_up if 0 < n < WRITERS * N_ADDS]) >= MIN_ROUNDS_DURING

    assert _integrity(db) == [("ok",)]
    conn = _connect(db)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert _half_written_sessions(conn) == []
        rows = conn.execute(
            "SELECT p.code, s.date, s.bond, s.goal, s.task FROM session_rating s "
            "JOIN patient p ON p.id = s.patient_id"
        ).fetchall()
        count = conn.execute("SELECT count(*) FROM session_rating").fetchone()[0]
    finally:
        conn.close()
    assert count == WRITERS * N_ADDS
    stored = {(code, when): (bond, goal, task) for code, when, bond, goal, task in rows}
    assert stored == expected


# --------------------------------------------------------------------------------------
# 2. Crash: SIGKILL at random moments
# --------------------------------------------------------------------------------------

CRASH_CODES = ("K1", "K2", "K3")

# Records sessions one after another through the service API, printing each id once
# `record_session` has returned (the transaction committed). Each run continues the day
# after the latest stored session, rotating over the patients. The database is a SQLite
# path or a PostgreSQL URL (tests/test_trust_postgres.py).
_SESSION_WRITER = """
import sys
from datetime import date, timedelta
from sqlalchemy import text
from alliance_cli.config import load_settings
from alliance_cli.domain.scoring_input import RawRating
from alliance_cli.paths import resolve_database
from alliance_cli.services.care.sessions import record_session
from alliance_cli.store.engine import open_database

path, codes = sys.argv[1], sys.argv[2].split(",")
settings = load_settings()
db = open_database(resolve_database(path))
with db.engine.connect() as connection:
    latest = connection.execute(text("SELECT max(date) FROM session_rating")).scalar()
if isinstance(latest, str):  # SQLite keeps dates as text
    latest = date.fromisoformat(latest)
start = date(2000, 1, 1)
day = 0 if latest is None else (latest - start).days + 1
print("ready", flush=True)
while True:
    when = start + timedelta(days=day)
    value = str(day % 11)
    stored = record_session(
        db, codes[day % len(codes)], RawRating(bond=value, goal="5", task="7.5"),
        when=when, rater="patient", note="n" * (day % 3000), settings=settings,
        today=date.today(),
    )
    print(stored.session.id, flush=True)
    day += 1
"""


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> bytes:
    """One line, read byte by byte from the unbuffered pipe, so that nothing after it is
    held in a buffer that `communicate()` would not see."""
    assert process.stdout is not None
    line = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise AssertionError(f"no line from the writer within {timeout} s: {line!r}")
            byte = os.read(process.stdout.fileno(), 1)
            if not byte:
                break
            line += byte
    return line


def _kill(process: subprocess.Popen[bytes]) -> str:
    """SIGKILL (unless it already ended) and return what it printed after that point."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, (process.returncode, err.decode())
    return out.decode()


def kill_writer_at_random(target: str, rng: random.Random, env: dict[str, str]) -> set[int]:
    """Start the session writer on `target`, SIGKILL it 0.02-0.6 s after it acknowledged
    its first session, and return the ids it acknowledged (only whole lines count: an id
    is printed in one write, after the commit)."""
    writer = subprocess.Popen(
        [sys.executable, "-c", _SESSION_WRITER, target, ",".join(CRASH_CODES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        bufsize=0,
        env=env,
    )
    try:
        assert _read_line(writer, 60) == b"ready\n"
        first = _read_line(writer, 120).decode()  # the writer wrote something to lose
        assert first.endswith("\n"), first
        time.sleep(rng.uniform(0.02, 0.6))
        out = first + _kill(writer)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    return {int(line) for line in out.splitlines(keepends=True) if line[-1:] == "\n"}


def _opens_through_cli(db: Path, env: dict[str, str]) -> list[dict[str, Any]]:
    listed = _run(_alliance(db, "patient", "list", "--all", "--format", "json"), env)
    assert listed.returncode == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)
    return rows


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
    return found.fetchone() is not None


def _half_written_sessions(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Sessions without a patient, with a missing or inconsistent score, or (all of them are
    written by `record_session` here) without the audit row of their own transaction."""
    problems = conn.execute(
        "SELECT 'orphan or null', s.id FROM session_rating s "
        "LEFT JOIN patient p ON p.id = s.patient_id "
        "WHERE p.id IS NULL OR s.date IS NULL OR s.rater IS NULL OR s.instrument IS NULL "
        "OR s.bond IS NULL OR s.goal IS NULL OR s.task IS NULL OR s.total IS NULL "
        "OR s.items IS NULL"
    ).fetchall()
    problems += [
        ("scores disagree", row_id)
        for row_id, bond, goal, task, total, items in conn.execute(
            "SELECT id, bond, goal, task, total, items FROM session_rating "
            "WHERE instrument = 'quick' AND items IS NOT NULL"
        )
        if json.loads(items) != [bond, goal, task] or abs(total - (bond + goal + task)) > 1e-9
    ]
    if _has_table(conn, "audit_log"):
        problems += conn.execute(
            "SELECT 'not audited', s.id FROM session_rating s WHERE NOT EXISTS "
            "(SELECT 1 FROM audit_log a WHERE a.entity = 'session_rating' "
            "AND a.record_id = s.id AND a.action = 'session.add')"
        ).fetchall()
        problems += conn.execute(
            "SELECT 'audit of a missing session', a.record_id FROM audit_log a "
            "WHERE a.entity = 'session_rating' AND a.action = 'session.add' AND NOT EXISTS "
            "(SELECT 1 FROM session_rating s WHERE s.id = a.record_id)"
        ).fetchall()
    return problems


def test_killed_session_writer_keeps_every_acknowledged_session(tmp_path: Path) -> None:
    env = _env()
    db = tmp_path / "crash.db"
    for code in CRASH_CODES:
        made = _run(_alliance(db, "patient", "add", code, "--since", "2000-01-01"), env)
        assert made.returncode == 0, made.stderr
    rng = random.Random(SEED)
    acknowledged: set[int] = set()
    for kill in range(SESSION_KILLS):
        acknowledged |= kill_writer_at_random(str(db), rng, env)

        listed = _opens_through_cli(db, env)
        conn = _connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], kill
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], kill
            stored = {row[0] for row in conn.execute("SELECT id FROM session_rating")}
            lost = sorted(acknowledged - stored)
            assert not lost, f"kill {kill}: acknowledged sessions missing: {lost}"
            half = _half_written_sessions(conn)
            assert not half, f"kill {kill}: half-written sessions: {half}"
            per_patient = dict(
                conn.execute(
                    "SELECT p.code, count(s.id) FROM patient p "
                    "LEFT JOIN session_rating s ON s.patient_id = p.id GROUP BY p.code"
                ).fetchall()
            )
        finally:
            conn.close()
        assert {row["code"]: row["sessions"] for row in listed} == per_patient, kill
    print(f"{SESSION_KILLS} kills, {len(acknowledged)} acknowledged sessions")


VICTIM, KEEPER = "D1", "K1"


def _make_template(path: Path) -> dict[str, int]:
    """D1 with thousands of sessions, goals and tasks with reviews, K1 beside it.

    Each patient is added, and its first sessions recorded, through the services (so the
    audit trail and undo stack name it); the bulk is inserted with the ORM. Returns the
    patients' ids.
    """
    from sqlmodel import select

    from alliance_cli.config import load_settings
    from alliance_cli.domain.scoring_input import RawRating
    from alliance_cli.paths import resolve_database
    from alliance_cli.services.care.patients import PatientDetails, add_patient
    from alliance_cli.services.care.sessions import record_session
    from alliance_cli.store.engine import open_database
    from alliance_cli.store.models import Goal, GoalReview, Patient, SessionRating, Task, TaskReview

    settings = load_settings()
    first = date(2000, 1, 1)
    ids = {}
    db = open_database(resolve_database(str(path)), create=True)
    try:
        for code, n_days, n_goals in ((VICTIM, 4000, 150), (KEEPER, 60, 3)):
            add_patient(db, code, PatientDetails(since=first, note=f"profile of {code}"))
            for day in range(3):
                record_session(
                    db,
                    code,
                    RawRating(bond="5", goal="6", task="7"),
                    when=first + timedelta(days=day),
                    rater="therapist",
                    note=None,
                    settings=settings,
                    today=date.today(),
                )
            with db.write() as session:
                patient = session.exec(select(Patient).where(Patient.code == code)).one()
                assert patient.id is not None
                ids[code] = patient.id
                for day in range(3, n_days):
                    bond, goal, task = day % 11, (day + 3) % 11, 7.5
                    for rater in ("patient", "therapist"):
                        session.add(
                            SessionRating(
                                patient_id=patient.id,
                                date=first + timedelta(days=day),
                                rater=rater,
                                bond=bond,
                                goal=goal,
                                task=task,
                                total=bond + goal + task,
                                items=[bond, goal, task],
                                note=f"session {day}",
                            )
                        )
                for number in range(n_goals):
                    goal_row = Goal(patient_id=patient.id, text=f"goal {number}", created=first)
                    session.add(goal_row)
                    session.flush()
                    assert goal_row.id is not None
                    task_row = Task(
                        patient_id=patient.id, goal_id=goal_row.id, text="task", created=first
                    )
                    session.add(task_row)
                    session.flush()
                    assert task_row.id is not None
                    for week in range(4):
                        when = first + timedelta(weeks=week)
                        session.add(GoalReview(goal_id=goal_row.id, date=when, status="active"))
                        session.add(TaskReview(task_id=task_row.id, date=when, adherence="done"))
    finally:
        db.close()
    conn = _connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return ids


def _owned_rows(conn: sqlite3.Connection, patient_id: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row that belongs to (or, in the audit trail and undo stack, names) a patient."""
    goals = "(SELECT id FROM goal WHERE patient_id = :p)"
    tasks = "(SELECT id FROM task WHERE patient_id = :p)"
    queries = {
        "patient": "SELECT * FROM patient WHERE id = :p",
        "goal": "SELECT * FROM goal WHERE patient_id = :p",
        "task": "SELECT * FROM task WHERE patient_id = :p",
        "session_rating": "SELECT * FROM session_rating WHERE patient_id = :p",
        "goal_review": f"SELECT * FROM goal_review WHERE goal_id IN {goals}",
        "task_review": f"SELECT * FROM task_review WHERE task_id IN {tasks}",
    }
    for table in ("audit_log", "undo_step"):
        if _has_table(conn, table):
            queries[table] = f"SELECT * FROM {table} WHERE patient_id = :p"
    return {
        table: conn.execute(query + " ORDER BY id", {"p": patient_id}).fetchall()
        for table, query in queries.items()
    }


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _fresh_copy(template: Path, db: Path) -> None:
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(template, db)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _describe(now: dict[str, list[Any]], then: dict[str, list[Any]]) -> str:
    return ", ".join(f"{table} {len(now[table])}/{len(then[table])}" for table in then)


def test_killed_patient_delete_is_all_or_nothing(tmp_path: Path) -> None:
    env = _env()
    template = tmp_path / "template.db"
    ids = _make_template(template)
    assert not Path(f"{template}-wal").exists() or Path(f"{template}-wal").stat().st_size == 0
    conn = _connect(template)
    try:
        victim = _owned_rows(conn, ids[VICTIM])
        keeper = _owned_rows(conn, ids[KEEPER])
        before = _counts(conn)
    finally:
        conn.close()
    assert len(victim["session_rating"]) == 7997 and len(victim["task_review"]) == 600
    gone = {table: [] for table in victim}

    db = tmp_path / "erase.db"
    wal = Path(f"{db}-wal")
    delete = _alliance(db, "patient", "delete", VICTIM, "--yes")
    _fresh_copy(template, db)
    started = time.monotonic()
    whole = _run(delete, env)
    full_run = time.monotonic() - started
    assert whole.returncode == 0, whole.stderr
    conn = _connect(db)
    try:
        assert _owned_rows(conn, ids[VICTIM]) == gone
        assert _owned_rows(conn, ids[KEEPER]) == keeper
    finally:
        conn.close()

    rng = random.Random(SEED)
    outcomes: list[tuple[str, bool]] = []

    def enough() -> bool:
        killed_runs = sum(killed for _, killed in outcomes)
        return len(outcomes) >= DELETE_KILLS and killed_runs >= DELETE_KILLS // 2

    for attempt in range(MAX_DELETE_RUNS):
        if enough():
            break
        _fresh_copy(template, db)
        eraser = subprocess.Popen(
            delete,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            if attempt % 2 == 0:
                # Anywhere in the run: start-up, opening, the deletes, the commit.
                time.sleep(rng.uniform(0.05, full_run))
            else:
                # Inside the write: once the first page reaches the WAL, plus 0-15 ms.
                deadline = time.monotonic() + 60
                while _size(wal) == 0 and eraser.poll() is None:
                    assert time.monotonic() < deadline, "the delete never wrote"
                    time.sleep(0.0002)
                time.sleep(rng.uniform(0, 0.015))
            if eraser.poll() is None:
                eraser.send_signal(signal.SIGKILL)
            _, err = eraser.communicate(timeout=60)
        finally:
            if eraser.poll() is None:
                eraser.kill()
                eraser.wait()
        killed = eraser.returncode == -signal.SIGKILL
        assert killed or eraser.returncode == 0, (attempt, eraser.returncode, err)

        listed = _opens_through_cli(db, env)
        conn = _connect(db)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], attempt
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], attempt
            now = _owned_rows(conn, ids[VICTIM])
            assert _owned_rows(conn, ids[KEEPER]) == keeper, attempt
            counts = _counts(conn)
        finally:
            conn.close()
        assert now in (victim, gone), (
            f"attempt {attempt} ({'killed' if killed else 'finished'}): {VICTIM} half-deleted, "
            f"rows left (now/before): {_describe(now, victim)}"
        )
        present = now == victim
        expected = before if present else {t: before[t] - len(victim[t]) for t in TABLES}
        assert counts == expected, attempt
        assert (VICTIM in {row["code"] for row in listed}) == present, attempt
        outcomes.append(("present" if present else "absent", killed))
    print("delete kills (outcome, killed):", outcomes)
    assert enough(), f"fewer than {DELETE_KILLS // 2} of {len(outcomes)} runs were killed"
