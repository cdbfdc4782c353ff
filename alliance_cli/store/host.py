"""What the program using the store hands it: where keys come from, where notices go.

The store never talks to a person itself (no prompt, no keyring, no stderr): the CLI
installs a `KeySource` (the keyring, then the terminal) and a notice sink (stderr) at
start. Until then, and in a library or a test that installs none, the store knows only
`ALLIANCE_DB_KEY` and the keys that opened a file in this process, and its notices are
Python warnings. Standard library only: installing costs a command nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Protocol


class KeySource(Protocol):
    def stored(self, account: str) -> str | None:
        """A passphrase kept for `account` (a database path, or `default`); None if none."""

    def ask(self, prompt: str) -> str | None:
        """A passphrase typed by a person in answer to `prompt`; None if none can be."""


class NoKeySource:
    """Nothing stored, nobody to ask."""

    def stored(self, account: str) -> str | None:
        return None

    def ask(self, prompt: str) -> str | None:
        return None


def _warn(text: str) -> None:
    warnings.warn(text, stacklevel=3)


_keys: KeySource = NoKeySource()
_notices: Callable[[str], None] = _warn


def use(keys: KeySource, notices: Callable[[str], None]) -> None:
    """From now on, ask `keys` for keys the environment does not give, and tell
    `notices` what a person should know (a file made private, a warning)."""
    global _keys, _notices
    _keys, _notices = keys, notices


def keys() -> KeySource:
    return _keys


def notice(text: str) -> None:
    """Something the person running the program should know (never patient data)."""
    _notices(text)
