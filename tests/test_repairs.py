"""Repair attempts (issue 15, part 3): recorded after a flag, linked to it, followed up by
the next sessions (repaired, not-yet, pending), and carried through every view, export,
import, the summary, the audit trail and erasure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from alliance_cli.domain.flag_model import Flag, Rating
from alliance_cli.domain.repairs import (
    NOT_YET,
    PENDING,
    REPAIRED,
    FlagLink,
    flag_to_answer,
    repair_outcome,
)
from alliance_cli.domain.rules import DEFAULT_THRESHOLDS
from tests.conftest import Cli

QUICK = DEFAULT_THRESHOLDS["quick"]
START = date(2026, 11, 2)


def day(n: int) -> date:
    return START + timedelta(days=n)


def quick(n: int, bond: float, goal: float, task: float, rater: str = "patient") -> Rating:
    return Rating(day(n), rater, "quick", bond, goal, task, bond + goal + task)


# ------------------------------------------------------------------ the outcome rule


STEADY = [quick(i, 9, 9, 9) for i in range(4)]
RUPTURE = FlagLink("rupture", "total", day(4), "patient", "quick")


def test_a_rupture_repair_is_pending_then_not_yet_then_repaired() -> None:
    ratings = [*STEADY, quick(4, 6, 6, 6)]  # usual 27, SD 0: back at 25.5 repairs it
    assert repair_outcome(RUPTURE, day(5), ratings, QUICK) == PENDING
    ratings.append(quick(6, 8, 8, 9))  # 25
    assert repair_outcome(RUPTURE, day(5), ratings, QUICK) == NOT_YET
    ratings.append(quick(7, 9, 8, 9))  # 26
    assert repair_outcome(RUPTURE, day(5), ratings, QUICK) == REPAIRED


def test_only_later_sessions_of_the_flags_rater_and_instrument_count() -> None:
    ratings = [*STEADY, quick(4, 6, 6, 6), quick(5, 9, 9, 9)]
    assert repair_outcome(RUPTURE, day(5), ratings, QUICK) == PENDING  # same day: not later
    ratings += [quick(6, 9, 9, 9, "therapist"), Rating(day(6), "patient", "srs", 9, 9, 9, 36)]
    assert repair_outcome(RUPTURE, day(5), ratings, QUICK) == PENDING


def test_a_drop_is_repaired_back_at_the_level_before_it() -> None:
    link = FlagLink("drop", "bond", day(1), "patient", "quick")
    ratings = [quick(0, 8, 9, 9), quick(1, 5, 9, 9), quick(3, 7.9, 9, 9)]
    assert repair_outcome(link, day(2), ratings, QUICK) == NOT_YET
    assert repair_outcome(link, day(2), [*ratings, quick(4, 8, 9, 9)], QUICK) == REPAIRED


def test_a_low_score_is_repaired_at_the_cut_off() -> None:
    total = FlagLink("low", "total", day(0), "patient", "quick")
    ratings = [quick(0, 6, 6, 6), quick(2, 7, 7, 6.9)]  # 20.9 < 21
    assert repair_outcome(total, day(1), ratings, QUICK) == NOT_YET
    assert repair_outcome(total, day(1), [*ratings, quick(3, 7, 7, 7)], QUICK) == REPAIRED
    bond = FlagLink("low", "bond", day(0), "patient", "quick")
    assert repair_outcome(bond, day(1), [quick(0, 5, 9, 9), quick(2, 6, 9, 9)], QUICK) == REPAIRED


def test_an_unlinked_repair_has_no_outcome() -> None:
    assert repair_outcome(None, day(0), STEADY, QUICK) is None


def flag(kind: str, severity: str, when: date, dimension: str = "total") -> Flag:
    return Flag("P1", kind, severity, dimension, when, "m", "patient", instrument="quick")


def test_the_flag_answered_is_the_most_severe_latest_rupture_drop_or_low() -> None:
    found = flag_to_answer(
        [
            flag("low", "watch", day(4), "bond"),
            flag("drop", "alert", day(4), "bond"),
            flag("rupture", "alert", day(4)),
            flag("rupture", "alert", day(1)),
            flag("decline", "watch", day(5)),
            flag("rupture", "info", day(5)),  # repaired
        ]
    )
    assert found == FlagLink("rupture", "total", day(4), "patient", "quick")
    assert flag_to_answer([flag("decline", "watch", day(4))]) is None


# ------------------------------------------------------------------ through the CLI


@pytest.fixture(autouse=True)
def _room(request: pytest.FixtureRequest) -> None:
    """The SQLite file's folder, for tests with the `cli` fixture (it starts with none)."""
    if "cli" in request.fixturenames:
        request.getfixturevalue("cli").make_room()


