"""What each command prints, in each output format (table/text, JSON, CSV)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.gas import level_text, patient_t_score, rated_goals, shown_t
from alliance_cli.domain.instruments import DIMENSIONS
from alliance_cli.domain.records import (
    DatabaseInfo,
    GoalRecord,
    PatientOverview,
    PatientProfile,
    PatientRow,
    SessionRecord,
    StoredSession,
    TaskRecord,
)
from alliance_cli.domain.words import plural
from alliance_cli.render import layouts
from alliance_cli.render.console import out
from alliance_cli.render.formats import (
    CLINIC_FLAG_KEYS,
    FLAG_KEYS,
    GOAL_KEYS,
    PATIENT_CSV_KEYS,
    SESSION_KEYS,
    TASK_KEYS,
    flag_dict,
    goal_dict,
    patient_csv_row,
    patient_dict,
    print_csv,
    print_json,
    session_dict,
    task_dict,
)
from alliance_cli.render.repairs import repair_dict, repair_section
from alliance_cli.render.safe_text import one_line, printable
from alliance_cli.render.tables import Column, Layout, print_table, table_width
from alliance_cli.render.values import fmt_change, fmt_date, fmt_score

TABLE, JSON, CSV = "table", "json", "csv"


def _show(layouts: Sequence[Layout], title: str | None = None) -> None:
    """The first of a view's layouts that fits the width; records one by one if none."""
    first, *narrower = layouts
    print_table(first.columns, first.rows, title=title, narrower=narrower, stack=True)


def patients(rows: Sequence[PatientRow], fmt: str, *, clinicians: bool = False) -> None:
    """`patient list`; with `clinicians` (a clinic-wide listing) the table names each
    patient's clinician (JSON and CSV always do)."""
    if fmt == JSON:
        print_json([patient_dict(r) for r in rows])
    elif fmt == CSV:
        print_csv(PATIENT_CSV_KEYS, (patient_csv_row(r) for r in rows))
    else:
        _show(layouts.patient_layouts(rows, clinicians=clinicians))


