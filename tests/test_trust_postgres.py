"""Trust under load and under crashes, on PostgreSQL: the same checks as
tests/test_trust_concurrency.py, against a real server (skipped without one).

- Concurrency: 4 writer processes x 100 `alliance session add` (tests/cli_loop.py, the
  real entry point per command) while a fifth loops `alliance summary --format json`
  (on a server, `backup` is pg_dump's): all 400 stored with their values, no command fails or
  reports a lock, deadlock or serialization error, and summaries only grow.
- Crash: the same writer as on SQLite (`kill_writer_at_random`), recording sessions
  through `record_session`, is SIGKILLed 22 times at random moments (seeded) after its
  first acknowledged session: every
  acknowledged session is stored, none is half-written (missing scores, scores that
  disagree, or no audit row of its own transaction), and the CLI reads the database
  afterwards.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import backends
from tests.test_trust_concurrency import (
    CRASH_CODES,
    N_ADDS,
    SEED,
    SESSION_KILLS,
    WRITERS,
    _alliance,
    _env,
    _lost_stderr,
    _run,
    kill_writer_at_random,
    start_writers,
    watch_until_written,
)

pytestmark = pytest.mark.slow  # minutes of real processes: CI's slow tier (`-m slow`)

PG_TROUBLE = ("deadlock", "could not serialize", "lock timeout", "too many clients")


@pytest.fixture
def pg_url() -> Iterator[str]:
    admin = backends.admin_url()
    if admin is None:
        pytest.skip(backends.SKIP_PG)
    with backends.fresh_database(admin) as url:
        yield url


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with backends.connect(url) as conn:
        return list(conn.execute(sql).fetchall())


def _troubled(stderr: str) -> bool:
    return _lost_stderr(stderr) or any(word in stderr.lower() for word in PG_TROUBLE)


def test_concurrent_adds_and_summaries_lose_nothing_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    env = _env()
    writers, expected, summary = start_writers(pg_url, tmp_path, env)
    adds, rounds, _ = watch_until_written(writers, [summary], tmp_path, env)

    assert len(adds) == WRITERS * N_ADDS, "a writer stopped early"
    failed = [r for r in adds if r["rc"] != 0 or _troubled(r["stderr"])]
    assert not failed, f"{len(failed)} session add(s) failed, e.g. {failed[:3]}"
    bad = [r for r in rounds if r["rc"] != 0 or _troubled(r["stderr"])]
    assert not bad, f"{len(bad)} summaries failed: {bad[:3]}"
    summaries = [json.loads(r["stdout"])["rating_sets"] for r in rounds]
    assert summaries == sorted(summaries) and summaries[-1] == WRITERS * N_ADDS
    assert any(0 < n < WRITERS * N_ADDS for n in summaries), "no summary ran during writes"

    rows = _query(
        pg_url,
        "SELECT p.code, s.date, s.bond, s.goal, s.task FROM session_rating s "
        "JOIN patient p ON p.id = s.patient_id",
    )
    stored = {(code, when.isoformat()): (b, g, t) for code, when, b, g, t in rows}
    assert len(rows) == WRITERS * N_ADDS
    assert stored == expected
    assert _half_written(pg_url) == []


def _half_written(url: str) -> list[tuple[Any, ...]]:
    """Sessions with missing or disagreeing scores, or without their own audit row."""
    problems = _query(
        url,
        "SELECT 'orphan or null', s.id FROM session_rating s "
        "LEFT JOIN patient p ON p.id = s.patient_id "
        "WHERE p.id IS NULL OR s.bond IS NULL OR s.goal IS NULL OR s.task IS NULL "
        "OR s.total IS NULL OR s.items IS NULL",
    )
    problems += [
        ("scores disagree", row_id)
        for row_id, bond, goal, task, total, items in _query(
            url, "SELECT id, bond, goal, task, total, items FROM session_rating"
        )
        if items != [bond, goal, task] or abs(total - (bond + goal + task)) > 1e-9
    ]
    problems += _query(
        url,
        "SELECT 'not audited', s.id FROM session_rating s WHERE NOT EXISTS "
        "(SELECT 1 FROM audit_log a WHERE a.entity = 'session_rating' "
        "AND a.record_id = s.id AND a.action = 'session.add')",
    )
    problems += _query(
        url,
        "SELECT 'audit of a missing session', a.record_id FROM audit_log a "
        "WHERE a.entity = 'session_rating' AND a.action = 'session.add' AND NOT EXISTS "
        "(SELECT 1 FROM session_rating s WHERE s.id = a.record_id)",
    )
    return problems


def test_killed_session_writer_keeps_every_acknowledged_session_on_postgresql(
    pg_url: str,
) -> None:
    env = _env()
    for code in CRASH_CODES:
        made = _run(_alliance(pg_url, "patient", "add", code, "--since", "2000-01-01"), env)
        assert made.returncode == 0, made.stderr
    rng = random.Random(SEED)
    acknowledged: set[int] = set()
    for kill in range(SESSION_KILLS):
        acknowledged |= kill_writer_at_random(pg_url, rng, env)
        listed = _run(_alliance(pg_url, "patient", "list", "--all", "--format", "json"), env)
        assert listed.returncode == 0, listed.stderr
        stored = {row_id for (row_id,) in _query(pg_url, "SELECT id FROM session_rating")}
        lost = sorted(acknowledged - stored)
        assert not lost, f"kill {kill}: acknowledged sessions missing: {lost}"
        half = _half_written(pg_url)
        assert not half, f"kill {kill}: half-written sessions: {half}"
        per_patient = dict(
            _query(
                pg_url,
                "SELECT p.code, count(s.id) FROM patient p "
                "LEFT JOIN session_rating s ON s.patient_id = p.id GROUP BY p.code",
            )
        )
        assert {r["code"]: r["sessions"] for r in json.loads(listed.stdout)} == per_patient
    print(f"{SESSION_KILLS} kills, {len(acknowledged)} acknowledged sessions")