def rupture_patient(cli: Cli) -> None:
    """P1: four steady sessions in November 2026, then a rupture on 2026-11-06."""
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    for n in range(4):
        cli.ok("session", "add", "P1", "--date", day(n).isoformat(), *scores(9, 9, 9))
    cli.ok("session", "add", "P1", "--date", day(4).isoformat(), *scores(6, 6, 6))


def scores(bond: float, goal: float, task: float) -> tuple[str, ...]:
    return ("--bond", f"{bond:g}", "--goal", f"{goal:g}", "--task", f"{task:g}")


def repairs(cli: Cli, code: str = "P1") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(cli.ok("repair", "list", code, "-f", "json").stdout)
    return found


def test_repair_add_links_the_current_rupture_and_follows_it_up(
    fixed_today: date, cli: Cli
) -> None:
    rupture_patient(cli)
    added = cli.ok("repair", "add", "P1", "--date", day(5).isoformat(), "--strategy", "explore")
    assert added.stdout.strip() == "1"
    assert "rupture of 2026-11-06" in added.stderr
    [repair] = repairs(cli)
    assert repair == {
        "id": 1,
        "patient": "P1",
        "date": "2026-11-07",
        "strategy": "explore",
        "note": None,
        "flag": {"kind": "rupture", "dimension": "total", "date": "2026-11-06"},
        "outcome": "pending",
    }
    cli.ok("session", "add", "P1", "--date", day(6).isoformat(), *scores(8, 8, 8))
    assert repairs(cli)[0]["outcome"] == "not-yet"
    cli.ok("session", "add", "P1", "--date", day(7).isoformat(), *scores(9, 9, 8))
    assert repairs(cli)[0]["outcome"] == "repaired"
    table = cli.ok("repair", "list", "P1").stdout
    assert "explore" in table and "repaired" in table
    csv_lines = cli.ok("repair", "list", "P1", "-f", "csv").stdout.splitlines()
    assert (
        csv_lines[0] == "id,patient,date,strategy,note,flag_kind,flag_dimension,flag_date,outcome"
    )
    assert csv_lines[1] == "1,P1,2026-11-07,explore,,rupture,total,2026-11-06,repaired"


def test_a_repair_with_no_current_flag_is_unlinked(fixed_today: date, cli: Cli) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    cli.ok("session", "add", "P1", "--date", day(0).isoformat(), *scores(9, 9, 9))
    added = cli.ok("repair", "add", "P1", "--strategy", "validate", "--note", "checked in")
    assert "no current flag" in added.stderr
    [repair] = repairs(cli)
    assert (repair["flag"], repair["outcome"], repair["note"]) == (None, None, "checked in")
    assert repair["date"] == fixed_today.isoformat()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--date", "2027-01-01"), "is in the future"),
        (("--date", "2026-10-01"), "before the start of care"),
        (("--date", "someday"), "is not a date"),
        (("--strategy", "hug"), "unknown repair strategy 'hug'"),
    ],
)
def test_bad_repairs_are_refused_and_store_nothing(
    fixed_today: date, cli: Cli, args: tuple[str, ...], expected: str
) -> None:
    cli.ok("patient", "add", "P1", "--since", "2026-11-01")
    before = cli.dump()
    options = {"--strategy": "explore", **dict(zip(args[::2], args[1::2], strict=True))}
    result = cli("repair", "add", "P1", *(x for pair in options.items() for x in pair))
    assert result.exit_code == 1, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert "Traceback" not in result.stderr
    assert cli.dump() == before
    assert cli("repair", "list", "NOPE").exit_code == 1


