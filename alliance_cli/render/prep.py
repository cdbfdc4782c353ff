"""`alliance prep`: the brief as text (one 80x24 screen), Markdown or JSON."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from alliance_cli.domain.gas import level_text, shown_t
from alliance_cli.domain.prep import Brief, FocusPoint, LastRating, Waiting
from alliance_cli.domain.records import GoalRecord, TaskRecord
from alliance_cli.domain.repairs import RepairRecord
from alliance_cli.render.console import out
from alliance_cli.render.formats import flag_dict, goal_dict, print_json, task_dict
from alliance_cli.render.safe_text import escape_markdown, one_line
from alliance_cli.render.values import fmt_date
from alliance_cli.render.wrap import GLUE, keep_numbers_named, output_width, wrap

JSON, MARKDOWN = "json", "markdown"
PROFILE_FIELDS = (
    ("expects", "expectations"),
    ("beliefs", "beliefs"),
    ("feeling", "emotional_state"),
    ("context", "social_context"),
)
LABEL = 7  # "Focus  ", "Goals  ": the width of a line's label
TEXT_SUGGESTIONS = 2  # per focus point on the one-screen text brief


def _profile_text(brief: Brief) -> str:
    parts = []
    for label, name in PROFILE_FIELDS:
        value = getattr(brief.profile, name)
        if value:
            parts.append(f"{label}: {one_line(value)}")
    return "; ".join(parts) or "no profile yet (`alliance patient edit CODE --expectations ...`)"


def _scores(rating: LastRating) -> str:
    """`bond 4 (-5) goal 7.5 (+0.5) ...`: short numbers, so one rater takes one line."""
    parts = []
    for name in ("bond", "goal", "task", "total"):
        change = rating.changes[name]
        shown = f"{rating.scores[name]:g}"
        if change is not None:
            shown += f"{GLUE}({change:+g})" if change else f"{GLUE}(=)"
        parts.append(f"{name}{GLUE}{shown}")
    return " ".join(parts)


def _last_lines(brief: Brief) -> list[str]:
    if not brief.last:
        return ["no ratings yet"]
    lines = []
    for rating in brief.last:
        lines.append(f"{rating.rater} {fmt_date(rating.date)}: {_scores(rating)}")
    return lines


def _repair_line(repair: RepairRecord) -> str:
    about = f" after {repair.flag.kind} of {fmt_date(repair.flag.date)}" if repair.flag else ""
    outcome = f": {repair.outcome}" if repair.outcome else ""
    return f"{fmt_date(repair.date)} {repair.strategy}{about}{outcome}"


def _goal_line(goal: GoalRecord) -> str:
    latest = goal.reviews[-1] if goal.reviews else None
    said = "" if latest is None else latest.status
    if latest is not None and latest.gas is not None:
        said = f"GAS {level_text(latest.gas)}"
    reviewed = f"; reviewed {fmt_date(latest.date)}: {said}" if latest else ""
    target = f", target {fmt_date(goal.target)}" if goal.target else ""
    return f"#{goal.id} {one_line(goal.text)}{target}{reviewed}"


def _gas_line(score: float) -> str:
    return f"T-score {shown_t(score):.1f} (50 = goals reached as expected)"


def _task_line(task: TaskRecord) -> str:
    latest = max(task.reviews, key=lambda r: r.date) if task.reviews else None
    due = f", due {fmt_date(task.due)}" if task.due else ""
    done = f"; last {latest.adherence} {fmt_date(latest.date)}" if latest else ""
    return f"#{task.id} {one_line(task.text)}{due}{done}"


def _focus_text(number: int, point: FocusPoint) -> tuple[str, list[str]]:
    """A point and its first suggestions (JSON and Markdown give them all)."""
    head = f"{number}. {point.dimension} ({point.severity}): {one_line(point.reason)}"
    return head, [f"- {text}" for text in point.suggestions[:TEXT_SUGGESTIONS]]


def brief_lines(brief: Brief, width: int = 80) -> list[str]:
    """The text brief, folded to `width` at spaces (codes, dates and scores kept whole)."""
    p = brief.profile
    pad = " " * LABEL
    lines = wrap(
        f"Before the next session with {one_line(p.code)} ({p.instrument}, "
        f"{brief.session_count} sessions, trend: {brief.trend})",
        width,
    )

    def section(label: str, items: Sequence[str], empty: str = "none") -> None:
        rows = list(items) or [empty]
        for index, row in enumerate(rows):
            lines.extend(wrap(row, width, (label.ljust(LABEL) if index == 0 else pad), pad + "  "))

    section("About", [_profile_text(brief)])
    section("Last", _last_lines(brief))
    section(
        "Flags",
        [
            f"{e.severity} {fmt_date(e.date)} {keep_numbers_named(one_line(e.text))}"
            for e in brief.events
        ],
    )
    if brief.repairs:  # the latest attempt and how it went so far
        section("Repair", [_repair_line(brief.repairs[-1])])
    section("Goals", [_goal_line(g) for g in brief.goals], "no active goals")
    if brief.gas_t is not None:
        section("GAS", [_gas_line(brief.gas_t)])
    section("Tasks", [_task_line(t) for t in brief.tasks], "no open tasks")
    if brief.note is not None:
        section("Note", [f"{fmt_date(brief.note[0])}: {one_line(brief.note[1])}"])
    if not brief.focus:
        section("Focus", ["no flags: keep checking in on bond, goals and tasks"])
        return lines
    lines.append("Focus (suggestions only: you decide)")
    for number, point in enumerate(brief.focus, 1):
        head, tips = _focus_text(number, point)
        lines.extend(wrap(head, width, "", "   "))
        for tip in tips:
            lines.extend(wrap(tip, width, "   ", "     "))
    return lines


def brief_dict(brief: Brief) -> dict[str, Any]:
    from alliance_cli.render.repairs import repair_dict
    from alliance_cli.render.views import profile_dict

    return {
        "patient": brief.profile.code,
        "profile": profile_dict(brief.profile),
        "last": [
            {
                "rater": r.rater,
                "date": r.date.isoformat(),
                "instrument": r.instrument,
                "scores": r.scores,
                "changes": r.changes,
                "since": fmt_date(r.since) or None,
            }
            for r in brief.last
        ],
        "trend": brief.trend,
        "flags": [flag_dict(f) for f in brief.flags],
        "repairs": [repair_dict(r) for r in brief.repairs],
        "goals": [goal_dict(g) for g in brief.goals],
        "tasks": [task_dict(t) for t in brief.tasks],
        "note": None
        if brief.note is None
        else {"date": brief.note[0].isoformat(), "text": brief.note[1]},
        "focus": [
            {
                "dimension": f.dimension,
                "severity": f.severity,
                "kind": f.kind,
                "reason": f.reason,
                "suggestions": list(f.suggestions),
                "sources": list(f.sources),
            }
            for f in brief.focus
        ],
        "gas_t": None if brief.gas_t is None else shown_t(brief.gas_t),
    }


def _markdown(brief: Brief) -> list[str]:
    md = escape_markdown
    code = md(brief.profile.code)
    lines = [f"# Before the next session with {code}", ""]
    lines += [f"*{md(brief.profile.instrument)}, {brief.session_count} sessions, "]
    lines[-1] += f"trend: {brief.trend}*"
    lines += ["", f"**About:** {md(_profile_text(brief))}", "", "## Last ratings", ""]
    lines += [f"- {md(line.replace(GLUE, ' '))}" for line in _last_lines(brief)]
    lines += ["", "## Flags", ""]
    lines += [f"- **{e.severity}** {fmt_date(e.date)}: {md(e.text)}" for e in brief.events] or [
        "- none"
    ]
    lines += ["", "## Goals", ""]
    lines += [f"- {md(_goal_line(g))}" for g in brief.goals] or ["- no active goals"]
    if brief.gas_t is not None:
        lines += ["", f"**GAS:** {md(_gas_line(brief.gas_t))}"]
    lines += ["", "## Tasks", ""]
    lines += [f"- {md(_task_line(t))}" for t in brief.tasks] or ["- no open tasks"]
    if brief.note is not None:
        lines += ["", f"**Last note ({fmt_date(brief.note[0])}):** {md(brief.note[1])}"]
    lines += ["", "## Focus", "", "Suggestions only: you decide.", ""]
    if not brief.focus:
        lines.append("No flags: keep checking in on bond, goals and tasks.")
    for number, point in enumerate(brief.focus, 1):
        lines.append(f"{number}. **{point.dimension}** ({point.severity}): {md(point.reason)}")
        lines += [f"   - {md(tip)}" for tip in point.suggestions]
        lines.append(f"   - *Sources: {md('; '.join(point.sources))}*")
    return lines


def show_brief(brief: Brief, fmt: str) -> None:
    if fmt == JSON:
        print_json(brief_dict(brief))
        return
    if fmt == MARKDOWN:
        for line in _markdown(brief):
            out(line)
        return
    for line in brief_lines(brief, output_width(sys.stdout)):
        out(line.replace(GLUE, " "))


def show_waiting(waiting: Sequence[Waiting], fmt: str) -> None:
    """`prep` without a code: one line per patient with an alert, worst first."""
    if fmt == JSON:
        print_json(
            [
                {
                    "patient": w.patient,
                    "alerts": w.alerts,
                    "date": w.event.date.isoformat(),
                    "kinds": list(w.event.kinds),
                    "command": f"alliance prep {w.patient}",
                }
                for w in waiting
            ]
        )
        return
    width = output_width(sys.stdout)
    for w in waiting:
        code = one_line(w.patient)
        kinds = ", ".join(w.event.kinds)
        text = f"{code}  {fmt_date(w.event.date)}  {kinds}  ->  alliance prep {code}"
        if fmt == MARKDOWN:
            out(f"- {escape_markdown(text)}")
            continue
        for line in wrap(text, width, "", "    "):
            out(line)
