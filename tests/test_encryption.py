"""Encryption at rest (SQLCipher): the file and its -wal hold no patient data in the clear,
every command works with the key, a missing or wrong key is a one-line error that leaves
the file byte-identical, and the key is never printed, `--debug` included.

Runs through the real CLI against real files. Skipped when SQLCipher is not installed
(`pip install 'alliance-cli[encryption]'`; the `test` extra installs it).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import traceback
import types
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from typer.testing import Result

from tests.conftest import Cli

sqlcipher3 = pytest.importorskip(
    "sqlcipher3",
    reason="SQLCipher is not installed: pip install 'alliance-cli[encryption]'",
)

from alliance_cli.store import cipher  # noqa: E402

pytestmark = pytest.mark.sqlite_only  # these tests are about the SQLite file itself

# Sentinels: none of them may ever be found in the encrypted file, its -wal or any output.
KEY = "sentinel-KEY-7Qz'\"; DROP TABLE patient;--x"  # quotes: no SQL text is built from it
WRONG_KEY = "sentinel-WRONG-9Vk'\"x"
CODE = "ZQXCODE4711"
NOTE = "NOTESENTINEL knee pain since the divorce"
LATER_NOTE = "LATERSENTINEL wrote while a reader was open"
SQLITE_HEADER = b"SQLite format 3\x00"
ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def no_ambient_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No key from the developer's environment or keyring; none remembered between runs."""
    monkeypatch.delenv(cipher.KEY_ENV, raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)  # `import keyring` fails
    cipher.forget_keys()
    yield
    cipher.forget_keys()


class KeyCli(Cli):
    """`Cli`, but each run starts as a fresh process would: no key remembered."""

    def __call__(self, *args: str, **options: Any) -> Result:
        cipher.forget_keys()
        return super().__call__(*args, **options)


