"""`alliance import` of a JSON export (schema_version 1 or 2): patients, goals, tasks,
reviews, repairs and sessions, matched against what is stored so that a second import adds
nothing. Version 1 has no GAS settings, GAS levels or endings: the defaults apply."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from sqlmodel import Session, select

from alliance_cli.config import Settings
from alliance_cli.domain.exchange_format import (
    EXPORT_FORMAT,
    PROFILE_TEXT_KEYS,
    READABLE_SCHEMA_VERSIONS,
)
from alliance_cli.domain.gas import (
    BASELINES,
    DEFAULT_BASELINE,
    DEFAULT_WEIGHT,
    LEVELS,
    check_weight,
)
from alliance_cli.domain.import_rows import SessionRow, check_row
from alliance_cli.domain.records import (
    ADHERENCE_LEVELS,
    ENDINGS,
    GOAL_PROPOSERS,
    GOAL_STATUSES,
    PATIENT_STATUSES,
    TASK_STATUSES,
    UNKNOWN_ENDING,
)
from alliance_cli.domain.text import check_code, one_of, text_field
from alliance_cli.errors import AllianceError, InvalidInput
from alliance_cli.services.care.agreements import agreements_of
from alliance_cli.services.exchange.import_repairs import import_repairs
from alliance_cli.services.exchange.importer import (
    Callback,
    DryRun,
    ImportReport,
    StoredSessions,
    checked_plan,
    no_progress,
    patient_ids,
    read_text,
    store_sessions,
)
from alliance_cli.store.engine import Database, clinician_of
from alliance_cli.store.models import Goal, GoalReview, Patient, Task, TaskReview


def _day(value: Any, where: str, problems: list[str], *, required: bool = True) -> date | None:
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.append(f"{where}: {value!r} is not a YYYY-MM-DD date")
        return None


def import_json(
    db: Database,
    path: Path,
    settings: Settings,
    today: date,
    *,
    dry_run: bool = False,
    started: Callback = no_progress,
    advance: Callback = no_progress,
) -> ImportReport:
    """A JSON export (schema_version 1 or 2) into this database."""
    malformed = f"{path} is not an alliance JSON export"
    try:
        document = json.loads(read_text(path), parse_int=_whole_number)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error}") from None
    except _NumberTooLong as error:
        raise InvalidInput(malformed, f"it holds a number of {error} digits") from None
    except RecursionError:
        raise InvalidInput(malformed, NESTED) from None
    if _depth_over(document, MAX_DEPTH):  # before any code walks it recursively
        raise InvalidInput(malformed, NESTED)
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise InvalidInput(f"{path} is not an alliance JSON export")
    version = document.get("schema_version")
    if isinstance(version, bool) or version not in READABLE_SCHEMA_VERSIONS:
        readable = " or ".join(str(v) for v in READABLE_SCHEMA_VERSIONS)
        raise InvalidInput(
            f"export schema_version {version!r} is not supported",
            f"this alliance reads schema_version {readable}",
        )
    patients = document.get("patients")
    if not isinstance(patients, list):
        raise InvalidInput("the export has no patients list")
    report = ImportReport(dry_run=dry_run)
    started(len(patients))
    try:
        with contextlib.suppress(DryRun):
            _import_json(db, patients, settings, today, report, advance)
    except RecursionError:  # reading a value nested nearly as deep as json allows
        raise InvalidInput(malformed, NESTED) from None  # rolled back, as any error inside
    return report


MAX_DIGITS = 100  # an export's whole numbers (ids, scores) have a few digits
MAX_DEPTH = 32  # an export nests 4-5 levels; a value far deeper is not one of ours
NESTED = "its values are nested too deeply"


def _depth_over(document: Any, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit`, found without recursion: a
    value nested near Python's limit, handed to the ORM, failed deep in a flush, where
    even the interpreter's own error reports could not run."""
    pending = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in children)
    return False


class _NumberTooLong(Exception):
    """A whole number longer than MAX_DIGITS in the file."""


def _whole_number(digits: str) -> int:
    """A JSON whole number; one too long to be anything in an export is refused before
    Python converts it (over 4300 digits, that conversion failed: exit 5)."""
    if len(digits) > MAX_DIGITS:
        raise _NumberTooLong(len(digits))
    return int(digits)


def _import_json(
    db: Database,
    patients: list[Any],
    settings: Settings,
    today: date,
    report: ImportReport,
    advance: Callback,
) -> None:
    with db.write("import", undoable=False) as session:
        store = StoredSessions(session)
        problems: list[str] = []
        rows: list[SessionRow] = []
        for index, data in enumerate(patients):
            where = f"patients[{index}]"
            if not isinstance(data, dict):
                problems.append(f"{where}: not an object")
                continue
            _json_patient(session, store, data, where, settings, today, problems, rows, report)
            advance(1)
        planned = checked_plan(rows, store, problems, report)
        store_sessions(session, planned, patient_ids(store), report)


