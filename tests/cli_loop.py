"""Run the real `alliance` command many times in one Python process.

Used by tests/test_trust_concurrency.py to drive hundreds of commands without paying
Python start-up and imports (~0.65 s of CPU) for each one. Every call goes through
`alliance_cli.cli.app:run`, all of the console script's entry point (`main`) but its
final `os._exit`, with `sys.argv` set as the shell would set it; stdout and stderr are
captured per call and the exit code is the status `run` returns, which `main` hands to
`os._exit`, exactly as a separate `alliance` process would report it. alliance keeps
nothing between commands: each one parses its options into a fresh root context, opens
its own engine and disposes of it before returning, so the database sees a new connection
per command, as with separate processes.

    python tests/cli_loop.py run COMMANDS_JSON
        COMMANDS_JSON: a list of argument lists (without the program name). Runs them in
        order. Or {"commands": [...], "wait_at": [INDEX...], "rounds": PATH}: the same, and
        before each command whose index is listed, waits until a `repeat` loop writing
        PATH has run one whole round while this one waited (so that round saw the
        database part-way through these commands).
    python tests/cli_loop.py repeat SPEC_JSON
        SPEC_JSON: {"commands": [...], "stop": PATH, "pause": SECONDS, "rounds": PATH}.
        Runs the list of commands in rounds (`{round}` in an argument becomes the round
        number, 0001...) until the file `stop` exists, then one last round, pausing
        between rounds. After each round it writes how many rounds ended to `rounds`
        (optional).

The first line printed is {"alliance_cli": PATH}, the package file these calls import
(the caller checks it is its own checkout). Then each call prints one JSON line as soon as
it returns (flushed): {"argv", "rc", "stdout", "stderr", "seconds"}, plus "round" in
`repeat` mode. A line with rc 0 is an acknowledged command.
"""

from __future__ import annotations

import io
import json
import os
import sys
import time
import traceback
from contextlib import redirect_stderr, redirect_stdout
from typing import Any, TextIO


def call(argv: list[str]) -> dict[str, Any]:
    """One `alliance ARGV...` through what the console script runs before it exits."""
    from alliance_cli.cli.app import run

    out, err = io.StringIO(), io.StringIO()
    saved_argv = sys.argv
    sys.argv = ["alliance", *argv]
    started = time.perf_counter()
    rc = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                rc = run()
            except Exception:
                # What the interpreter would do with an uncaught exception.
                traceback.print_exc()
                rc = 1
    finally:
        sys.argv = saved_argv
    seconds = time.perf_counter() - started
    return {
        "argv": argv,
        "rc": rc,
        "stdout": out.getvalue(),
        "stderr": err.getvalue(),
        "seconds": round(seconds, 4),
    }


def _emit(record: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(record) + "\n")
    stream.flush()


ROUND_WAIT_LIMIT = 300  # seconds; only a safety net: a round takes well under a second


def rounds_ended(path: str) -> int:
    try:
        with open(path) as ended:
            return int(ended.read() or 0)
    except FileNotFoundError:
        return 0


def wait_for_a_whole_round(path: str) -> None:
    """Until a round that began after this call has ended: the round under way now may
    have begun before, so two more must end."""
    target = rounds_ended(path) + 2
    deadline = time.monotonic() + ROUND_WAIT_LIMIT
    while rounds_ended(path) < target:
        if time.monotonic() > deadline:
            raise SystemExit(f"no round of the repeat loop ended within {ROUND_WAIT_LIMIT} s")
        time.sleep(0.005)


def run(
    commands: list[list[str]],
    stream: TextIO,
    wait_at: frozenset[int] = frozenset(),
    rounds: str = "",
) -> None:
    for index, argv in enumerate(commands):
        if index in wait_at:
            wait_for_a_whole_round(rounds)
        _emit(call(argv), stream)


def repeat(
    commands: list[list[str]], stop: str, pause: float, stream: TextIO, rounds: str = ""
) -> None:
    number = 0
    while True:
        last = os.path.exists(stop)
        number += 1
        for template in commands:
            argv = [part.replace("{round}", f"{number:04d}") for part in template]
            _emit({**call(argv), "round": number}, stream)
        if rounds:
            with open(f"{rounds}.tmp", "w") as ended:
                ended.write(str(number))
            os.replace(f"{rounds}.tmp", rounds)
        if last:
            return
        time.sleep(pause)


def main(args: list[str]) -> int:
    import alliance_cli

    stream = sys.stdout
    _emit({"alliance_cli": alliance_cli.__file__}, stream)
    if len(args) == 2 and args[0] == "run":
        spec = json.loads(args[1])
        if isinstance(spec, list):
            run(spec, stream)
        else:
            run(spec["commands"], stream, frozenset(spec["wait_at"]), spec["rounds"])
        return 0
    if len(args) == 2 and args[0] == "repeat":
        spec = json.loads(args[1])
        pause = float(spec["pause"])
        repeat(spec["commands"], spec["stop"], pause, stream, spec.get("rounds", ""))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
