"""One patient's history as a Markdown document (CommonMark + GFM tables) to file or print.

Two versions: the clinician's (everything) and one to share with the patient (plain
words, only the patient's own goals, tasks and ratings; no notes, ids or flag jargon).

All user text goes through `escape_markdown` (render/safe_text.py), which makes it inert
in any context the document puts it in (a heading, a list item, a table cell): it can add
no structure, raw HTML, link or emphasis, and reads back as exactly the text typed
(control characters escaped, newlines as spaces). Only what would become structure is
escaped, so that numbers and plain words read cleanly in a raw file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from alliance_cli.domain.export import PatientExport
from alliance_cli.domain.flags import Flag
from alliance_cli.domain.gas import (
    PLAIN_LEVELS,
    level_text,
    patient_t_score,
    rated_goals,
    reached,
    shown_t,
)
from alliance_cli.domain.instruments import DIMENSIONS, Instrument
from alliance_cli.domain.records import GoalRecord, GoalReviewRecord, SessionRecord
from alliance_cli.domain.words import plural
from alliance_cli.render.mermaid import Line, legend, xychart
from alliance_cli.render.repairs import repairs_markdown
from alliance_cli.render.safe_text import escape_markdown, printable
from alliance_cli.render.values import PATIENT_WORDS, fmt_date, fmt_score

_MISSING = "—"


def _text(value: str | None) -> str:
    return escape_markdown(value) if value else _MISSING


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GFM table: `header` is fixed text, `rows` escaped (every `|` in them is `\\|`)."""
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join(" --- " for _ in header) + "|")
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _fenced(body: str, info: str = "") -> str:
    """A fenced code block whose fence is longer than any backtick run in `body`."""
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body}\n{fence}"


# ------------------------------------------------------------------ trend


def _patient_series(sessions: Iterable[SessionRecord]) -> dict[str, list[SessionRecord]]:
    """The patient's own ratings, grouped by instrument, in date order."""
    series: dict[str, list[SessionRecord]] = {}
    for session in sorted(sessions, key=lambda s: s.date):
        if session.rater == "patient":
            series.setdefault(session.instrument, []).append(session)
    return series


def _scale(instrument: Instrument | None, score: str) -> tuple[float, float] | None:
    """The range of `score` ("dimensions": of bond, goal and task together)."""
    if instrument is None or not all(name in instrument.keys for name in DIMENSIONS):
        return None
    if score == "total":
        return instrument.dimension_range("total")
    ranges = [instrument.dimension_range(name) for name in DIMENSIONS]
    return min(low for low, _ in ranges), max(high for _, high in ranges)


def _mermaid(
    name: str,
    sessions: Sequence[SessionRecord],
    instrument: Instrument | None,
    *,
    for_patient: bool = False,
    cutoff: float | None = None,
) -> tuple[str, str]:
    """The legend and the Mermaid block (render/mermaid.py) of one instrument's patient
    ratings: a line per dimension, and the dimension `cutoff` as a level line when it
    lies on the scale. `for_patient` (the handout): its words, no cut-off."""
    scale = _scale(instrument, "dimensions")
    lines = [
        Line(
            dim,
            PATIENT_WORDS[dim] if for_patient else dim,
            tuple(getattr(s, dim) for s in sessions),
        )
        for dim in DIMENSIONS
    ]
    if not for_patient and cutoff is not None and (scale is None or scale[0] <= cutoff <= scale[1]):
        lines.append(Line("cut-off", f"cut-off {cutoff:g}", (cutoff,) * len(sessions)))
    title = "Your ratings" if for_patient else f"{name}: patient ratings"
    days = [s.date for s in sessions]
    return legend(lines), _fenced(xychart(title, days, lines, scale), "mermaid")


def _trend(export: PatientExport, chart: str | None, mermaid: bool, *, patient: bool) -> list[str]:
    blocks: list[str] = []
    if chart and chart.strip():
        blocks.append(_fenced(printable(chart).rstrip("\n"), "text"))
    instruments = {instrument.name: instrument for instrument in export.instruments}
    series = _patient_series(export.sessions)
    for name, sessions in series.items():
        if mermaid and len(sessions) >= 2:
            lines, chart_block = _mermaid(
                name,
                sessions,
                instruments.get(name),
                for_patient=patient,
                cutoff=export.dimension_cutoffs.get(name),
            )
            caption = (
                _your_caption(name, several=len(series) > 1, lines=lines)
                if patient
                else f"{escape_markdown(name)}, patient ratings. Lines: {lines}."
            )
            blocks += [caption, chart_block]
    return blocks or ["There are not enough ratings for a chart yet."]