def files_of(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def secrets_in(data: bytes) -> list[str]:
    return [s for s in (CODE, NOTE, LATER_NOTE) if s.encode() in data]


def one_error_line(result: Result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def assert_no_key(text: str, *keys: str) -> None:
    for key in (KEY, WRONG_KEY, *keys):
        assert key not in text
        assert key.encode().hex() not in text


def make_plain(tmp_path: Path) -> KeyCli:
    clinic = tmp_path / "clinic"
    clinic.mkdir(mode=0o700)
    cli = KeyCli(clinic / "alliance.db")
    cli.ok("patient", "add", CODE, "--since", "2026-01-01", "--note", NOTE)
    cli.ok("goal", "add", CODE, "Walk to the shop", "--by", "joint")
    cli.ok("session", "add", CODE, "--date", "2026-02-02", *rated(7), "--note", NOTE + " (session)")
    return cli


def rated(value: int) -> list[str]:
    return ["--bond", str(value), "--goal", str(value), "--task", str(value)]


@pytest.fixture
def encrypted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KeyCli:
    cli = make_plain(tmp_path)
    assert secrets_in(cli.db_path.read_bytes())  # the sentinels are there in the clear
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    result = cli.ok("encrypt", "--yes")
    assert_no_key(result.stdout + result.stderr)
    return cli


def raw_rows(path: Path, sql: str, key: str = KEY) -> list[tuple[object, ...]]:
    """Read the encrypted file with SQLCipher itself and the passphrase (as its shell would)."""
    with closing(sqlcipher3.connect(str(path))) as conn:
        conn.execute("PRAGMA key = '" + key.replace("'", "''") + "'")
        return list(conn.execute(sql).fetchall())


# --------------------------------------------------------------------------------------


def test_encrypt_leaves_no_patient_data_in_the_clear(encrypted: KeyCli) -> None:
    db = encrypted.db_path
    folder = db.parent
    data = db.read_bytes()
    assert not data.startswith(SQLITE_HEADER)
    assert secrets_in(data) == []
    wal = folder / "alliance.db-wal"
    assert not wal.exists() or secrets_in(wal.read_bytes()) == []
    assert mode(db) == 0o600
    (backup,) = folder.glob("alliance.pre-encryption-*.db")
    assert mode(backup) == 0o600
    assert secrets_in(backup.read_bytes()), "the backup taken before is the plain database"
    # A standard SQLCipher 4 file: the passphrase opens it in SQLCipher itself.
    assert raw_rows(db, "SELECT code FROM patient") == [(CODE,)]
    assert raw_rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_every_command_works_with_the_key(encrypted: KeyCli, tmp_path: Path) -> None:
    cli = encrypted
    db = cli.db_path
    assert CODE in cli.ok("patient", "list").stdout
    assert NOTE in cli.ok("patient", "show", CODE).stdout
    cli.ok("session", "add", CODE, "--date", "2026-02-09", *rated(3), "--note", LATER_NOTE)
    sessions = json.loads(cli.ok("session", "list", CODE, "--format", "json").stdout)
    assert [s["note"] for s in sessions][-1] == LATER_NOTE
    cli.ok("goal", "list", CODE)
    cli.ok("task", "add", CODE, "Walk daily", "--goal", "1")
    cli.ok("flags")
    cli.ok("summary")
    cli.ok("trend", CODE)
    cli.ok("log")
    where = json.loads(cli.ok("where", "--format", "json").stdout)
    assert where["patients"] == 1 and where["sessions"] == 2
    exported = cli.ok("export", "--all", "--format", "json").stdout
    assert CODE in exported and LATER_NOTE in exported
    doctor = cli.ok("doctor")
    assert "encrypted with SQLCipher" in doctor.stdout
    copy = Path(cli.ok("backup", str(tmp_path / "copy.db")).stdout.strip())
    assert mode(copy) == 0o600
    assert not copy.read_bytes().startswith(SQLITE_HEADER)
    assert secrets_in(copy.read_bytes()) == []
    assert raw_rows(copy, "SELECT count(*) FROM session_rating") == [(2,)]
    cli.ok("undo", "--yes")
    for path in (db, db.with_name("alliance.db-wal")):
        if path.exists():
            assert secrets_in(path.read_bytes()) == [], path
    assert_no_key(cli.ok("where").stdout)
    cli.ok("patient", "discharge", CODE, "--ending", "mutual")  # outcomes reads ahead
    assert json.loads(cli.ok("outcomes", "--format", "json").stdout)["n"] == 1


@pytest.mark.parametrize("kind", ["plain", "encrypted"])
def test_the_wal_holds_no_clear_text_before_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """A reader keeps a snapshot open, so the write stays in the -wal (no checkpoint, no
    removal when the writer closes). On the plain database the note is there: that is
    what the check would see."""
    cli = make_plain(tmp_path)
    if kind == "encrypted":
        monkeypatch.setenv(cipher.KEY_ENV, KEY)
        cli.ok("encrypt", "--yes")
        reader = sqlcipher3.connect(str(cli.db_path), isolation_level=None)
        reader.execute("PRAGMA key = '" + KEY.replace("'", "''") + "'")
    else:
        reader = sqlite3.connect(cli.db_path, isolation_level=None)
    wal = cli.db_path.with_name("alliance.db-wal")
    try:
        reader.execute("BEGIN")
        assert reader.execute("SELECT count(*) FROM session_rating").fetchone() == (1,)
        cli.ok("session", "add", CODE, "--date", "2026-02-09", *rated(4), "--note", LATER_NOTE)
        assert wal.exists() and wal.stat().st_size > 0
        found = LATER_NOTE.encode() in wal.read_bytes() + cli.db_path.read_bytes()
        assert found == (kind == "plain")
        if kind == "encrypted":
            assert secrets_in(wal.read_bytes()) == []
            assert secrets_in(cli.db_path.read_bytes()) == []
        reader.execute("COMMIT")
        assert reader.execute("SELECT count(*) FROM session_rating").fetchone() == (2,)
    finally:
        reader.close()


COMMANDS: list[tuple[str, ...]] = [
    ("patient", "list"),
    ("patient", "add", "P2"),
    ("session", "add", CODE, "--date", "2026-03-03", *rated(5)),
    ("export", "--all", "--format", "json"),
    ("where",),
    ("backup",),
    ("decrypt", "--yes"),
]


@pytest.mark.parametrize(
    ("key", "says"),
    [(None, "the database is encrypted"), (WRONG_KEY, "wrong key or not an encrypted database")],
    ids=["missing-key", "wrong-key"],
)
def test_a_missing_or_wrong_key_is_one_line_and_leaves_the_file_byte_identical(
    encrypted: KeyCli, monkeypatch: pytest.MonkeyPatch, key: str | None, says: str
) -> None:
    folder = encrypted.db_path.parent
    before = files_of(folder)
    if key is None:
        monkeypatch.delenv(cipher.KEY_ENV)
    else:
        monkeypatch.setenv(cipher.KEY_ENV, key)
    for args in COMMANDS:
        result = encrypted(*args)
        assert result.exit_code == 4, (args, result.stderr)
        assert says in one_error_line(result), args
        assert result.stdout == ""
        assert_no_key(result.stderr)
        assert files_of(folder) == before, args
    result = encrypted("restore", "--yes", str(next(folder.glob("*.pre-encryption-*"))))
    assert result.exit_code == 4 and says in one_error_line(result)
    assert files_of(folder) == before
    doctor = encrypted("doctor")
    assert doctor.exit_code == 1 and says in doctor.stdout
    assert files_of(folder) == before


@pytest.mark.slow  # many real processes (~7 s of CPU)
def test_the_key_never_appears_even_with_debug(encrypted: KeyCli) -> None:
    db = encrypted.db_path
    salt = db.read_bytes()[:16]
    derived = [cipher.raw_key(KEY, salt), cipher.raw_key(WRONG_KEY, salt)]
    hexes = [value[2:66] for value in derived]  # the hex digits of each derived key
    env = {k: v for k, v in os.environ.items() if k != cipher.KEY_ENV}
    env["PYTHONPATH"] = str(ROOT)
    for key in (KEY, WRONG_KEY):
        for args in (["patient", "list"], ["backup"], ["encrypt", "--yes"], ["doctor"]):
            done = subprocess.run(
                [sys.executable, "-m", "alliance_cli", "--debug", "--db", str(db), *args],
                env={**env, cipher.KEY_ENV: key},
                capture_output=True,
                text=True,
                stdin=subprocess.DEVNULL,
                timeout=120,
            )
            output = done.stdout + done.stderr
            assert_no_key(output, *hexes)
            if key == WRONG_KEY and args[0] in ("patient", "backup"):
                assert "Traceback" in done.stderr  # --debug shows it: and still no key
                assert "wrong key or not an encrypted database" in done.stderr
    # In-process, the whole exception chain of a --debug run, rendered.
    os.environ[cipher.KEY_ENV] = WRONG_KEY
    try:
        result = encrypted("--debug", "patient", "list")
    finally:
        os.environ[cipher.KEY_ENV] = KEY
    assert result.exception is not None
    rendered = "".join(traceback.format_exception(result.exception))
    assert "wrong key" in rendered
    assert_no_key(rendered + result.stderr, *hexes)


def test_a_file_that_is_not_sqlite_with_a_key_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(8192))
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"my private notes\n")
    before = files_of(tmp_path)
    result = KeyCli(garbage)("patient", "list")
    assert result.exit_code == 4
    assert "wrong key or not an encrypted database" in one_error_line(result)
    result = KeyCli(notes)("patient", "list")
    assert result.exit_code == 4
    assert "not a SQLite file" in one_error_line(result)
    assert files_of(tmp_path) == before


