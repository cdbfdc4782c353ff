"""Start-up benchmark: whole-process wall time of `alliance --help` and `--version`.

Each command is timed as a ratio against `python -c pass` measured in the same run
(medians of several runs), so the figures mean the same on a slow or busy machine.
Targets (issue: fast to type): `--help` within 100 ms and no more than 6x `python -c pass`.

    python benchmarks/startup.py [--runs 15]

Exits 1 when a ratio target is missed, so CI or a developer can act on it; it is not
run by the test suite (timings never become test assertions).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time

RUN_ALLIANCE = "from alliance_cli.cli.app import main; main()"


def alliance(*args: str) -> list[str]:
    script = shutil.which("alliance")
    if script:
        return [script, *args]
    return [sys.executable, "-c", RUN_ALLIANCE, *args]


def median_seconds(command: list[str], runs: int) -> float:
    subprocess.run(command, capture_output=True, check=False)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--max-ratio", type=float, default=6.0)
    options = parser.parse_args()

    baseline = median_seconds([sys.executable, "-c", "pass"], options.runs)
    cases = {
        "alliance --help": alliance("--help"),
        "alliance --version": alliance("--version"),
        "alliance session add --help": alliance("session", "add", "--help"),
        'python -c "import sqlmodel" (reference)': [sys.executable, "-c", "import sqlmodel"],
    }
    print(f"{'command':45} {'median ms':>10} {'x python -c pass':>17}")
    print(f"{'python -c pass (baseline)':45} {baseline * 1000:10.1f} {1.0:17.2f}")
    failed = False
    for name, command in cases.items():
        seconds = median_seconds(command, options.runs)
        ratio = seconds / baseline
        over = name.startswith("alliance") and ratio > options.max_ratio
        failed |= over
        mark = "  <- over target" if over else ""
        print(f"{name:45} {seconds * 1000:10.1f} {ratio:17.2f}{mark}")
    print(f"target: alliance help/version within {options.max_ratio:g}x python -c pass, 100 ms")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