# ------------------------------------------------------------------ clinician version


def _profile(export: PatientExport) -> str:
    p = export.profile
    reason = escape_markdown(p.discharge_reason or "")
    ending = f"({p.shown_ending})" if p.shown_ending else ""
    discharge = " ".join(filter(None, [fmt_date(p.discharged_on), ending, reason])) or _MISSING
    fields = [
        ("Code", _text(p.code)),
        ("Name", _text(p.name)),
        ("Status", _text(p.status)),
        ("Since", fmt_date(p.since) or _MISSING),
        ("Instrument", _text(p.instrument)),
        ("Expectations", _text(p.expectations)),
        ("Beliefs", _text(p.beliefs)),
        ("Emotional state", _text(p.emotional_state)),
        ("Social context", _text(p.social_context)),
        ("Note", _text(p.note)),
        ("Discharge", discharge),
    ]
    return _bullets(f"**{label}:** {value}" for label, value in fields)


def _goals(goals: Sequence[GoalRecord]) -> list[str]:
    """The goals table and their reviews; once a goal is rated on the Goal Attainment
    Scale, its GAS columns (level, baseline, weight) and the T-score too."""
    if not goals:
        return ["No goals recorded."]
    scaled = any(g.gas_history for g in goals)
    header = ("id", "goal", "proposed by", "status", "target")
    rows = [
        (str(g.id), _text(g.text), _text(g.proposed_by), _text(g.status), fmt_date(g.target))
        + ((_level(g.gas), level_text(g.baseline), f"{g.weight:g}") if scaled else ())
        for g in goals
    ]
    blocks = [_table(header + (("GAS", "baseline", "weight") if scaled else ()), rows)]
    score = patient_t_score(goals)
    if score is not None:
        rated = plural(len(rated_goals(goals)), "goal")
        blocks.append(f"GAS T-score: {shown_t(score):.1f} over {rated} (50 = as expected).")
    reviews = [
        (str(g.id), fmt_date(r.date), _text(r.status), escape_markdown(r.note or ""))
        + ((_level(r.gas),) if scaled else ())
        for g in goals
        for r in g.reviews
    ]
    if reviews:
        review_header = ("goal", "date", "status", "note") + (("GAS",) if scaled else ())
        blocks += ["### Goal reviews", _table(review_header, reviews)]
    return blocks


def _level(level: int | None) -> str:
    return "" if level is None else level_text(level)


def _tasks(export: PatientExport) -> str:
    if not export.tasks:
        return "No tasks recorded."
    rows = [
        (
            str(t.id),
            _text(t.text),
            "" if t.goal_id is None else str(t.goal_id),
            _text(t.status),
            fmt_date(t.due),
            "; ".join(f"{fmt_date(r.date)} {escape_markdown(r.adherence)}" for r in t.reviews),
        )
        for t in export.tasks
    ]
    return _table(("id", "task", "goal", "status", "due", "adherence reviews"), rows)


def _sessions(sessions: Sequence[SessionRecord]) -> str:
    """The rating sets; a `rupture` column (the rater's marker, empty when not asked) once
    any set answered the rupture question."""
    if not sessions:
        return "No sessions recorded."
    asked = any(s.rupture is not None for s in sessions)
    header = (
        "date",
        "rater",
        "instrument",
        "bond",
        "goal",
        "task",
        "total",
        *(("rupture",) if asked else ()),
        "note",
    )
    rows = [
        (
            fmt_date(s.date),
            _text(s.rater),
            _text(s.instrument),
            *(fmt_score(getattr(s, name)) for name in ("bond", "goal", "task", "total")),
            *((escape_markdown(s.rupture or ""),) if asked else ()),
            escape_markdown(s.note or ""),
        )
        for s in sessions
    ]
    return _table(header, rows)