def sessions(records: Sequence[SessionRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([session_dict(r) for r in records])
    elif fmt == CSV:
        print_csv(SESSION_KEYS, (session_dict(r) for r in records))
    else:
        _show(layouts.session_layouts(records), title)


def goals(records: Sequence[GoalRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([goal_dict(r) for r in records])
    elif fmt == CSV:
        rows = [
            {**goal_dict(r), "reviews": layouts.goal_review(r), "gas_history": _gas_cell(r)}
            for r in records
        ]
        print_csv(GOAL_KEYS, rows)
    else:
        _show(layouts.goal_layouts(records), title)


def _gas_cell(goal: GoalRecord) -> str:
    """A goal's GAS reviews in one CSV cell: `2026-11-03 -1; 2026-11-24 +1`."""
    return "; ".join(
        f"{r.date.isoformat()} {level_text(r.gas)}" for r in goal.gas_history if r.gas is not None
    )


def tasks(records: Sequence[TaskRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([task_dict(r) for r in records])
    elif fmt == CSV:
        rows = [{**task_dict(r), "reviews": layouts.task_reviews(r)} for r in records]
        print_csv(TASK_KEYS, rows)
    else:
        _show(layouts.task_layouts(records), title)


def stored_session(stored: StoredSession, fmt: str) -> None:
    s = stored.session
    if fmt == JSON:
        print_json(
            {
                "session": session_dict(s),
                "previous": None if stored.previous is None else session_dict(stored.previous),
                "changes": stored.changes,
                "flags": [flag_dict(f) for f in stored.flags],
            }
        )
        return
    out(
        one_line(
            f"Stored session {s.id} for {s.patient} on {s.date.isoformat()} "
            f"({s.rater} rating, {s.instrument})"
        )
    )
    previous = stored.previous
    since = f" since {previous.date.isoformat()}" if previous else ""
    print_table(
        [Column("dimension"), Column("score", numeric=True), Column("change" + since)],
        [
            [name, fmt_score(getattr(s, name)), fmt_change(stored.changes[name])]
            for name in DIMENSIONS
        ],
    )
    if s.note:
        out("note: " + one_line(s.note))
    if stored.flags:
        out()
        flag_table(stored.flags, TABLE, title="Flags raised by this session", patient=False)


def _profile_lines(p: PatientProfile, session_count: int) -> list[tuple[str, str]]:
    lines = [
        ("code", p.code),
        ("name", p.name or ""),
        ("status", p.status),
        ("since", fmt_date(p.since)),
        ("instrument", p.instrument),
        ("sessions", str(session_count)),
        ("expectations", p.expectations or ""),
        ("beliefs", p.beliefs or ""),
        ("emotional state", p.emotional_state or ""),
        ("social context", p.social_context or ""),
        ("note", p.note or ""),
    ]
    if p.status == "discharged":
        lines.append(("discharged", fmt_date(p.discharged_on)))
        lines.append(("ending", p.shown_ending or ""))
        lines.append(("reason", p.discharge_reason or ""))
    return lines


def profile_dict(p: PatientProfile) -> dict[str, object]:
    return {
        "code": p.code,
        "name": p.name,
        "status": p.status,
        "since": fmt_date(p.since) or None,
        "instrument": p.instrument,
        "expectations": p.expectations,
        "beliefs": p.beliefs,
        "emotional_state": p.emotional_state,
        "social_context": p.social_context,
        "note": p.note,
        "discharged_on": fmt_date(p.discharged_on) or None,
        "discharge_reason": p.discharge_reason,
        "ending": p.shown_ending,
    }


def profile(p: PatientProfile, fmt: str) -> None:
    """A short confirmation of a stored profile (after add / edit / discharge)."""
    if fmt == JSON:
        print_json(profile_dict(p))
        return
    _key_values([(k, v) for k, v in _profile_lines(p, 0) if v and k != "sessions"])


def _key_values(lines: Sequence[tuple[str, str]], *, fold: bool = True) -> None:
    """`key  value` lines; a long value folds at word boundaries under itself (never
    inside a word: a path runs past the edge instead), unless `fold` is off."""
    width = max(len(k) for k, _ in lines)
    room = max(table_width() - width - 2, 20) if fold else 1 << 30
    indent = "\n" + " " * (width + 2)
    for key, value in lines:
        folded = [
            line
            if len(line) <= room  # as typed, tabs and leading spaces included
            else indent.join(
                textwrap.wrap(
                    line,
                    room,
                    break_on_hyphens=False,
                    break_long_words=False,
                    expand_tabs=False,
                    replace_whitespace=False,
                )
            )
            for line in printable(value).split("\n")
        ]
        out(f"{key.ljust(width)}  {indent.join(folded)}".rstrip(" "))


def overview(view: PatientOverview, fmt: str, *, chart: str | None = None) -> None:
    """The patient's dashboard (JSON: the same data, without the chart)."""
    gas_t = patient_t_score(view.goals)
    if fmt == JSON:
        print_json(
            {
                "patient": profile_dict(view.profile),
                "sessions_total": view.session_count,
                "goals": [goal_dict(g) for g in view.goals],
                "tasks": [task_dict(t) for t in view.tasks],
                "recent_sessions": [session_dict(s) for s in view.sessions],
                "flags": [flag_dict(f) for f in view.flags],
                "repairs": [repair_dict(r) for r in view.repairs],
                "gas_t": None if gas_t is None else shown_t(gas_t),
            }
        )
        return
    lines = _profile_lines(view.profile, view.session_count)
    if gas_t is not None:
        rated = plural(len(rated_goals(view.goals)), "goal")
        lines.insert(6, ("GAS T-score", f"{shown_t(gas_t):.1f} over {rated} (50 = as expected)"))
    _key_values(lines)
    out()
    if view.flags:
        flag_table(view.flags, TABLE, title="Needs attention", patient=False)
    else:
        out("Flags: nothing needs attention.")
    out()
    repair_section(view.repairs)
    active_goals = [g for g in view.goals if g.status == "active"]
    if active_goals:
        goals(active_goals, TABLE, title="Active goals")
    else:
        out("No active goals: `alliance goal add CODE TEXT`.")
    out()
    open_tasks = [t for t in view.tasks if t.status == "active"]
    if open_tasks:
        tasks(open_tasks, TABLE, title="Open tasks")
    else:
        out("No open tasks: `alliance task add CODE TEXT`.")
    out()
    if view.sessions:
        recent = plural(len(view.sessions), "rating set")
        sessions(view.sessions, TABLE, title=f"Recent sessions ({recent})")
    else:
        out("No sessions yet: `alliance session add CODE`.")
    if chart:
        out()
        out(chart)


def database_info(info: DatabaseInfo, fmt: str) -> None:
    if fmt == JSON:
        print_json(
            {
                "database": info.location,
                "source": info.source,
                "exists": info.exists,
                "schema_version": info.schema_version,
                "patients": info.patients,
                "sessions": info.sessions,
                "config": info.config,
                "config_exists": info.config_exists,
            }
        )
        return
    schema = info.schema_version or "(not created yet)"
    # Paths are typed text: a newline in one is shown as \n, never as a second line.
    absent = "" if info.config_exists else " (not present; defaults apply)"
    config = one_line(info.config) + absent
    missing = "" if info.exists else "; does not exist yet"
    _key_values(
        [
            ("database", f"{one_line(info.location)} (from {info.source}{missing})"),
            ("schema", schema),
            ("patients", str(info.patients)),
            ("sessions", str(info.sessions)),
            ("config", config),
        ],
        fold=False,  # paths a script or a person copies: one line each
    )


def flag_table(
    flags: Sequence[Flag],
    fmt: str,
    *,
    title: str | None = None,
    clinicians: bool = False,
    patient: bool = True,
) -> None:
    """Flags: as text, one row per event (what one session raised, `flag_groups`); as
    JSON and CSV, one object per flag. With `clinicians` (a clinic-wide listing) each
    names its clinician; `patient=False` leaves out the code (one patient's own view)."""
    keys = CLINIC_FLAG_KEYS if clinicians else FLAG_KEYS
    if fmt == JSON:
        print_json([flag_dict(f, keys) for f in flags])
    elif fmt == CSV:
        print_csv(keys, (flag_dict(f, keys) for f in flags))
    else:
        _show(layouts.flag_layouts(flags, clinicians=clinicians, patient=patient), title)
