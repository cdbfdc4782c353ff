"""The console-script entry point (`alliance = alliance_cli.cli.app:main`).

Kept free of Typer: `alliance --version` and Tab completion of patient codes are answered
by `fast_paths` without loading Typer, Click or pydantic; everything else goes to the
Typer tree in `root.py` (global options and the one error boundary). `app` is still
importable from here (`from alliance_cli.cli.app import app`); it loads the tree then.

`run` is the whole program and returns the exit status; `main` (the console script) adds
only the way out: see `leave`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from typing import Any, NoReturn

from alliance_cli.errors import ExitCode, OutputLost

PRIVATE_UMASK = 0o077
# Set on an error that the boundary (root.py) lets through because of --debug.
DEBUG_MARK = "_alliance_debug"


def main() -> NoReturn:
    """Console-script entry point."""
    leave(run())


def run(argv: list[str] | None = None) -> int:
    """Answer one command line (default: this process's) and give its exit status."""
    args = sys.argv[1:] if argv is None else argv
    os.umask(PRIVATE_UMASK)
    from alliance_cli.render.console import guard_stdout

    guard_stdout()  # from here on, output is written whole or the command fails
    try:
        return _answer(args)
    except OutputLost as lost:  # the fast paths (and --debug) have no error boundary
        if sys.stderr is not None:
            print(f"error: {lost}", file=sys.stderr)
        return ExitCode.ERROR


def _answer(args: list[str]) -> int:
    from alliance_cli.cli.fast_paths import answer

    exit_code = answer(args, os.environ)
    if exit_code is not None:
        return exit_code
    # alliance uses no pydantic plugins; looking for them scans every installed package's
    # entry points (~10 ms on each command). A user's own setting wins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from alliance_cli.cli.root import app

    try:
        app(args=args, prog_name="alliance")
    except SystemExit as done:
        return exit_status(done.code)
    except Exception as error:
        if not getattr(error, DEBUG_MARK, False):
            raise  # not from the boundary (`--help` on a full disk is OutputLost): see run
        return _debug_report(error)
    return ExitCode.OK


def _debug_report(error: Exception) -> int:
    """`--debug`: the traceback, then the same line and exit code as without it, so a
    script that checks the status (4: the database, 1: the input) sees no difference."""
    import traceback

    from alliance_cli.cli.root import report

    if sys.stderr is not None:
        traceback.print_exception(error, file=sys.stderr)
    return report(error, traceback_shown=True)


def exit_status(code: object) -> int:
    """The status `sys.exit(code)` would give the process."""
    if code is None:
        return ExitCode.OK
    if isinstance(code, int):
        return code
    if sys.stderr is not None:
        print(code, file=sys.stderr)  # sys.exit("message"): the message, then status 1
    return ExitCode.ERROR


def leave(status: int) -> NoReturn:
    """End the process with `status`, once the output is safely written.

    When a command returns, it has closed its files and its database (the engine is
    disposed, so SQLite has checkpointed and removed its -wal). What the interpreter would
    still do is tear down SQLAlchemy, pydantic and the ORM classes module by module: 0.1 to
    0.2 s, a quarter of a `session add`, with nothing of ours in it. So the exit handlers
    run, the output is flushed here, where a failure can still be reported, and the
    process ends without that teardown.
    """
    atexit._run_exitfuncs()
    try:
        if sys.stdout is not None:  # None: started with stdout closed (`>&-`)
            sys.stdout.flush()
    except BrokenPipeError:
        pass  # the reader went away (`alliance ... | head`): as in the error boundary, quietly
    except OutputLost as lost:  # a full disk or a size limit met by the last of the output
        if sys.stderr is not None:
            print(f"error: {lost}", file=sys.stderr)
        status = status or ExitCode.ERROR
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else "failed"
        if sys.stderr is not None:
            print(f"error: could not write the output ({reason})", file=sys.stderr)
        status = status or ExitCode.ERROR
    except ValueError:  # stdout was closed under us: nothing can be written any more
        status = status or ExitCode.ERROR
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os._exit(status)


def __getattr__(name: str) -> Any:
    """`app` (the Typer tree) loads on first use, so importing this module stays cheap."""
    if name == "app":
        from alliance_cli.cli.root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