def _flag_table(flags: Iterable[Flag], fields: Sequence[str], empty: str) -> str:
    def cell(flag: Flag, name: str) -> str:
        value = getattr(flag, name)
        return fmt_date(value) if name in ("date", "repaired_on") else escape_markdown(value or "")

    rows = [[cell(flag, name) for name in fields] for flag in flags]
    header = [name.replace("_", " ") for name in fields]
    return _table(header, rows) if rows else empty


def _flags(export: PatientExport) -> list[str]:
    ruptures = sorted((f for f in export.flags if f.kind == "rupture"), key=lambda f: f.date)
    others = sorted((f for f in export.flags if f.kind != "rupture"), key=lambda f: f.date)
    current = ("severity", "kind", "dimension", "date", "message")
    history = ("date", "severity", "kind", "dimension", "rater", "message")
    blocks = [
        "### Current flags",
        _flag_table(export.current_flags, current, "No current flags."),
        "### Ruptures and repairs",
        _flag_table(ruptures, ("date", "rater", "message", "repaired_on"), "No ruptures."),
    ]
    return blocks + (["### Flag history", _flag_table(others, history, "")] if others else [])


def _notes(sessions: Sequence[SessionRecord]) -> str:
    notes = [
        f"**{fmt_date(s.date)}**, {escape_markdown(s.rater)} rating: {escape_markdown(s.note)}"
        for s in sessions
        if s.note
    ]
    return _bullets(notes) if notes else "No session notes."


def _clinician_version(export: PatientExport, chart: str | None, mermaid: bool) -> list[str]:
    used = ", ".join(
        f"{escape_markdown(i.name)} ({escape_markdown(i.title)})" for i in export.instruments
    )
    return [
        f"# Alliance history: {escape_markdown(export.profile.code)}",
        f"Generated on {export.generated.isoformat()}. Instruments: {used or 'none yet'}.",
        "## Profile",
        _profile(export),
        "## Goals",
        *_goals(export.goals),
        "## Tasks",
        _tasks(export),
        "## Sessions",
        _sessions(export.sessions),
        "## Trend",
        *_trend(export, chart, mermaid, patient=False),
        "## Flags",
        *_flags(export),
        *repairs_markdown(export.repairs),
        "## Notes",
        _notes(export.sessions),
    ]


# ------------------------------------------------------------------ patient version

_PLAIN = {
    "goal": {"active": "working on it", "achieved": "achieved", "dropped": "set aside"},
    "task": {"active": "trying it", "completed": "done", "dropped": "set aside"},
    "proposer": {"patient": "you", "therapist": "your therapist", "joint": "together"},
    "adherence": {"done": "done", "partly": "partly", "not-done": "not done"},
}


def _plain(kind: str, value: str) -> str:
    return escape_markdown(_PLAIN[kind].get(value, value))


def _check_in(review: GoalReviewRecord) -> str:
    """A review in the handout's words: the status, or how far the goal was reached."""
    if review.gas is not None:
        return f"{fmt_date(review.date)}: {escape_markdown(PLAIN_LEVELS[review.gas])}"
    return f"{fmt_date(review.date)}: {_plain('goal', review.status)}"


def _your_goals(export: PatientExport) -> list[str]:
    if not export.goals:
        return ["We have not written down any goals yet."]
    rows = [
        (
            escape_markdown(g.text),
            _plain("proposer", g.proposed_by),
            _plain("goal", g.status),
            fmt_date(g.target),
            "; ".join(_check_in(r) for r in g.reviews),
        )
        for g in export.goals
    ]
    table = _table(("goal", "whose idea", "how it is going", "hoped for by", "check-ins"), rows)
    rated = rated_goals(export.goals)
    if not rated:
        return [table]
    hoped = sum(reached(goal.level) for goal in rated)
    goals = "goal" if len(rated) == 1 else "goals"
    said = f"{hoped} of {len(rated)} {goals} reached as hoped at the last check-in."
    return [said, table]