def test_encrypt_refuses_what_it_cannot_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cli = make_plain(tmp_path)
    folder = cli.db_path.parent
    before = files_of(folder)

    no_key = cli("encrypt", "--yes")
    assert no_key.exit_code == 1 and "no key" in one_error_line(no_key)
    monkeypatch.setenv(cipher.KEY_ENV, "short")
    short = cli("encrypt", "--yes")
    assert short.exit_code == 1 and "too short" in one_error_line(short)
    assert files_of(folder) == before

    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    server = KeyCli("postgresql://alliance@127.0.0.1:1/nowhere")("encrypt", "--yes")
    assert server.exit_code == 1
    assert "only on a SQLite database file" in one_error_line(server)
    not_asked = cli("encrypt")  # no terminal, no --yes
    assert not_asked.exit_code == 1 and "--yes" in not_asked.stderr
    assert files_of(folder) == before

    cli.ok("encrypt", "--yes")
    again = cli("encrypt", "--yes")
    assert again.exit_code == 1 and "already encrypted" in one_error_line(again)
    not_encrypted = KeyCli(tmp_path / "other.db")
    not_encrypted.ok("patient", "add", "P1")
    plain = not_encrypted("decrypt", "--yes")
    assert plain.exit_code == 1 and "not encrypted" in one_error_line(plain)


