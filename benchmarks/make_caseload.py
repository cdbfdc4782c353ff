"""Generate a realistic synthetic caseload quickly (invented data, for benchmarks).

    python benchmarks/make_caseload.py N_PATIENTS N_SESSIONS DB [--seed 1]

Trajectories: stable, declining, rupture then repair, unrepaired rupture, therapist
ratings that disagree (discrepancy), dropouts, improving. Weekly sessions ending
before today; quick ratings 0-10 in steps of .5; a few goals, tasks and reviews.
The schema comes from alliance itself (migrations); rows go in with executemany.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KINDS = (
    "stable",
    "declining",
    "rupture-repaired",
    "rupture",
    "discrepancy",
    "dropout",
    "improving",
)


def clamp(value: float) -> float:
    return min(10.0, max(0.0, round(value * 2) / 2))


def trajectory(kind: str, n: int, rng: random.Random) -> list[float]:
    base = rng.uniform(6.5, 9.0)
    values = []
    for i in range(n):
        share = i / max(n - 1, 1)
        level = base
        if kind == "declining":
            level = base - 3.5 * share
        elif kind == "improving":
            level = base - 3.0 + 3.5 * share
        elif kind in ("rupture-repaired", "rupture") and i >= n // 2:
            dip = i == n // 2 or (kind == "rupture" and i > n // 2)
            level = base - 4.0 if dip else base
        values.append(clamp(level + rng.choice((-0.5, 0.0, 0.0, 0.5))))
    return values


def build(n_patients: int, n_sessions: int, db: Path, seed: int) -> None:
    from alliance_cli.clinician import configured_clinician, local_clinician
    from alliance_cli.paths import resolve_database
    from alliance_cli.store.engine import open_database

    if db.exists():
        sys.exit(f"{db} exists; choose a new path")
    # The caseload belongs to whoever runs alliance next (as `alliance` would decide).
    clinician = local_clinician(None, configured_clinician())[0]
    open_database(resolve_database(str(db)), create=True).close()
    rng = random.Random(seed)
    today = date.today()
    created = datetime.now(UTC).isoformat(" ")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    patients, ratings, goals, tasks, reviews = [], [], [], [], []
    for pid in range(1, n_patients + 1):
        kind = KINDS[pid % len(KINDS)]
        count = n_sessions if kind != "dropout" else max(2, n_sessions // 3)
        start = today - timedelta(weeks=n_sessions + 1 + (pid % 3))
        patients.append(
            (pid, f"B{pid:06d}", "active" if pid % 20 else "discharged", start.isoformat(), created)
        )
        series = trajectory(kind, count, rng)
        for week, value in enumerate(series):
            day = (start + timedelta(weeks=week + 1)).isoformat()
            b, g, t = clamp(value + 0.5), clamp(value), clamp(value - 0.5)
            ratings.append((pid, day, "patient", b, g, t, b + g + t, json.dumps([b, g, t])))
            if kind == "discrepancy" and week % 2 == 0:
                tb, tg, tt = clamp(b - 3), clamp(g - 3), clamp(t - 2.5)
                ratings.append(
                    (pid, day, "therapist", tb, tg, tt, tb + tg + tt, json.dumps([tb, tg, tt]))
                )
        goals.append((pid, pid, "Synthetic goal", start.isoformat()))
        tasks.append((pid, pid, pid, "Synthetic task", start.isoformat()))
        for k in range(3):
            level = (
                ("done", "partly", "not-done")[(pid + k) % 3] if kind != "declining" else "not-done"
            )
            reviews.append((pid, (today - timedelta(weeks=3 - k)).isoformat(), level))
    conn.executemany(
        "INSERT INTO patient (id, code, status, since, instrument, created, clinician)"
        " VALUES (?, ?, ?, ?, 'quick', ?, ?)",
        [(*patient, clinician) for patient in patients],
    )
    conn.executemany(
        "INSERT INTO session_rating (patient_id, date, rater, instrument, bond, goal, task, total,"
        " items, created) VALUES (?, ?, ?, 'quick', ?, ?, ?, ?, ?, '" + created + "')",
        ratings,
    )
    conn.executemany(
        "INSERT INTO goal (id, patient_id, text, proposed_by, status, created)"
        " VALUES (?, ?, ?, 'joint', 'active', ?)",
        goals,
    )
    conn.executemany(
        "INSERT INTO task (id, patient_id, goal_id, text, status, created)"
        " VALUES (?, ?, ?, ?, 'active', ?)",
        tasks,
    )
    conn.executemany("INSERT INTO task_review (task_id, date, adherence) VALUES (?, ?, ?)", reviews)
    conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("ANALYZE")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int)
    parser.add_argument("sessions", type=int)
    parser.add_argument("db", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    start = time.perf_counter()
    build(options.patients, options.sessions, options.db, options.seed)
    print(
        f"{options.db}: {options.patients} patients x {options.sessions} sessions "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
