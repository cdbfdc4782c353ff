"""The CLI's key source for encrypted databases: the system keyring, then the terminal.

Handed to the store at start (`install`), with stderr for its notices; the store itself
never prompts or prints (see store/host.py). The keyring is used if the `keyring`
package is installed: service `alliance-cli`, account = the database's path, else
`default`.
"""

from __future__ import annotations

import sys

KEYRING_SERVICE = "alliance-cli"
KEYRING_DEFAULT_ACCOUNT = "default"


class TerminalKeys:
    def stored(self, account: str) -> str | None:
        try:
            import keyring
        except ImportError:
            return None
        try:
            for name in (account, KEYRING_DEFAULT_ACCOUNT):
                value = keyring.get_password(KEYRING_SERVICE, name)
                if value:
                    return str(value)
        except Exception:  # no usable backend, a locked keyring...: as if it had no key
            return None
        return None

    def ask(self, prompt: str) -> str | None:
        """Ask on the terminal (the answer is not echoed); None without one."""
        try:
            if not (sys.stdin is not None and sys.stdin.isatty()):
                return None
            import getpass

            return getpass.getpass(prompt) or None
        except KeyboardInterrupt:
            # Ctrl-C is the error boundary's to report (exit 130), not a missing key (4).
            sys.stderr.write("\n")  # getpass leaves the line open
            raise
        except (EOFError, OSError, ValueError):
            return None


def install() -> None:
    """Hand the store this key source and stderr for its notices (cheap: the store's
    side of it is standard library)."""
    from alliance_cli.render.console import message
    from alliance_cli.store import host

    host.use(TerminalKeys(), message)
