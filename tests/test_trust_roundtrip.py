"""Wrong answers that look right, and round trips that lose nothing (issue 13).

1. Output: a short or failed write of stdout (a full disk, a file size limit) is exit 1
   "could not write the output", for every format and `export --all`; real processes,
   as only a real file can be cut short.
2. Config: NaN and infinities are invalid values naming the key.
3. JSON import: every field passes the checks of typed input, sessions or not.
4. `doctor` in a directory the user may not write says so, and never advises a restore
   of a healthy database.
5. CSV: export and import are exact inverses (control characters, a leading tab, CR,
   `'` and formula guards), property-tested through the real command line.
6. FHIR: fullUrls come from the data, so they survive a JSON export/import; strings
   carry no control characters below U+0020 but tab, CR and LF.
"""

from __future__ import annotations

import csv
import io
import json
import os
import resource
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli

REPO_ROOT = Path(__file__).resolve().parent.parent


def alliance(
    db: Path, *args: str, stdout: int | None = subprocess.PIPE, **options: Any
) -> subprocess.CompletedProcess[str]:
    """`python -m alliance_cli --db DB ARGS` as a real process (stdout a real file)."""
    return subprocess.run(
        [sys.executable, "-m", "alliance_cli", "--db", str(db), *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
        **options,
    )


# ----------------------------------------------------------------------- 1. output

LIMIT = 64 * 1024  # a file size limit: the first write that crosses it is cut short
NOTE = "A long note about the session. " * 100  # 3,100 characters


def _big_export() -> dict[str, Any]:
    """A patient whose every export is several times LIMIT (FHIR: through goal texts)."""
    sessions = [
        {"date": f"2025-{month:02d}-{day:02d}", "rater": "patient", "instrument": "quick",
         "bond": 7, "goal": 7, "task": 7, "note": NOTE}
        for month in range(1, 7) for day in range(1, 11)
    ]  # fmt: skip
    goals = [
        {"id": n, "text": f"Goal {n}: {NOTE}", "proposed_by": "joint", "status": "active",
         "created": "2025-01-01", "reviews": []}
        for n in range(1, 41)
    ]  # fmt: skip
    patient = {"code": "BIG", "since": "2024-01-01", "instrument": "quick", "status": "active",
               "goals": goals, "tasks": [], "sessions": sessions}  # fmt: skip
    return {"format": "alliance-export", "schema_version": 1, "patients": [patient]}


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    source = folder / "big.json"
    source.write_text(json.dumps(_big_export()))
    db = folder / "data" / "alliance.db"
    db.parent.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(folder), "XDG_CONFIG_HOME": str(folder / "config")}
    done = alliance(db, "import", str(source), env=env)
    assert done.returncode == 0, done.stderr
    return db


EVERY_OUTPUT = [
    ("export", "BIG"),
    ("export", "BIG", "--format", "json"),
    ("export", "BIG", "--format", "csv"),
    ("export", "BIG", "--format", "fhir"),
    ("export", "--all", "--format", "json"),
    ("export", "--all", "--format", "csv"),
    ("session", "list", "BIG", "--format", "json"),
    ("session", "list", "BIG", "--format", "csv"),
    ("session", "list", "BIG"),
    ("goal", "list", "BIG", "--format", "json"),
]


def _size_limit() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.mark.sqlite_only
@pytest.mark.parametrize("args", EVERY_OUTPUT, ids=" ".join)
def test_output_cut_short_is_an_error_not_a_truncated_success(
    big_db: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    """A full disk takes the first part of a large write and refuses the rest; Python's
    stdout returned as if all was written (exit 0, 64 KiB of 300). A file size limit cuts
    a write short the same way, without filling a disk."""
    whole = alliance(big_db, *args)
    assert whole.returncode == 0, whole.stderr
    assert len(whole.stdout.encode()) > 2 * LIMIT  # the output really crosses the limit
    target = tmp_path / "out"
    with target.open("w") as handle:
        done = alliance(big_db, *args, stdout=handle.fileno(), preexec_fn=_size_limit)
    assert target.stat().st_size <= LIMIT
    assert done.returncode == 1, done.stderr
    assert done.stderr == "error: could not write the output (File too large)\n"


@pytest.mark.sqlite_only
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("args", [("--version",), ("--help",)], ids=" ".join)
def test_output_of_version_and_help_on_a_full_disk(args: tuple[str, ...]) -> None:
    """`--version` is answered without Typer (and its error boundary): a traceback, exit 1.
    Now one line, as for every other command."""
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "alliance_cli", *args],
            stdout=full.fileno(),
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            timeout=60,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr == "error: could not write the output (No space left on device)\n"