def _json_patient(
    session: Session,
    store: StoredSessions,
    data: dict[str, Any],
    where: str,
    settings: Settings,
    today: date,
    problems: list[str],
    rows: list[SessionRow],
    report: ImportReport,
) -> None:
    code = data.get("code")
    if not isinstance(code, str):
        problems.append(f"{where}: code is missing")
        return
    try:
        # The checks of typed input, whether or not the patient has sessions (whose rows
        # check the code again): a code with NUL could never be named on a command line.
        code = check_code(code)
        patient = store.patients.get(code)
        if patient is None:
            instrument = settings.instrument(str(data.get("instrument") or "quick")).name
            patient = Patient(
                code=code,
                clinician=clinician_of(store.session),
                instrument=instrument,
                status=one_of(data.get("status") or "active", PATIENT_STATUSES, "status"),
                since=_day(data.get("since"), f"{where}.since", problems, required=False),
                discharged_on=_day(
                    data.get("discharged_on"), f"{where}.discharged_on", problems, required=False
                ),
            )
            for key in PROFILE_TEXT_KEYS:
                setattr(patient, key, text_field(data.get(key), key))
            patient.ending = _ending(data.get("ending"), patient.status)
            session.add(patient)
            session.flush()
            store.patients[code] = patient
            report.patients_added += 1
    except AllianceError as error:
        problems.append(f"{where}: {error}")
        return
    assert patient.id is not None
    goal_ids = _json_goals(session, patient.id, data.get("goals") or [], where, problems, report)
    _json_tasks(session, patient.id, goal_ids, data.get("tasks") or [], where, problems, report)
    found = import_repairs(session, patient, data.get("repairs"), where, settings, today, problems)
    report.repairs_added += found
    for number, values in enumerate(data.get("sessions") or []):
        here = f"{where}.sessions[{number}]"
        if not isinstance(values, dict):
            problems.append(f"{here}: not an object")
            continue
        cells = {k: None if v is None else _cell(v) for k, v in values.items()}
        cells["patient"] = code
        try:
            rows.append(
                check_row(
                    here,
                    cells,
                    instruments=settings.instruments,
                    default_instrument={code: patient.instrument},
                    since={code: patient.since},
                    today=today,
                )
            )
        except AllianceError as error:
            problems.append(f"{here}: {error}")


def _ending(value: Any, status: str) -> str | None:
    """How care ended, as `patient discharge --ending` takes it; `unknown` (or none) is
    stored as not recorded. Only a discharged patient has one."""
    if value is None or value == UNKNOWN_ENDING:
        return None
    ending = one_of(value, ENDINGS, "ending")
    if status != "discharged":
        raise InvalidInput("ending is given for a patient in care", "only a discharge has one")
    return ending


def _gas_setting(data: dict[str, Any]) -> tuple[int, float]:
    """A goal's GAS baseline and weight (the defaults when absent, as in version 1)."""
    baseline = data.get("baseline", DEFAULT_BASELINE)
    if isinstance(baseline, bool) or baseline not in BASELINES:
        raise InvalidInput(f"baseline must be one of {', '.join(str(b) for b in BASELINES)}")
    weight = data.get("weight", DEFAULT_WEIGHT)
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise InvalidInput("weight must be a number")
    return int(baseline), check_weight(repr(weight))


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _json_goals(
    session: Session,
    patient_id: int,
    goals: list[Any],
    where: str,
    problems: list[str],
    report: ImportReport,
) -> dict[int, int]:
    """Goals by their position in the file -> database id (existing ones are matched)."""
    existing = {(g.text, g.created): g for g in agreements_of(session, Goal, patient_id, only=None)}
    ids: dict[int, int] = {}
    for number, data in enumerate(_objects(goals, f"{where}.goals", problems), 1):
        here = f"{where}.goals[{number - 1}]"
        if data is None:
            continue
        created = _day(data.get("created"), f"{here}.created", problems)
        try:
            text = text_field(data.get("text"), "goal text", required=True)
            proposed_by = one_of(data.get("proposed_by") or "joint", GOAL_PROPOSERS, "proposed_by")
            status = one_of(data.get("status") or "active", GOAL_STATUSES, "status")
            position = _position(data.get("id"), number)
            baseline, weight = _gas_setting(data)
        except AllianceError as error:
            problems.append(f"{here}: {error}")
            continue
        reviews = _dated(data.get("reviews"), f"{here}.reviews", problems, _goal_review)
        if created is None or text is None:
            continue
        goal = existing.get((text, created))
        if goal is None:
            goal = Goal(
                patient_id=patient_id,
                text=text,
                proposed_by=proposed_by,
                status=status,
                target=_day(data.get("target"), f"{here}.target", problems, required=False),
                created=created,
                baseline=baseline,
                weight=weight,
            )
            session.add(goal)
            session.flush()
            report.goals_added += 1
        assert goal.id is not None
        ids[position] = goal.id
        known = {
            (r.date, r.status, r.note, r.gas)
            for r in session.exec(select(GoalReview).where(GoalReview.goal_id == goal.id))
        }
        for when, (review_status, note, gas) in reviews:
            if (when, review_status, note, gas) in known:
                continue
            session.add(
                GoalReview(goal_id=goal.id, date=when, status=review_status, note=note, gas=gas)
            )
            report.reviews_added += 1
    return ids