def test_a_new_database_can_start_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    cli = KeyCli(tmp_path / "new.db")
    cli.ok("encrypt", "--yes")
    cli.ok("patient", "add", CODE, "--note", NOTE)
    assert secrets_in(cli.db_path.read_bytes()) == []
    assert CODE in cli.ok("patient", "list").stdout


def test_backup_and_restore_keep_the_database_encrypted(encrypted: KeyCli, tmp_path: Path) -> None:
    cli = encrypted
    folder = cli.db_path.parent
    (plain_backup,) = folder.glob("alliance.pre-encryption-*.db")
    encrypted_backup = Path(cli.ok("backup", str(tmp_path / "enc.db")).stdout.strip())
    cli.ok("patient", "add", "P2")

    # A plain backup restored over the encrypted database: encrypted with its key.
    result = cli.ok("restore", "--yes", str(plain_backup))
    assert "encrypted" in result.stderr
    assert secrets_in(cli.db_path.read_bytes()) == []
    assert "P2" not in cli.ok("patient", "list").stdout
    assert not [
        p
        for p in folder.iterdir()
        if p.name.startswith("alliance.pre-encryption") and p.name.endswith(("-wal", "-shm"))
    ]

    # The encrypted backup restores too, and stays encrypted.
    cli.ok("patient", "add", "P3")
    cli.ok("restore", "--yes", str(encrypted_backup))
    assert "P3" not in cli.ok("patient", "list").stdout
    assert secrets_in(cli.db_path.read_bytes()) == []
    assert mode(cli.db_path) == 0o600
    for backup in folder.glob("alliance.backup-*.db"):  # taken before each restore
        assert not backup.read_bytes().startswith(SQLITE_HEADER)
        assert mode(backup) == 0o600


def test_decrypt_gives_a_plain_sqlite_file_back(encrypted: KeyCli) -> None:
    cli = encrypted
    result = cli.ok("decrypt", "--yes")
    assert_no_key(result.stdout + result.stderr)
    data = cli.db_path.read_bytes()
    assert data.startswith(SQLITE_HEADER) and secrets_in(data)
    (before,) = cli.db_path.parent.glob("alliance.pre-decryption-*.db")
    assert mode(before) == 0o600 and secrets_in(before.read_bytes()) == []
    assert cli.rows("patient")[0][1] == CODE
    cli.ok("patient", "list")


def test_a_schema_upgrade_of_an_encrypted_database_keeps_its_copy_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.db"
    shutil.copy(ROOT / "tests" / "fixtures" / "schema-0001.db", old)
    db = tmp_path / "alliance.db"
    db.touch(mode=0o600)
    with closing(cipher.connect(old, read_only=True, sqlcipher=True)) as source:
        cipher.export(source, db, encrypt=True, passphrase=KEY)
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    KeyCli(db).ok("patient", "list")
    (copy,) = tmp_path.glob("alliance.db.pre-*.bak")
    assert not copy.read_bytes().startswith(SQLITE_HEADER)
    assert raw_rows(copy, "SELECT version_num FROM alembic_version") == [("0001",)]
    assert not db.read_bytes().startswith(SQLITE_HEADER)


def test_tab_completion_offers_no_codes_from_an_encrypted_database(encrypted: KeyCli) -> None:
    from alliance_cli.cli.completion import matching_codes

    assert matching_codes(str(encrypted.db_path), "") == []
    encrypted.ok("decrypt", "--yes")
    assert matching_codes(str(encrypted.db_path), "") == [CODE]


