"""The JSON export's contract (domain/exchange_format.py) is what the export writes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from alliance_cli.domain import exchange_format as contract
from tests.conftest import Cli


def test_every_object_of_an_export_has_the_contract_keys(
    fixed_today: date, cli: Cli, tmp_path: Path
) -> None:
    demo = Cli(tmp_path / "demo.db")
    result = cli("demo", "--path", str(demo.db_path), db=False)
    assert result.exit_code == 0, result.stderr
    document = json.loads(demo.ok("export", "--all", "--format", "json").stdout)
    assert tuple(document) == contract.DOCUMENT_KEYS
    assert document["format"] == contract.EXPORT_FORMAT
    assert document["schema_version"] == contract.EXPORT_SCHEMA_VERSION
    assert contract.EXPORT_SCHEMA_VERSION in contract.READABLE_SCHEMA_VERSIONS
    assert set(contract.PROFILE_TEXT_KEYS) <= set(contract.PATIENT_KEYS)
    seen: dict[str, int] = {}

    def check(kind: str, objects: list[Any], keys: tuple[str, ...]) -> None:
        for item in objects:
            assert tuple(item) == keys, kind
            seen[kind] = seen.get(kind, 0) + 1

    check("patient", document["patients"], contract.PATIENT_KEYS)
    for patient in document["patients"]:
        check("goal", patient["goals"], contract.GOAL_KEYS)
        for goal in patient["goals"]:
            check("goal review", goal["reviews"], contract.GOAL_REVIEW_KEYS)
        check("task", patient["tasks"], contract.TASK_KEYS)
        for task in patient["tasks"]:
            check("task review", task["reviews"], contract.TASK_REVIEW_KEYS)
        check("session", patient["sessions"], contract.SESSION_KEYS)
        check("repair", patient["repairs"], contract.REPAIR_KEYS)
        flags = [r["flag"] for r in patient["repairs"] if r["flag"] is not None]
        check("repair flag", flags, contract.REPAIR_FLAG_KEYS)
    kinds = ("patient", "goal", "goal review", "task", "task review", "session", "repair")
    assert all(seen.get(kind) for kind in (*kinds, "repair flag")), seen


def test_the_csv_export_has_the_contract_columns_and_imports_back(
    fixed_today: date, cli: Cli, tmp_path: Path
) -> None:
    cli.make_room()
    cli.ok("patient", "add", "C01", "--since", "2026-01-05")
    cli.ok(
        "session", "add", "C01", "--date", "2026-01-12", "--bond", "8", "--goal", "7", "--task", "6"
    )
    exported = cli.ok("export", "--all", "--format", "csv").stdout
    assert exported.splitlines()[0].split(",") == list(contract.CSV_EXPORT_COLUMNS)
    assert set(contract.CSV_EXPORT_COLUMNS) <= {*contract.CSV_COLUMNS, *contract.CSV_IGNORED}
    dump = tmp_path / "sessions.csv"
    dump.write_text(exported)
    copy = Cli(tmp_path / "copy.db")
    assert "Added 1 patient" in copy.ok("import", str(dump)).stderr
    assert copy.ok("export", "--all", "--format", "csv").stdout == exported
