"""What each command prints, in each output format (table/text, JSON, CSV)."""

from __future__ import annotations

from collections.abc import Sequence

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.instruments import DIMENSIONS, SCORES
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
from alliance_cli.render.safe_text import one_line, printable
from alliance_cli.render.tables import Column, print_table
from alliance_cli.render.values import fmt_change, fmt_date, fmt_optional, fmt_score

TABLE, JSON, CSV = "table", "json", "csv"


TREND_ARROWS = {"up": "↑", "down": "↓", "flat": "→", "": ""}


def patients(rows: Sequence[PatientRow], fmt: str, *, clinicians: bool = False) -> None:
    """`patient list`; with `clinicians` (a clinic-wide listing) the table names each
    patient's clinician (JSON and CSV always do)."""
    if fmt == JSON:
        print_json([patient_dict(r) for r in rows])
    elif fmt == CSV:
        print_csv(PATIENT_CSV_KEYS, (patient_csv_row(r) for r in rows))
    else:
        print_table(
            [
                *([Column("clinician")] if clinicians else []),
                Column("code"),
                Column("name"),
                Column("status"),
                Column("sessions", numeric=True),
                Column("last session"),
                Column("bond", numeric=True),
                Column("goal", numeric=True),
                Column("task", numeric=True),
                Column("total", numeric=True),
                Column("trend"),
                Column("alerts", numeric=True),
                Column("watch", numeric=True),
            ],
            [
                [
                    *([r.clinician] if clinicians else []),
                    r.code,
                    r.name or "",
                    r.status,
                    str(r.sessions),
                    fmt_date(r.last_session),
                    *(
                        [fmt_score(getattr(r.latest, name)) for name in SCORES]
                        if r.latest
                        else ["", "", "", ""]
                    ),
                    TREND_ARROWS[r.trend],
                    str(r.alerts or ""),
                    str(r.watch or ""),
                ]
                for r in rows
            ],
        )


def _session_cells(r: SessionRecord) -> list[str]:
    return [
        str(r.id),
        fmt_date(r.date),
        r.rater,
        r.instrument,
        fmt_score(r.bond),
        fmt_score(r.goal),
        fmt_score(r.task),
        r.note or "",
    ]


SESSION_COLUMNS = [
    Column("id", numeric=True),
    Column("date"),
    Column("rater"),
    Column("instrument"),
    Column("bond", numeric=True),
    Column("goal", numeric=True),
    Column("task", numeric=True),
    Column("note"),
]


def sessions(records: Sequence[SessionRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([session_dict(r) for r in records])
    elif fmt == CSV:
        print_csv(SESSION_KEYS, (session_dict(r) for r in records))
    else:
        print_table(SESSION_COLUMNS, [_session_cells(r) for r in records], title=title)


def _goal_review_summary(goal: GoalRecord) -> str:
    if not goal.reviews:
        return ""
    last = goal.reviews[-1]
    note = f": {last.note}" if last.note else ""
    return f"{last.date.isoformat()} {last.status}{note}"


def goals(records: Sequence[GoalRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([goal_dict(r) for r in records])
    elif fmt == CSV:
        rows = [{**goal_dict(r), "reviews": _goal_review_summary(r)} for r in records]
        print_csv(GOAL_KEYS, rows)
    else:
        print_table(
            [
                Column("id", numeric=True),
                Column("goal"),
                Column("by"),
                Column("status"),
                Column("target"),
                Column("created"),
            ],
            [
                [
                    str(g.id),
                    g.text,
                    g.proposed_by,
                    g.status,
                    fmt_date(g.target),
                    fmt_date(g.created),
                ]
                for g in records
            ],
            title=title,
        )


def _reviews_summary(task: TaskRecord) -> str:
    return "; ".join(f"{r.date.isoformat()} {r.adherence}" for r in task.reviews)


def tasks(records: Sequence[TaskRecord], fmt: str, *, title: str | None = None) -> None:
    if fmt == JSON:
        print_json([task_dict(r) for r in records])
    elif fmt == CSV:
        rows = [{**task_dict(r), "reviews": _reviews_summary(r)} for r in records]
        print_csv(TASK_KEYS, rows)
    else:
        print_table(
            [
                Column("id", numeric=True),
                Column("task"),
                Column("goal", numeric=True),
                Column("status"),
                Column("due"),
                Column("reviews"),
            ],
            [
                [
                    str(t.id),
                    t.text,
                    fmt_optional(t.goal_id),
                    t.status,
                    fmt_date(t.due),
                    _reviews_summary(t),
                ]
                for t in records
            ],
            title=title,
        )


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
        flag_table(stored.flags, TABLE, title="Flags raised by this session")


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
    }


def profile(p: PatientProfile, fmt: str) -> None:
    """A short confirmation of a stored profile (after add / edit / discharge)."""
    if fmt == JSON:
        print_json(profile_dict(p))
        return
    _key_values([(k, v) for k, v in _profile_lines(p, 0) if v and k != "sessions"])


def _key_values(lines: Sequence[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        text = printable(value).replace("\n", "\n" + " " * (width + 2))
        out(f"{key.ljust(width)}  {text}")


def overview(view: PatientOverview, fmt: str, *, chart: str | None = None) -> None:
    """The patient's dashboard (JSON: the same data, without the chart)."""
    if fmt == JSON:
        print_json(
            {
                "patient": profile_dict(view.profile),
                "sessions_total": view.session_count,
                "goals": [goal_dict(g) for g in view.goals],
                "tasks": [task_dict(t) for t in view.tasks],
                "recent_sessions": [session_dict(s) for s in view.sessions],
                "flags": [flag_dict(f) for f in view.flags],
            }
        )
        return
    _key_values(_profile_lines(view.profile, view.session_count))
    out()
    if view.flags:
        flag_table(view.flags, TABLE, title="Needs attention")
    else:
        out("Flags: nothing needs attention.")
    out()
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
        sessions(view.sessions, TABLE, title=f"Recent sessions ({len(view.sessions)} rating sets)")
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
    config = info.config + ("" if info.config_exists else " (not present; defaults apply)")
    missing = "" if info.exists else "; does not exist yet"
    _key_values(
        [
            ("database", f"{info.location} (from {info.source}{missing})"),
            ("schema", schema),
            ("patients", str(info.patients)),
            ("sessions", str(info.sessions)),
            ("config", config),
        ]
    )


def flag_table(
    flags: Sequence[Flag], fmt: str, *, title: str | None = None, clinicians: bool = False
) -> None:
    """Flags; with `clinicians` (a clinic-wide listing) each names its clinician."""
    keys = CLINIC_FLAG_KEYS if clinicians else FLAG_KEYS
    if fmt == JSON:
        print_json([flag_dict(f, keys) for f in flags])
    elif fmt == CSV:
        print_csv(keys, (flag_dict(f, keys) for f in flags))
    else:
        print_table(
            [
                *([Column("clinician")] if clinicians else []),
                Column("patient"),
                Column("severity"),
                Column("kind"),
                Column("dimension"),
                Column("date"),
                Column("message"),
            ],
            [
                [
                    *([f.clinician] if clinicians else []),
                    f.patient,
                    f.severity,
                    f.kind,
                    f.dimension or "",
                    fmt_date(f.date),
                    f.message,
                ]
                for f in flags
            ],
            title=title,
        )