def test_the_system_keyring_is_a_key_source(
    encrypted: KeyCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str]] = []

    def get_password(service: str, account: str) -> str | None:
        asked.append((service, account))
        return KEY if account == "default" else None

    fake = types.ModuleType("keyring")
    fake.get_password = get_password  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.delenv(cipher.KEY_ENV)
    assert CODE in encrypted.ok("patient", "list").stdout
    assert ("alliance-cli", str(encrypted.db_path)) in asked
    assert ("alliance-cli", "default") in asked

    def broken(service: str, account: str) -> str | None:
        raise RuntimeError("no backend")

    fake.get_password = broken  # type: ignore[attr-defined]
    result = encrypted("patient", "list")
    assert result.exit_code == 4 and "the database is encrypted" in one_error_line(result)


def test_the_readme_encryption_commands_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_readme import commands_of

    commands = commands_of("Encryption at rest")
    assert ["encrypt", "--yes"] in commands
    cli = make_plain(tmp_path)
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    for argv in commands:
        cli.ok(*argv)


def test_on_a_terminal_the_key_is_asked_once_per_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt itself (getpass, on the terminal) is replaced: CliRunner has no terminal."""
    answers: list[str] = []
    asked: list[str] = []

    def prompt(text: str) -> str | None:
        asked.append(text)
        return answers.pop(0) if answers else None

    monkeypatch.setattr(cipher, "_prompt", prompt)
    cli = make_plain(tmp_path)
    answers[:] = [KEY, KEY + "-typo"]
    mismatch = cli("encrypt", "--yes")
    assert mismatch.exit_code == 1 and "differ" in one_error_line(mismatch)
    assert cli.db_path.read_bytes().startswith(SQLITE_HEADER)

    answers[:] = [KEY, KEY]
    asked.clear()
    cli.ok("encrypt", "--yes")
    assert len(asked) == 2 and all(KEY not in text for text in asked)
    asked.clear()
    answers[:] = [KEY]
    assert CODE in cli.ok("patient", "list").stdout
    assert len(asked) == 1, asked  # once, though the file is opened several times
    answers[:] = [WRONG_KEY]
    wrong = cli("backup")
    assert wrong.exit_code == 4 and "wrong key" in one_error_line(wrong)


def test_without_sqlcipher_an_encrypted_file_is_refused_clearly(
    encrypted: KeyCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = files_of(encrypted.db_path.parent)
    monkeypatch.setitem(sys.modules, "sqlcipher3", None)  # `import sqlcipher3` fails
    result = encrypted("patient", "list")
    assert result.exit_code == 4
    line = one_error_line(result)
    assert "not a SQLite file" in line and "alliance-cli[encryption]" in line
    plain = KeyCli(encrypted.db_path.with_name("plain.db"))
    plain.ok("patient", "add", "P1")
    result = plain("encrypt", "--yes")
    assert result.exit_code == 4 and "SQLCipher is not installed" in one_error_line(result)
    assert plain.db_path.read_bytes().startswith(SQLITE_HEADER)
    after = {k: v for k, v in files_of(encrypted.db_path.parent).items() if "plain" not in k}
    assert after == before


def test_encrypt_refuses_a_database_another_process_has_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process, not a connection of this one: POSIX locks never conflict within
    a process, and encrypt holds the file through SQLCipher's own copy of SQLite."""
    cli = make_plain(tmp_path)
    monkeypatch.setenv(cipher.KEY_ENV, KEY)
    holder = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]);"
        " c.execute('SELECT count(*) FROM patient').fetchall(); print('open', flush=True);"
        " sys.stdin.read()"
    )
    other = subprocess.Popen(
        [sys.executable, "-c", holder, str(cli.db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert other.stdout is not None and other.stdout.readline() == "open\n"
        monkeypatch.setattr("alliance_cli.store.engine.BUSY_TIMEOUT_SECONDS", 0.2)
        result = cli("encrypt", "--yes")
    finally:
        other.communicate(timeout=60)
    assert result.exit_code == 4
    assert "in use by another process" in one_error_line(result)
    assert cli.db_path.read_bytes().startswith(SQLITE_HEADER)
    assert CODE in cli.ok("patient", "list").stdout
