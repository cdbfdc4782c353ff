"""The daily tables (`patient list`, `flags`, sessions, goals, tasks) at any width.

Each view gives its layouts from the richest to the leanest; `tables.print_table` shows
the first that fits (on a terminal, with borders first, then without). What each step
gives up is chosen here: shorter headers and merged cells first, then columns that say
least. Codes, dates and scores are never cut: free text (names, notes, goal and task
text, flag descriptions) folds onto more lines instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from alliance_cli.domain.flag_groups import FlagEvent, group_by_event
from alliance_cli.domain.flags import Flag
from alliance_cli.domain.gas import DEFAULT_WEIGHT, level_text
from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.outcomes import share_of_range
from alliance_cli.domain.records import (
    GoalRecord,
    LatestScores,
    PatientRow,
    SessionRecord,
    TaskRecord,
)
from alliance_cli.domain.vocabulary import PatientStatus, Severity
from alliance_cli.render.tables import Cell, Column, Layout, Styled
from alliance_cli.render.values import fmt_date, fmt_optional, fmt_score

R = TypeVar("R")
Field = tuple[Column, Callable[[R], Cell]]

TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→", "": ""}
SEVERITY_STYLES = {Severity.ALERT: "bold red", Severity.WATCH: "yellow", Severity.INFO: "dim"}


def build(fields: Sequence[Field[R]], records: Sequence[R]) -> Layout:
    return Layout(
        [column for column, _ in fields], [[get(r) for _, get in fields] for r in records]
    )


def _any(records: Sequence[R], get: Callable[[R], Cell]) -> bool:
    return any(str(get(r)) for r in records)


# ------------------------------------------------------------------ patient list


def share_of_scale(latest: LatestScores) -> str:
    """The total and where it lies on its instrument's scale (`26.0  87%`): a WAI-SR total
    of 48 (75 %) and a quick 30 (100 %) compare at a glance."""
    total = fmt_score(latest.total)
    if latest.total_range is None:
        return total
    low, high = latest.total_range
    if high <= low:
        return total
    percent = round(share_of_range(latest.total, low, high))
    return f"{total} {f'{percent}%':>4}"


def _total(row: PatientRow) -> str:
    return "" if row.latest is None else share_of_scale(row.latest)


def _total_and_trend(row: PatientRow) -> str:
    if row.latest is None:
        return ""
    return f"{share_of_scale(row.latest)} {TREND_ARROWS[row.trend] or ' '}"


def _score(name: str) -> Field[PatientRow]:
    def get(row: PatientRow) -> str:
        return "" if row.latest is None else fmt_score(getattr(row.latest, name))

    return (Column(name, numeric=True), get)


def _instrument(row: PatientRow) -> str:
    return row.latest.instrument if row.latest else row.instrument


def patient_layouts(rows: Sequence[PatientRow], *, clinicians: bool) -> list[Layout]:
    """Full; short headers with the trend beside the total; no instrument column when all
    share one; no name; no dimension scores; code, last session, total and flag counts.
    Name and status only when some row has one to tell (status: with `--all`, when a
    patient is discharged)."""
    who: list[Field[PatientRow]] = [(Column("clinician"), lambda r: r.clinician)] * clinicians
    code: Field[PatientRow] = (Column("code"), lambda r: r.code)
    name: list[Field[PatientRow]] = [(Column("name", wrap=True), lambda r: r.name or "")]
    name = name if _any(rows, name[0][1]) else []
    status: list[Field[PatientRow]] = [(Column("status"), lambda r: r.status)]
    status = status if any(r.status != PatientStatus.ACTIVE for r in rows) else []
    sessions: Field[PatientRow] = (Column("sessions", numeric=True), lambda r: str(r.sessions))
    sess: Field[PatientRow] = (Column("sess.", numeric=True), lambda r: str(r.sessions))
    last: Field[PatientRow] = (Column("last session"), lambda r: fmt_date(r.last_session))
    last_short: Field[PatientRow] = (Column("last"), lambda r: fmt_date(r.last_session))
    instrument: Field[PatientRow] = (Column("instrument"), _instrument)
    instr: Field[PatientRow] = (Column("instr."), _instrument)
    scores = [_score(n) for n in DIMENSIONS]
    total: Field[PatientRow] = (Column("total (%)", numeric=True), _total)
    merged: Field[PatientRow] = (Column("total (%)", numeric=True), _total_and_trend)
    trend: Field[PatientRow] = (Column("trend"), lambda r: TREND_ARROWS[r.trend])
    counts: list[Field[PatientRow]] = [
        (Column("alerts", numeric=True), lambda r: str(r.alerts or "")),
        (Column("watch", numeric=True), lambda r: str(r.watch or "")),
    ]
    # One instrument for all: the % already compares, the column can go before a name.
    mixed = len({_instrument(r) for r in rows}) > 1
    instr_if_mixed = [instr] * mixed
    steps: list[list[Field[PatientRow]]] = [
        [*who, code, *name, *status, sessions, last, instrument, *scores, total, trend, *counts],
        [*who, code, *name, *status, sess, last_short, instr, *scores, merged, *counts],
        [*who, code, *name, *status, sess, last_short, *instr_if_mixed, *scores, merged, *counts],
        [*who, code, *status, sess, last_short, instr, *scores, merged, *counts],
        [*who, code, *status, sess, last_short, instr, merged, *counts],
        [*who, code, last_short, merged, *counts],
    ]
    return [build(step, rows) for step in steps]


# ------------------------------------------------------------------------- flags


def severity_cell(severity: Severity) -> Styled:
    """The word always; its colour on a terminal (alert red, watch yellow, info dim)."""
    return Styled(severity, SEVERITY_STYLES.get(severity, ""))


def flag_layouts(
    flags: Sequence[Flag], *, clinicians: bool = False, patient: bool = True
) -> list[Layout]:
    """One row per event (`group_by_event`): who, how severe, when, and what, folded."""
    events = group_by_event(flags)
    who: list[Field[FlagEvent]] = [(Column("clinician"), lambda e: e.clinician)] * clinicians
    code: list[Field[FlagEvent]] = [(Column("patient"), lambda e: e.patient)] * patient
    fields: list[Field[FlagEvent]] = [
        *who,
        *code,
        (Column("severity"), lambda e: severity_cell(e.severity)),
        (Column("date"), lambda e: fmt_date(e.date)),
        (Column("flags", wrap=True, together=True), lambda e: e.text),
    ]
    return [build(fields, events)]


# ---------------------------------------------------------- sessions, goals, tasks


def session_layouts(records: Sequence[SessionRecord]) -> list[Layout]:
    """A `rupture` column (the rater's marker) once any set answered the question; then,
    for a narrow terminal, no instrument column when every set used the same one."""
    rupture: list[Field[SessionRecord]] = [(Column("rupture"), lambda r: r.rupture or "")]
    rupture = rupture if _any(records, rupture[0][1]) else []

    def fields(instrument: str | None) -> list[Field[SessionRecord]]:
        named: list[Field[SessionRecord]] = (
            [] if instrument is None else [(Column(instrument), lambda r: r.instrument)]
        )
        return [
            (Column("id", numeric=True), lambda r: str(r.id)),
            (Column("date"), lambda r: fmt_date(r.date)),
            (Column("rater"), lambda r: r.rater),
            *named,
            *[
                (Column(n, numeric=True), lambda r, n=n: fmt_score(getattr(r, n)))
                for n in DIMENSIONS
            ],
            *rupture,
            (Column("note", wrap=True), lambda r: r.note or ""),
        ]

    found = [build(fields("instrument"), records), build(fields("instr."), records)]
    if rupture and len({r.instrument for r in records}) == 1:
        found.append(build(fields(None), records))
    return found


def goal_review(goal: GoalRecord) -> str:
    """The latest review: `2026-11-03 achieved: walks every day`."""
    if not goal.reviews:
        return ""
    last = goal.reviews[-1]
    note = f": {last.note}" if last.note else ""
    what = last.status if last.gas is None else f"GAS {level_text(last.gas)}"
    return f"{last.date.isoformat()} {what}{note}"


def goal_gas(goal: GoalRecord) -> str:
    """The latest GAS level against the baseline: `+1 (from -1)`; empty before any."""
    if goal.gas is None:
        return ""
    return f"{level_text(goal.gas)} (from {level_text(goal.baseline)})"


def goal_layouts(records: Sequence[GoalRecord]) -> list[Layout]:
    """The latest review when any goal has one; `created`, then the target, go first."""
    head: list[Field[GoalRecord]] = [
        (Column("id", numeric=True), lambda g: str(g.id)),
        (Column("goal", wrap=True), lambda g: g.text),
        (Column("by"), lambda g: g.proposed_by),
        (Column("status"), lambda g: g.status),
    ]
    target: list[Field[GoalRecord]] = [(Column("target"), lambda g: fmt_date(g.target))]
    target = target if _any(records, target[0][1]) else []
    created: Field[GoalRecord] = (Column("created"), lambda g: fmt_date(g.created))
    review: list[Field[GoalRecord]] = [(Column("last review", wrap=True), goal_review)]
    review = review if _any(records, goal_review) else []
    gas: list[Field[GoalRecord]] = [(Column("GAS"), goal_gas)]
    gas = gas if _any(records, goal_gas) else []
    weighed: list[Field[GoalRecord]] = [(Column("weight", numeric=True), _weight)]
    weighed = weighed if any(g.weight != DEFAULT_WEIGHT for g in records) else []
    head = [*head, *gas, *weighed]
    steps = [[*head, *target, created, *review], [*head, *target, *review], [*head, *review]]
    return [build(step, records) for step in steps]


def _weight(goal: GoalRecord) -> str:
    return f"{goal.weight:g}"


def task_reviews(task: TaskRecord) -> str:
    return "; ".join(f"{r.date.isoformat()} {r.adherence}" for r in task.reviews)


def task_layouts(records: Sequence[TaskRecord]) -> list[Layout]:
    fields: list[Field[TaskRecord]] = [
        (Column("id", numeric=True), lambda t: str(t.id)),
        (Column("task", wrap=True), lambda t: t.text),
        (Column("goal", numeric=True), lambda t: fmt_optional(t.goal_id)),
        (Column("status"), lambda t: t.status),
        (Column("due"), lambda t: fmt_date(t.due)),
        (Column("reviews", wrap=True), task_reviews),
    ]
    return [build(fields, records)]