def test_the_config_file_adds_repair_strategies(
    fixed_today: date, cli: Cli, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = isolated_home / "clinic.toml"
    config.write_text('[repair]\nstrategies = ["grounding"]\n')
    monkeypatch.setenv("ALLIANCE_CONFIG", str(config))
    cli.ok("patient", "add", "P1")
    cli.ok("repair", "add", "P1", "--strategy", "grounding")
    cli.ok("repair", "add", "P1", "--strategy", "acknowledge")  # the built-in ones stay
    shown = json.loads(cli.ok("config", "show", "-f", "json").stdout)["settings"]
    [setting] = [s for s in shown if s["key"] == "repair.strategies"]
    assert setting["value"].endswith("other, grounding") and setting["source"] == "file"
    config.write_text('[repair]\nstrategies = "grounding"\n')
    bad = cli("repair", "add", "P1", "--strategy", "grounding")
    assert bad.exit_code == 1 and "repair.strategies must be a list" in bad.stderr


def test_patient_show_markdown_and_summary_show_repairs(fixed_today: date, cli: Cli) -> None:
    rupture_patient(cli)
    cli.ok("repair", "add", "P1", "--date", day(5).isoformat(), "--strategy", "metacommunicate")
    cli.ok("session", "add", "P1", "--date", day(7).isoformat(), *scores(9, 9, 9))
    shown = json.loads(cli.ok("patient", "show", "P1", "-f", "json").stdout)
    assert [(r["strategy"], r["outcome"]) for r in shown["repairs"]] == [
        ("metacommunicate", "repaired")
    ]
    text = cli.ok("patient", "show", "P1").stdout
    assert "Repairs" in text and "metacommunicate" in text
    document = cli.ok("export", "P1", "-f", "markdown").stdout
    assert "### Repair attempts" in document and "metacommunicate" in document
    handout = cli.ok("export", "P1", "-f", "markdown", "--for-patient").stdout
    assert "metacommunicate" not in handout and "Repair" not in handout
    period = ("--since", "2026-11-01", "--until", "2026-11-30")
    summary = json.loads(cli.ok("summary", *period, "-f", "json").stdout)["repairs"]
    assert summary["attempts"] == 1 and summary["outcomes"]["repaired"] == 1
    assert [r["strategy"] for r in summary["list"]] == ["metacommunicate"]
    lines = cli.ok("summary", *period).stdout.splitlines()
    assert "Repair attempts: 1 (1 repaired)" in lines
    # judged with what had happened by the period's end
    until = ("--since", day(5).isoformat(), "--until", day(6).isoformat(), "-f", "json")
    early = json.loads(cli.ok("summary", *until).stdout)
    assert early["repairs"]["outcomes"]["pending"] == 1
    quiet = cli.ok("summary", "--since", "2026-11-20", "--until", "2026-11-30").stdout
    assert "Repair attempts" not in quiet


def test_repairs_go_through_log_and_undo(fixed_today: date, cli: Cli) -> None:
    cli.ok("patient", "add", "P1")
    cli.ok("repair", "add", "P1", "--strategy", "acknowledge")
    log = json.loads(cli.ok("log", "-f", "json").stdout)
    assert (log[-1]["action"], log[-1]["entity"], log[-1]["patient"]) == (
        "repair.add",
        "repair",
        "P1",
    )
    cli.ok("undo", "--yes")
    assert repairs(cli) == [] and cli.table_is_empty("repair")


def test_patient_delete_erases_the_repairs(fixed_today: date, cli: Cli) -> None:
    rupture_patient(cli)
    cli.ok("repair", "add", "P1", "--strategy", "explore", "--note", "private words")
    cli.ok("patient", "delete", "P1", "--yes")
    assert cli.table_is_empty("repair")
    assert not any("private words" in line for line in cli.dump())


def test_json_export_and_import_carry_repairs_exactly(
    fixed_today: date, cli: Cli, make_cli: Callable[[str], Cli], tmp_path: Path
) -> None:
    rupture_patient(cli)
    cli.ok("repair", "add", "P1", "--date", day(5).isoformat(), "--strategy", "explore")
    note = ("--note", "said it felt rushed")
    cli.ok("repair", "add", "P1", "--date", day(5).isoformat(), "--strategy", "other", *note)
    exported = cli.ok("export", "--all", "-f", "json").stdout
    document = json.loads(exported)
    assert document["patients"][0]["repairs"][0]["flag"] == {
        "kind": "rupture",
        "dimension": "total",
        "date": "2026-11-06",
        "rater": "patient",
        "instrument": "quick",
    }
    file = tmp_path / "export.json"
    file.write_text(exported)
    fresh = make_cli("fresh")
    assert "2 repairs" in fresh.ok("import", str(file)).stderr
    assert "repair" not in fresh.ok("import", str(file)).stderr  # nothing added twice
    assert fresh.ok("export", "--all", "-f", "json").stdout == exported


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"strategy": "hug"}, "unknown repair strategy 'hug'"),
        ({"date": "2099-01-01"}, "is in the future"),
        ({"flag": {"kind": "decline", "date": "2026-11-06"}}, "flag kind"),
        ({"flag": "rupture"}, "flag must be an object or null"),
    ],
)
def test_imported_repairs_are_checked(
    fixed_today: date, cli: Cli, tmp_path: Path, change: dict[str, Any], expected: str
) -> None:
    cli.ok("patient", "add", "P1")
    repair = {"date": "2026-11-07", "strategy": "explore", "note": None, "flag": None, **change}
    document = json.loads(cli.ok("export", "--all", "-f", "json").stdout)
    document["patients"][0]["repairs"] = [repair]
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(document))
    before = cli.dump()
    result = cli("import", str(file))
    assert result.exit_code == 1 and expected in result.stderr, result.stderr
    assert "patients[0].repairs[0]" in result.stderr
    assert cli.dump() == before