def _what_we_try(export: PatientExport) -> str:
    if not export.tasks:
        return "We have not agreed on anything to try yet."
    goal_text = {g.id: g.text for g in export.goals}
    rows = [
        (
            escape_markdown(t.text),
            escape_markdown(goal_text.get(t.goal_id, "")) if t.goal_id is not None else "",
            _plain("task", t.status),
            fmt_date(t.due),
            "; ".join(f"{fmt_date(r.date)}: {_plain('adherence', r.adherence)}" for r in t.reviews),
        )
        for t in export.tasks
    ]
    return _table(("what we agreed", "for the goal", "status", "by", "how it went"), rows)


def _your_caption(name: str, *, several: bool, lines: str) -> str:
    """The handout's caption of its Mermaid chart: the words of its table, no jargon;
    `lines` the chart's legend in those words (`connection (blue), ...`)."""
    which = f" (questionnaire {escape_markdown(name)})" if several else ""
    return f"Your ratings after each session{which}. Lines: {lines}."


def _sessions_felt(export: PatientExport) -> list[str]:
    own = [s for s in export.sessions if s.rater == "patient"]
    if not own:
        return ["You have not rated any sessions yet."]
    several = len({s.instrument for s in own}) > 1
    header = ("date", *(PATIENT_WORDS[name] for name in ("bond", "goal", "task", "total")))
    rows = [
        (
            fmt_date(s.date),
            *(fmt_score(getattr(s, name)) for name in ("bond", "goal", "task", "total")),
            *((escape_markdown(s.instrument),) if several else ()),
        )
        for s in own
    ]
    explain = (
        "Your own ratings after each session. *Connection*: how we get on together; "
        "*goals*: whether we work on what matters to you; *way of working*: whether how "
        "we work suits you. Higher numbers mean it felt better."
    )
    return [explain, _table((*header, "questionnaire") if several else header, rows)]


def _summary(export: PatientExport) -> str:
    series = _patient_series(export.sessions)
    instruments = {instrument.name: instrument for instrument in export.instruments}
    lines: list[str] = []
    for name, sessions in series.items():
        which = f" ({escape_markdown(name)})" if len(series) > 1 else ""
        first, last = sessions[0], sessions[-1]
        scale = _scale(instruments.get(name), "total")
        out_of = f" out of {scale[1]:g}" if scale else ""
        if len(sessions) == 1:
            lines.append(f"You have rated one session so far{which}, on {fmt_date(first.date)}.")
            continue
        before, after = fmt_score(first.total), fmt_score(last.total)
        moved = "went up to" if last.total > first.total else "went down to"
        if before == after:
            moved = "stayed at"
        lines.append(
            f"Between {fmt_date(first.date)} and {fmt_date(last.date)} your overall rating"
            f"{which} {moved} {after}{out_of} (it was {before})."
        )
    dips = sorted(
        {
            (f.date, f.repaired_on)
            for f in export.flags
            if f.kind == "rupture" and f.rater == "patient"
        }
    )
    for dipped, recovered in dips:
        lines.append(
            f"Your ratings dipped on {fmt_date(dipped)} and recovered by {fmt_date(recovered)}."
            if recovered
            else f"Your ratings dipped on {fmt_date(dipped)}; it is worth talking about together."
        )
    return _bullets(lines) if lines else "There are no ratings to compare yet."


def _patient_version(export: PatientExport, chart: str | None, mermaid: bool) -> list[str]:
    return [
        "# How our work together is going",
        f"Prepared on {export.generated.isoformat()}: the goals we set, what we agreed to try "
        "and how you rated our sessions.",
        "## Your goals",
        *_your_goals(export),
        "## What we agreed to try",
        _what_we_try(export),
        "## How the sessions felt",
        *_sessions_felt(export),
        "## How things have changed",
        _summary(export),
        *_trend(export, chart, mermaid, patient=True),
    ]


def patient_markdown(
    export: PatientExport,
    *,
    for_patient: bool = False,
    chart: str | None = None,
    mermaid: bool = True,
) -> str:
    """The patient's history as Markdown; `for_patient` gives the version to share with them.

    `chart` (e.g. from `trend_chart`) is shown verbatim in a code block; the caller picks
    it, so for the patient's version it should be a chart of the patient's own ratings.
    """
    build = _patient_version if for_patient else _clinician_version
    return "\n\n".join(build(export, chart, mermaid)) + "\n"
