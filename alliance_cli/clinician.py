"""Who is using alliance: the clinician whose caseload every command works on.

On PostgreSQL it is the database role you connect as (the database enforces the
separation: the row-level security policies of migrations 0005 and 0007). On a SQLite
file, in order: `--clinician`, `ALLIANCE_CLINICIAN`, `general.clinician` in the config
file, then the OS user name.

The caseload filter is defined here, once: a patient is in the caseload of the clinician
its `clinician` column names. `store.queries.mine` is that condition for ORM queries;
code that reads with a plain DB-API cursor, such as shell completion (which must never
import SQLAlchemy), writes it with `caseload_condition`.
"""

from __future__ import annotations

import getpass
import os

CLINICIAN_ENV = "ALLIANCE_CLINICIAN"
MAX_NAME = 63  # PostgreSQL's limit for role names
PATIENT_TABLE = "patient"
CLINICIAN_COLUMN = "clinician"  # patient.clinician: whose caseload the patient is in


def caseload_condition(mark: str = "?", *, table: str = PATIENT_TABLE) -> str:
    """The caseload filter in SQL, `<table>.clinician = <mark>`: `mark` is the driver's
    placeholder for the clinician's name, `table` the patient table or its alias."""
    return f"{table}.{CLINICIAN_COLUMN} = {mark}"


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


def configured_clinician() -> str | None:
    """`general.clinician` from the config file, read without the config machinery (for
    shell completion); None when absent or unreadable (commands report config errors)."""
    from alliance_cli.paths import config_file

    try:
        import tomllib

        data = tomllib.loads(config_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    general = data.get("general")
    value = general.get("clinician") if isinstance(general, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a clinician (None: it can)."""
    if not name.strip() or name != name.strip():
        return "must not be empty or start or end with a space"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters"
    if not name.isprintable():
        return "must not contain control characters"
    return None
