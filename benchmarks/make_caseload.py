"""Generate a realistic synthetic caseload quickly (invented data, for benchmarks).

    python benchmarks/make_caseload.py N_PATIENTS N_SESSIONS DB [--seed 1]
        [--discharged] [--gas-r 0.3]

Trajectories: stable, declining, rupture then repair, unrepaired rupture, therapist
ratings that disagree (discrepancy), dropouts, improving. Weekly sessions ending
before today; quick ratings 0-10 in steps of .5; a few goals, tasks and reviews.
The schema comes from alliance itself (migrations); rows go in with executemany.

`--discharged`: every patient's care has ended (for `alliance outcomes`): the dropout
trajectory ends as `dropout`, the others mostly `mutual` (some referred, moved, other),
a week after the last session; each patient has three goals rated on Goal Attainment
Scaling at discharge, whose T-score is correlated with the early alliance (the mean of the
first three totals) by `--gas-r` in the population: the patient's standardised early
alliance z gives a latent `r z + sqrt(1 - r^2) e` (e standard normal), and the sum of the
three levels is that latent times 2, rounded and kept within -6..6 (rounding and the
bounds take the population r from .300 to about .297). T is linear in that sum.
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
    # A weak early alliance goes with dropout (Sharf et al. 2010): dropouts start lower.
    base = rng.uniform(5.0, 7.5) if kind == "dropout" else rng.uniform(6.5, 9.0)
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


ENDINGS = (("mutual", 0.8), ("referred", 0.08), ("moved", 0.06), ("other", 0.06))
GOALS_PER_PATIENT = 3


def gas_levels(latent: float) -> list[int]:
    """Three GAS levels (-2..2) whose sum is the latent times 2, rounded, within -6..6."""
    total = max(-6, min(6, round(latent * 2)))
    q, r = divmod(total, GOALS_PER_PATIENT)
    return [q + 1] * r + [q] * (GOALS_PER_PATIENT - r)


def build(
    n_patients: int,
    n_sessions: int,
    db: Path,
    seed: int,
    *,
    discharged: bool = False,
    gas_r: float = 0.3,
) -> None:
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
    early: dict[int, float] = {}  # pid -> the mean of its first three totals
    for pid in range(1, n_patients + 1):
        kind = KINDS[pid % len(KINDS)]
        count = n_sessions if kind != "dropout" else max(2, n_sessions // 3)
        start = today - timedelta(weeks=n_sessions + 1 + (pid % 3))
        series = trajectory(kind, count, rng)
        if discharged:
            left = (start + timedelta(weeks=count + 1)).isoformat()
            ending = "dropout" if kind == "dropout" else pick_ending(rng)
            patients.append(
                (pid, f"B{pid:06d}", "discharged", start.isoformat(), created, left, ending)
            )
        else:
            status = "active" if pid % 20 else "discharged"
            patients.append((pid, f"B{pid:06d}", status, start.isoformat(), created, None, None))
        for week, value in enumerate(series):
            day = (start + timedelta(weeks=week + 1)).isoformat()
            b, g, t = clamp(value + 0.5), clamp(value), clamp(value - 0.5)
            ratings.append((pid, day, "patient", b, g, t, b + g + t, json.dumps([b, g, t])))
            if week < 3:
                early[pid] = early.get(pid, 0.0) + (b + g + t) / min(3, len(series))
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
        "INSERT INTO patient (id, code, status, since, instrument, created, discharged_on,"
        " ending, clinician) VALUES (?, ?, ?, ?, 'quick', ?, ?, ?, ?)",
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
    if discharged:
        add_gas(conn, patients, early, gas_r, rng)
    conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("ANALYZE")
    conn.close()


def pick_ending(rng: random.Random) -> str:
    roll = rng.random()
    for ending, share in ENDINGS:
        if roll < share:
            return ending
        roll -= share
    return ENDINGS[-1][0]


def add_gas(
    conn: sqlite3.Connection,
    patients: list[tuple[object, ...]],
    early: dict[int, float],
    r: float,
    rng: random.Random,
) -> None:
    """Three goals per patient, each reviewed on GAS at discharge (see the module doc)."""
    values = list(early.values())
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5 or 1.0
    goals, reviews = [], []
    goal_id = conn.execute("SELECT coalesce(max(id), 0) FROM goal").fetchone()[0]
    for patient in patients:
        pid, left = int(str(patient[0])), str(patient[5])
        z = (early[pid] - mean) / sd
        latent = r * z + (1 - r * r) ** 0.5 * rng.gauss(0.0, 1.0)
        for level in gas_levels(latent):
            goal_id += 1
            goals.append((goal_id, pid, "Synthetic GAS goal", str(patient[3])))
            reviews.append((goal_id, left, level))
    conn.executemany(
        "INSERT INTO goal (id, patient_id, text, proposed_by, status, created, baseline, weight)"
        " VALUES (?, ?, ?, 'joint', 'active', ?, -1, 1)",
        goals,
    )
    conn.executemany(
        "INSERT INTO goal_review (goal_id, date, status, gas) VALUES (?, ?, 'active', ?)",
        reviews,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("patients", type=int)
    parser.add_argument("sessions", type=int)
    parser.add_argument("db", type=Path)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--discharged", action="store_true", help="every patient discharged")
    parser.add_argument("--gas-r", type=float, default=0.3, help="early alliance vs GAS T")
    options = parser.parse_args()
    start = time.perf_counter()
    build(
        options.patients,
        options.sessions,
        options.db,
        options.seed,
        discharged=options.discharged,
        gas_r=options.gas_r,
    )
    print(
        f"{options.db}: {options.patients} patients x {options.sessions} sessions "
        f"in {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