def _json_tasks(
    session: Session,
    patient_id: int,
    goal_ids: dict[int, int],
    tasks: list[Any],
    where: str,
    problems: list[str],
    report: ImportReport,
) -> None:
    existing = {(t.text, t.created): t for t in agreements_of(session, Task, patient_id, only=None)}
    for number, data in enumerate(_objects(tasks, f"{where}.tasks", problems)):
        here = f"{where}.tasks[{number}]"
        if data is None:
            continue
        created = _day(data.get("created"), f"{here}.created", problems)
        try:
            text = text_field(data.get("text"), "task text", required=True)
            status = one_of(data.get("status") or "active", TASK_STATUSES, "status")
        except AllianceError as error:
            problems.append(f"{here}: {error}")
            continue
        reviews = _dated(data.get("reviews"), f"{here}.reviews", problems, _task_review)
        if created is None or text is None:
            continue
        goal_ref = data.get("goal")
        if goal_ref is not None and (not isinstance(goal_ref, int) or goal_ref not in goal_ids):
            problems.append(f"{here}: goal {goal_ref!r} is not in this patient's goals")
            continue
        task = existing.get((text, created))
        if task is None:
            task = Task(
                patient_id=patient_id,
                goal_id=None if goal_ref is None else goal_ids[goal_ref],
                text=text,
                status=status,
                due=_day(data.get("due"), f"{here}.due", problems, required=False),
                created=created,
                status_changed=_day(
                    data.get("status_changed"), f"{here}.status_changed", problems, required=False
                ),
            )
            session.add(task)
            session.flush()
            report.tasks_added += 1
        assert task.id is not None
        known = {
            (r.date, r.adherence)
            for r in session.exec(select(TaskReview).where(TaskReview.task_id == task.id))
        }
        for when, adherence in reviews:
            if (when, adherence) in known:
                continue
            session.add(TaskReview(task_id=task.id, date=when, adherence=adherence))
            report.reviews_added += 1


def _objects(value: Any, where: str, problems: list[str]) -> list[dict[str, Any] | None]:
    """A list of JSON objects; None in place of each entry that is not one (reported)."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: not a list")
        return []
    found: list[dict[str, Any] | None] = []
    for number, item in enumerate(value):
        if isinstance(item, dict):
            found.append(item)
        else:
            problems.append(f"{where}[{number}]: not an object")
            found.append(None)
    return found


def _position(value: Any, number: int) -> int:
    """A goal's `id` in the file (tasks refer to it): its position when absent."""
    if value is None:
        return number
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("id must be a whole number")
    return value


Checked = TypeVar("Checked")


def _dated(
    value: Any, where: str, problems: list[str], check: Callable[[dict[str, Any]], Checked]
) -> list[tuple[date, Checked]]:
    """(date, what `check` makes of it) of each review of a list; each problem reported."""
    reviews: list[tuple[date, Checked]] = []
    for number, review in enumerate(_objects(value, where, problems)):
        if review is None:
            continue
        when = _day(review.get("date"), f"{where}[{number}].date", problems)
        try:
            checked = check(review)
        except AllianceError as error:
            problems.append(f"{where}[{number}]: {error}")
            continue
        if when is not None:
            reviews.append((when, checked))
    return reviews


def _goal_review(review: dict[str, Any]) -> tuple[str, str | None, int | None]:
    """(status, note, GAS level), checked as `alliance goal status` and `alliance goal
    review` check them."""
    status = one_of(review.get("status"), GOAL_STATUSES, "status")
    note = text_field(review.get("note"), "note")
    gas = review.get("gas")
    if gas is not None and (isinstance(gas, bool) or gas not in LEVELS):
        raise InvalidInput("gas must be one of -2, -1, 0, 1, 2 or null")
    return status, note, None if gas is None else int(gas)


def _task_review(review: dict[str, Any]) -> str:
    """The adherence, checked as `alliance task review` checks it."""
    return one_of(review.get("adherence"), ADHERENCE_LEVELS, "adherence")