# ----------------------------------------------------------------------- 2. config

FLOAT_THRESHOLDS = (
    "low_total",
    "low_dimension",
    "drop_total",
    "drop_dimension",
    "rci_sd",
    "rci_reliability",
    "rci_z",
    "decline_total",
    "rupture_sd",
    "rupture_min_size",
    "discrepancy",
    "discrepancy_patient_higher",
    "early_total",
)


def test_every_float_threshold_is_in_the_list() -> None:
    from alliance_cli.domain.rules import INTEGER_FIELDS, THRESHOLD_FIELDS

    assert set(FLOAT_THRESHOLDS) == set(THRESHOLD_FIELDS) - INTEGER_FIELDS


@pytest.mark.sqlite_only  # the config file alone
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("key", FLOAT_THRESHOLDS)
def test_a_threshold_that_is_not_a_finite_number_is_refused(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"[thresholds.quick]\n{key} = {value}\n")
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    done = cli("config", "show")
    assert done.exit_code == 1, done.stdout
    assert done.stderr == (
        f"error: config {config}: thresholds.quick.{key} must be a finite number, not {value}\n"
    )


@pytest.mark.sqlite_only
@pytest.mark.parametrize("key", ["min", "max"])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_an_instrument_range_that_is_not_finite_is_refused(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    bounds = {"min": "1", "max": "7", key: value}
    config = tmp_path / "config.toml"
    config.write_text(
        "[instruments.mine]\nitems = 3\n"
        f"min = {bounds['min']}\nmax = {bounds['max']}\n"
        "bond = [1]\ngoal = [2]\ntask = [3]\n"
    )
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    done = cli("config", "show")
    assert done.exit_code == 1
    assert f"instruments.mine.{key} must be a finite number" in done.stderr


def test_low_total_nan_no_longer_switches_the_alerts_off(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report: with `low_total = nan` a 1/1/1 rating raised nothing (exit 0)."""
    p014.ok("session", "add", "P014", "--date", "2026-02-01", *("--bond", "1", "--goal", "1"),
            "--task", "1")  # fmt: skip
    flags = json.loads(p014.ok("flags", "P014", "--history", "--format", "json").stdout)
    assert "early-risk" in {flag["kind"] for flag in flags}  # total 3 below low_total
    config = tmp_path / "config.toml"
    config.write_text("[thresholds.quick]\nlow_total = nan\n")
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    done = p014("flags", "P014", "--history", "--format", "json")
    assert done.exit_code == 1, done.stdout
    assert "thresholds.quick.low_total must be a finite number, not nan" in done.stderr


# ----------------------------------------------------------------- 3. JSON import

BAD_CODES = {
    "NUL": "A\x00B",
    "ESC": "A\x1bB",
    "RLO": "A\u202eB",
    "space": "A B",
    "109 characters": "X" * 109,
    "blank": "  ",
}


def _document(*patients: dict[str, Any]) -> str:
    return json.dumps({"format": "alliance-export", "schema_version": 1, "patients": patients})


@pytest.mark.parametrize("code", BAD_CODES.values(), ids=BAD_CODES.keys())
def test_a_json_import_checks_the_code_of_a_patient_without_sessions(
    cli: Cli, tmp_path: Path, code: str
) -> None:
    """Sessions' rows checked the code; a patient with none was stored as it came (a NUL
    code could then be neither shown nor erased from the command line)."""
    cli.make_room()
    typed = cli("patient", "add", code)
    assert typed.exit_code == 1
    reason = typed.stderr.strip().removeprefix("error: ")
    source = tmp_path / "codes.json"
    source.write_text(_document({"code": "FINE"}, {"code": code}))
    done = cli("import", str(source))
    assert done.exit_code == 1, done.stderr
    assert done.stderr.splitlines() == [
        "error: 1 bad row; nothing was imported",
        f"  patients[1]: {reason}",
    ]
    assert cli.table_is_empty("patient")


def _valid_patient() -> dict[str, Any]:
    return {
        "code": "P1",
        "name": "A. Person",
        "status": "active",
        "since": "2026-01-01",
        "goals": [
            {"id": 1, "text": "Walk daily", "proposed_by": "joint", "status": "active",
             "created": "2026-01-02",
             "reviews": [{"date": "2026-01-03", "status": "active", "note": "on track"}]}
        ],
        "tasks": [
            {"goal": 1, "text": "Walk 10 minutes", "status": "active", "created": "2026-01-02",
             "reviews": [{"date": "2026-01-03", "adherence": "done"}]}
        ],
        "sessions": [],
    }  # fmt: skip


BAD_FIELDS: dict[str, tuple[tuple[str | int, ...], Any, str]] = {
    # name: (where in the patient, the value, the message after "patients[0]...: ")
    "name NUL": (("name",), "A\x00", "name contains a NUL character"),
    "name a number": (("name",), 5, "name must be text"),
    "note too long": (("note",), "x" * 20_001, "note is longer than 20000 characters"),
    "status": (("status",), "gone", "status must be one of active, discharged"),
    "goal text NUL": (("goals", 0, "text"), "Walk\x00", "goal text contains a NUL character"),
    "goal text blank": (("goals", 0, "text"), "   ", "goal text is empty"),
    "goal proposed_by": (("goals", 0, "proposed_by"), "nurse", "proposed_by must be one of"),
    "goal status": (("goals", 0, "status"), "done", "status must be one of active, achieved"),
    "goal id": (("goals", 0, "id"), "one", "id must be a whole number"),
    "review status": (("goals", 0, "reviews", 0, "status"), "meh", "status must be one of"),
    "review note NUL": (("goals", 0, "reviews", 0, "note"), "\x00", "note contains a NUL"),
    "task text missing": (("tasks", 0, "text"), None, "task text is missing"),
    "task status": (("tasks", 0, "status"), "open", "status must be one of active, completed"),
    "task goal": (("tasks", 0, "goal"), [1], "is not in this patient's goals"),
    "adherence": (("tasks", 0, "reviews", 0, "adherence"), "mostly", "adherence must be one of"),
    "reviews not a list": (("tasks", 0, "reviews"), "done", "not a list"),
    "review not an object": (("goals", 0, "reviews", 0), "achieved", "not an object"),
}


def test_the_valid_patient_imports(cli: Cli, tmp_path: Path) -> None:
    """The document the next test spoils one field of."""
    source = tmp_path / "valid.json"
    source.write_text(_document(_valid_patient()))
    cli.make_room()
    done = cli.ok("import", str(source))
    assert "Added 1 patient, 0 rating sets, 1 goal, 1 task, 2 reviews" in done.stderr


@pytest.mark.parametrize("field", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_every_imported_field_passes_the_checks_of_typed_input(
    cli: Cli, tmp_path: Path, field: tuple[tuple[str | int, ...], Any, str]
) -> None:
    where, value, reason = field
    patient = _valid_patient()
    holder: Any = patient
    for step in where[:-1]:
        holder = holder[step]
    holder[where[-1]] = value
    source = tmp_path / "spoilt.json"
    source.write_text(_document(patient))
    cli.make_room()
    done = cli("import", str(source))
    assert done.exit_code == 1, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].endswith("; nothing was imported")  # a task of a refused goal too
    assert lines[1].startswith("  patients[0]") and reason in lines[1], lines
    assert cli.table_is_empty("patient")


# ----------------------------------------------------------------------- 4. doctor

DROP_DAC = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")


@pytest.fixture
def unprivileged(tmp_path: Path) -> tuple[str, ...]:
    """A command prefix under which file modes are enforced (empty unless root): as root,
    a process whose capability bounding set lacks DAC_OVERRIDE is held to them."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: file modes cannot be enforced")
    probe = tmp_path / "probe"
    probe.write_text("x")
    probe.chmod(0o400)
    try:
        done = subprocess.run([*DROP_DAC, "sh", "-c", f"echo y >> '{probe}'"],
                              capture_output=True, timeout=30, check=False)  # fmt: skip
    finally:
        probe.chmod(0o600)
        probe.unlink()
    if done.returncode == 0:
        pytest.skip("running as root and DAC_OVERRIDE cannot be dropped (setpriv failed)")
    return DROP_DAC


