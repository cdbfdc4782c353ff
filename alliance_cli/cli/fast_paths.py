"""Answers that need no Typer: `alliance --version` and Tab completion of patient codes.

Typer 0.29 imports pydantic whenever it resolves a command's parameters, so a Tab press
that goes through Typer takes about 0.3 s. The completion scripts Typer installs call
`alliance` with `_ALLIANCE_COMPLETE=complete_<shell>` and the command line in the
environment (bash: COMP_WORDS / COMP_CWORD; zsh, fish, PowerShell: _TYPER_COMPLETE_ARGS).
When the word being completed is the patient CODE of one of `CODE_COMMANDS` and the
line is simple (only `--db` / `--debug` before the command, nothing between the command
and the word), this module answers from SQLite exactly as Typer would, in that shell's
format. Anything else makes `answer` return None and `main()` goes on with Typer: an
answer is never wrong, only sometimes slower.

tests/test_completion_fast.py compares both paths for every shell and checks
`CODE_COMMANDS` against the Typer tree. Imports: the standard library and
`alliance_cli.cli.completion` (sqlite3, `alliance_cli.paths`) only.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Mapping, Sequence

from alliance_cli import __version__

COMPLETE_VAR = "_ALLIANCE_COMPLETE"  # Typer's `_{PROG_NAME}_COMPLETE`
SLOW_PATH_VAR = "_ALLIANCE_NO_FAST_PATH"  # for tests: non-empty sends everything to Typer

# Commands whose first positional argument is a patient code completed by
# `completion.complete_code`; tests/test_completion_fast.py derives it from the Typer tree.
CODE_COMMANDS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("export",),
        ("flags",),
        ("goal", "add"),
        ("goal", "list"),
        ("log",),
        ("patient", "add"),
        ("patient", "delete"),
        ("patient", "discharge"),
        ("patient", "edit"),
        ("patient", "reactivate"),
        ("patient", "show"),
        ("patient", "transfer"),
        ("prep",),
        ("rate",),
        ("repair", "add"),
        ("repair", "list"),
        ("session", "add"),
        ("session", "list"),
        ("task", "add"),
        ("task", "list"),
        ("trend",),
    }
)
DB_OPTION = "--db"  # the one root option with a value (the tests check both of these)
ROOT_FLAGS = frozenset({"--debug"})

# The instructions Typer's scripts send, and the format Typer answers each shell in.
SHELLS = {
    "complete_bash": "bash",
    "complete_zsh": "zsh",
    "complete_fish": "fish",
    "complete_powershell": "powershell",
    "complete_pwsh": "powershell",
}


class _Decline(Exception):
    """Not sure this answer would equal Typer's: let Typer answer."""


def answer(argv: Sequence[str], environ: Mapping[str, str]) -> int | None:
    """Answer the request without Typer and return the exit code, or None for Typer.

    `environ` is `os.environ` (tests pass a copy of it): `ALLIANCE_DB` and the user data
    directory are read from `os.environ` by `paths.resolve_database`, as on the Typer path.
    """
    if environ.get(SLOW_PATH_VAR):
        return None
    try:
        exit_code, text = _reply(argv, environ)
        if text is not None:
            _check_output(text)
    except _Decline:
        return None
    except Exception:  # a mistake here must never cost an answer: Typer gives it
        return None
    return exit_code if text is None else _write(text)


def _reply(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[int, str | None]:
    """The exit code and what to print (None: nothing)."""
    instruction = environ.get(COMPLETE_VAR)
    if instruction:  # Typer looks at completion before anything on the command line
        return _complete(instruction, environ)
    if list(argv) == ["--version"]:
        return 0, f"alliance {__version__}\n"
    raise _Decline


def _complete(instruction: str, environ: Mapping[str, str]) -> tuple[int, str | None]:
    shell = SHELLS.get(instruction)
    if shell is None:  # `source_bash` and the like: Typer prints the script
        raise _Decline
    args, incomplete = _request(shell, environ)
    option = _db_option(args, incomplete)

    from alliance_cli.cli.completion import matching_codes

    codes = matching_codes(option, incomplete)
    if any("\x1b" in code for code in codes):  # Click strips ANSI sequences: leave it to it
        raise _Decline
    if shell == "bash":
        text = "\n".join(codes)
    elif shell == "zsh":
        text = _zsh(codes)
    elif shell == "fish":
        action = environ.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":  # fish asks whether to complete arguments (not files)
            return (0 if codes else 1), None
        text = "\n".join(codes) if action == "get-args" else ""
    else:
        text = "\n".join(f"{code}::: " for code in codes)
    return 0, text + "\n"


def _request(shell: str, environ: Mapping[str, str]) -> tuple[list[str], str]:
    """The complete words after the program name and the word being completed, read as
    Typer's completion classes (typer/_completion_classes.py) read them."""
    if shell == "bash":
        try:
            words = _split(environ["COMP_WORDS"])
            cword = int(environ["COMP_CWORD"])
        except (KeyError, ValueError):
            raise _Decline from None  # Typer fails on these; let it say so
        try:
            incomplete = words[cword]
        except IndexError:
            incomplete = ""
        return words[1:cword], incomplete
    line = environ.get("_TYPER_COMPLETE_ARGS", "")
    words = _split(line)
    if shell == "powershell":
        incomplete = environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        return (words[1:-1] if incomplete else words[1:]), incomplete
    args = words[1:]
    if args and not line.endswith(" "):
        return args[:-1], args[-1]
    return args, ""


def _split(line: str) -> list[str]:
    """Click's `split_arg_string`: shlex words, keeping an unfinished last word."""
    import shlex

    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    words: list[str] = []
    try:
        for word in lexer:
            words.append(word)
    except ValueError:
        words.append(lexer.token)
    return words


def _db_option(args: list[str], incomplete: str) -> str | None:
    """`--db` if `incomplete` is the CODE of a command in CODE_COMMANDS; else _Decline."""
    if incomplete.startswith("-") or incomplete == "=":  # option names; Click drops "="
        raise _Decline
    for word in (*args, incomplete):
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:  # undecodable bytes from the environment
            raise _Decline from None
    option: str | None = None
    rest = list(args)
    while rest and rest[0].startswith("-"):
        word = rest.pop(0)
        if word in ROOT_FLAGS:
            continue
        if word == DB_OPTION and rest:
            option = rest.pop(0)  # Click takes the next word whatever it looks like
        elif word.startswith(DB_OPTION + "="):
            option = word[len(DB_OPTION) + 1 :]
        else:  # --version, --help, --install-completion, "--", a typo...
            raise _Decline
    if tuple(rest) not in CODE_COMMANDS:
        raise _Decline
    return option


def _zsh(codes: list[str]) -> str:
    """Typer's ZshComplete: an `_arguments` spec of the values, or `_files` if none."""
    if not codes:
        return "_files"
    values = "\n".join(f'"{_zsh_escape(code)}"' for code in codes)
    return f"_arguments '*: :(({values}))'"


def _zsh_escape(value: str) -> str:
    return (
        value.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def _check_output(text: str) -> None:
    """_Decline where `click.echo` would not write `text` to stdout as it is."""
    stream = sys.stdout
    if stream is None:  # Click writes nothing
        raise _Decline
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        utf8 = codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        utf8 = False
    if not utf8 and not text.isascii():  # Click may re-wrap the stream as UTF-8
        raise _Decline


def _write(text: str) -> int:
    """Write to stdout and flush, as `click.echo`; 0, or 1 if the reader went away."""
    stream = sys.stdout
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:  # the reader went away, as Typer: exit 1 quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass
        return 1
    return 0
