"""Who is using alliance: the clinician whose caseload every command works on.

On PostgreSQL it is the database role you connect as (the database enforces the
separation, see store/policies.py). On a SQLite file, in order: `--clinician`,
`ALLIANCE_CLINICIAN`, `general.clinician` in the config file, then the OS user name.
"""

from __future__ import annotations

import getpass
import os

CLINICIAN_ENV = "ALLIANCE_CLINICIAN"
MAX_NAME = 63  # PostgreSQL's limit for role names


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"


def local_clinician(option: str | None, configured: str | None) -> tuple[str, str]:
    """The clinician on a SQLite file and where the name came from."""
    for source, value in (
        ("--clinician", option),
        (CLINICIAN_ENV, os.environ.get(CLINICIAN_ENV)),
        ("config", configured),
    ):
        if value:
            return value, source
    return os_user(), "OS user"


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a clinician (None: it can)."""
    if not name.strip() or name != name.strip():
        return "must not be empty or start or end with a space"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    if not name.isprintable():
        return "must not contain control characters"
    return None