def _doctor(prefix: tuple[str, ...], db: Path) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [*prefix, sys.executable, "-m", "alliance_cli", "--db", str(db), "doctor", "-f", "json"],
        capture_output=True, text=True, cwd=REPO_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stdout


@pytest.fixture
def healthy(tmp_path: Path) -> Path:
    folder = tmp_path / "clinic"
    folder.mkdir(mode=0o700)
    db = folder / "alliance.db"
    added = alliance(db, "patient", "add", "P1", "--since", "2026-01-01")
    assert added.returncode == 0, added.stderr
    assert sorted(p.name for p in folder.iterdir()) == ["alliance.db"]
    return db


@pytest.mark.sqlite_only
def test_doctor_in_a_directory_the_user_may_not_write_says_so_and_never_restore(
    healthy: Path, unprivileged: tuple[str, ...]
) -> None:
    """It reported "PROBLEM integrity ... restore the last good backup" for a sound file:
    SQLite could not create the -wal/-shm files, which is no damage."""
    healthy.parent.chmod(0o500)
    try:
        status, checks, text = _doctor(unprivileged, healthy)
    finally:
        healthy.parent.chmod(0o700)
    assert status == 1
    bad = {check["check"]: check for check in checks if not check["ok"]}
    assert set(bad) == {"access"}, bad
    assert "is not writable for you" in bad["access"]["detail"]
    assert bad["access"]["advice"].startswith(f"chmod u+w '{healthy.parent}'")
    assert "restore" not in text
    good = {check["check"]: check["detail"] for check in checks if check["ok"]}
    assert good["integrity"] == "ok" and good["journal mode"] == "wal"
    assert sorted(p.name for p in healthy.parent.iterdir()) == ["alliance.db"]


@pytest.mark.sqlite_only
def test_doctor_on_a_file_the_user_may_not_write_leaves_no_side_files(
    healthy: Path, unprivileged: tuple[str, ...]
) -> None:
    """It left -wal/-shm files with the file's read-only mode (which keep the database
    read-only after its mode is fixed) and then listed them as problems of their own."""
    healthy.chmod(0o400)
    try:
        status, checks, text = _doctor(unprivileged, healthy)
    finally:
        healthy.chmod(0o600)
    bad = {check["check"]: check for check in checks if not check["ok"]}
    assert set(bad) == {"file mode"}
    assert bad["file mode"]["detail"].startswith("alliance.db is 0400 (")
    assert sorted(p.name for p in healthy.parent.iterdir()) == ["alliance.db"]
    assert "restore" not in text and status == 1


@pytest.mark.sqlite_only
def test_doctor_on_a_locked_database_does_not_advise_a_restore(healthy: Path) -> None:
    """A lock held past the busy timeout is no damage either."""
    import sqlite3

    holder = sqlite3.connect(healthy, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        status, checks, text = _doctor((), healthy)
    finally:
        holder.close()
    assert status == 1
    bad = {check["check"]: check for check in checks if not check["ok"]}
    assert "restore" not in text, bad
    assert "busy" in json.dumps(bad)


# ------------------------------------------------------------------------- 5. CSV

NOTES_THAT_CAME_BACK_CHANGED = [
    "\x1b[31mred\x1b[0m",  # ESC came back as the four characters \x1b
    "\tstarts with a tab",
    "a CR\rinside",
    "'=already quoted",  # came back as =already quoted
    "=1+1",
    "-5 kg",
    "C:\\temp\\x1b is a path",  # a backslash that looks like an escape
    "\\\x1b",
    'two\nlines, "quoted", with, commas',
    "\u202eevil\u202c and \x85 and \x7f",
]
SESSIONS_SQL = (
    "SELECT p.code, s.date, s.rater, s.note FROM session_rating s "
    "JOIN patient p ON p.id = s.patient_id ORDER BY p.code, s.date, s.rater"
)


def _through_csv(source: Cli, target: Cli, folder: Path) -> str:
    """Export everything as CSV from `source`, import it into `target`; the CSV."""
    exported = source.ok("export", "--all", "--format", "csv").stdout
    path = folder / "all.csv"
    path.write_text(exported, encoding="utf-8")
    target.ok("import", str(path))
    return exported


def test_csv_export_then_import_gives_back_every_note(make_cli: Any, tmp_path: Path) -> None:
    source, target = make_cli("source.db"), make_cli("target.db")
    source.make_room()
    target.make_room()
    source.ok("patient", "add", "P1", "--since", "2026-01-01")
    for day, note in enumerate(NOTES_THAT_CAME_BACK_CHANGED, 1):
        source.ok("session", "add", "P1", "--date", f"2026-02-{day:02d}", "--bond", "5",
                  "--goal", "5", "--task", "5", f"--note={note}")  # fmt: skip
    exported = _through_csv(source, target, tmp_path)
    assert source.sql(SESSIONS_SQL) == target.sql(SESSIONS_SQL)
    assert [row[3] for row in target.sql(SESSIONS_SQL)] == NOTES_THAT_CAME_BACK_CHANGED
    assert target.ok("export", "--all", "--format", "csv").stdout == exported
    # and what a spreadsheet or a terminal is shown stays defused
    cells = [row[-1] for row in csv.reader(io.StringIO(exported))][1:]
    assert cells[3] == "''=already quoted" and cells[4] == "'=1+1"
    assert not any(ch in cell for cell in cells for ch in "\x1b\t\r\x85\x7f\u202e")


def test_csv_patient_codes_that_look_like_formulas_come_back_as_they_were(
    make_cli: Any, tmp_path: Path
) -> None:
    """`=P1` was exported as `'=P1`, and the import created a patient `'=P1`."""
    source, target = make_cli("source.db"), make_cli("target.db")
    source.make_room()
    target.make_room()
    for code in ("=P1", "'P2", "-P3", "@P4", "''P5"):
        source.ok("patient", "add", "--since", "2026-01-01", "--", code)
        source.ok("session", "add", "--date", "2026-02-02", *("--bond", "5", "--goal", "5"),
                  "--task", "5", "--", code)  # fmt: skip
    _through_csv(source, target, tmp_path)
    assert target.sql(SESSIONS_SQL) == source.sql(SESSIONS_SQL)


def _storable(text: str) -> bool:
    from alliance_cli.domain.text import clean_text

    try:
        return clean_text(text, "note", required=True) is not None
    except Exception:
        return False


def _a_code(text: str) -> bool:
    from alliance_cli.domain.text import check_code

    try:
        check_code(text)
    except Exception:
        return False
    return True


TRICKY = list("\x1b\t\r\n\x0b\x0c\x1c\x85\x7f\u202e\u2066\u2028'\"=+-@\\xu01aF ,;")
notes = st.text(
    alphabet=st.one_of(st.sampled_from(TRICKY), st.characters(blacklist_categories=("Cs",))),
    min_size=1,
    max_size=60,
).filter(_storable)
codes = st.text(
    alphabet=st.one_of(st.sampled_from(list("'=+-@\\xu01aF")), st.characters()),
    min_size=1,
    max_size=10,
).filter(_a_code)


@pytest.fixture
def csv_pair(make_cli: Any) -> dict[str, Any]:
    """A source and a target database, kept for every example of one `@given` run."""
    source, target = make_cli("csv-source.db"), make_cli("csv-target.db")
    source.make_room()
    target.make_room()
    return {"source": source, "target": target, "codes": set(), "day": 0}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_any_storable_note_survives_csv_export_import_export(
    csv_pair: dict[str, Any], tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Property: whatever `session add` stores comes back from export -> import exactly,
    and the second export equals the first. Each example adds a rating set (to P1 or a
    code of its own); re-importing the earlier ones must find them identical."""
    source, target = csv_pair["source"], csv_pair["target"]
    code = data.draw(st.one_of(st.just("P1"), codes), label="code")
    note = data.draw(notes, label="note")
    if code not in csv_pair["codes"]:
        source.ok("patient", "add", "--since", "2000-01-01", "--", code)
        csv_pair["codes"].add(code)
    csv_pair["day"] += 1
    when = date(2001, 1, 1) + timedelta(days=csv_pair["day"])
    source.ok("session", "add", f"--date={when.isoformat()}", "--bond=5", "--goal=5",
              "--task=5", f"--note={note}", "--", code)  # fmt: skip
    exported = _through_csv(source, target, tmp_path_factory.mktemp("csv"))
    assert target.sql(SESSIONS_SQL) == source.sql(SESSIONS_SQL)
    assert target.ok("export", "--all", "--format", "csv").stdout == exported


# ------------------------------------------------------------------------ 6. FHIR

R4_FORBIDDEN = {chr(code) for code in range(0x20)} - set("\t\r\n")


def _fhir(cli: Cli, code: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(cli.ok("export", code, "--format", "fhir").stdout)
    return bundle


def _full_urls(bundle: dict[str, Any]) -> dict[str, str]:
    """fullUrl -> what the entry is (its type and a readable key)."""
    found = {}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        kind = resource["resourceType"]
        key = resource.get("authored") or resource.get("description", {}).get("text") or ""
        found[entry["fullUrl"]] = f"{kind} {key}"
    return found


def test_fhir_full_urls_survive_a_json_export_and_import(make_cli: Any, tmp_path: Path) -> None:
    """They came from database row ids: in another database (after `export --format
    json` / `import`) the same rating sets and goals got new identities."""
    source, copy = make_cli("source.db"), make_cli("copy.db")
    source.make_room()
    copy.make_room()
    for code in ("OTHER", "P1"):
        source.ok("patient", "add", code, "--since", "2026-01-01")
    # row ids in another order than the export's: interleaved patients, dates backwards
    for day in ("2026-03-05", "2026-02-05", "2026-01-05"):
        for code in ("OTHER", "P1"):
            source.ok("session", "add", code, "--date", day, *("--bond", "5", "--goal", "5"),
                      "--task", "5")  # fmt: skip
        source.ok("goal", "add", "OTHER", f"A goal of {day}")
    source.ok("session", "add", "P1", "--date", "2026-02-05", "--rater", "therapist",
              *("--bond", "6", "--goal", "6", "--task", "6"))  # fmt: skip
    source.ok("goal", "add", "P1", "Run 5 km")
    source.ok("goal", "add", "P1", "Sleep better")
    source.ok("goal", "add", "P1", "Run 5 km")  # the same words on the same day: a twin
    before = _fhir(source, "P1")
    document = tmp_path / "p1.json"
    document.write_text(source.ok("export", "P1", "--format", "json").stdout)
    copy.ok("import", str(document))
    after = _fhir(copy, "P1")
    assert len(before["entry"]) == 1 + 1 + 4 + 3  # patient, questionnaire, ratings, goals
    assert _full_urls(after) == _full_urls(before)
    assert after == before
    urls = [entry["fullUrl"] for entry in before["entry"]]
    assert len(set(urls)) == len(urls)  # twins and the two raters of one day stay apart


def test_fhir_strings_carry_no_control_characters(
    p014: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`Goal.description.text` carried ESC; R4 strings SHOULD NOT hold code points below
    32 but tab, CR and LF. They are written as visible escapes, everywhere."""
    from fhir.resources.R4B.bundle import Bundle

    config = tmp_path / "config.toml"
    config.write_text(
        '[instruments.mine]\ntitle = "Mine\\u001b[2J"\nitems = 3\nmin = 1\nmax = 7\n'
        "bond = [1]\ngoal = [2]\ntask = [3]\n"
    )
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    p014.ok("patient", "edit", "P014", "--instrument", "mine")
    p014.ok("session", "add", "P014", "--date", "2026-02-09", "--items", "5,5,5")
    p014.ok("goal", "add", "P014", "Walk\x1b[31m daily\tand\r\nrest\x01")
    p014.ok("goal", "status", "2", "achieved", "--note", "done\x07\x1b]8;;x\x1b\\ well\x0c")
    bundle = _fhir(p014, "P014")
    strings = _strings(bundle)
    assert not any(R4_FORBIDDEN & set(s) for s in strings), [s for s in strings if "\\x" in s]
    goals = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Goal"]
    assert goals[1]["description"]["text"] == "Walk\\x1b[31m daily\tand\r\nrest\\x01"
    assert goals[1]["note"][0]["text"] == "done\\x07\\x1b]8;;x\\x1b\\ well"
    titles = [e["resource"].get("title") for e in bundle["entry"]]
    assert "Mine\\x1b[2J" in titles
    Bundle.model_validate(bundle)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []
