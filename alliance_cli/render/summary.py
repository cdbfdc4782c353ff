"""The period summary as plain text, Markdown or JSON (cron-ready: no colour, ever)."""

from __future__ import annotations

from typing import Any

from alliance_cli.domain.flag_groups import FlagEvent, group_by_event
from alliance_cli.domain.flags import Flag
from alliance_cli.domain.gas import level_text
from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.repairs import outcome_counts
from alliance_cli.domain.summary import GoalEvent, Summary
from alliance_cli.domain.words import plural
from alliance_cli.render.formats import flag_dict, to_json
from alliance_cli.render.repairs import repair_dict
from alliance_cli.render.safe_text import escape_markdown as esc
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.values import fmt_change, fmt_date, fmt_score
from alliance_cli.render.wrap import DEFAULT_WIDTH, GLUE, MIN_WIDTH, keep_numbers_named, wrap


def summary_dict(summary: Summary) -> dict[str, Any]:
    return {
        "since": summary.period.since.isoformat(),
        "until": summary.period.until.isoformat(),
        "sessions_held": summary.sessions_held,
        "rating_sets": summary.rating_sets,
        "patients_seen": len(summary.patients),
        "alerts": summary.alerts,
        "still_open_alerts": summary.still_open_alerts,
        **(
            {
                "clinicians": [
                    {
                        "clinician": c.clinician,
                        "patients_seen": c.patients_seen,
                        "sessions": c.sessions,
                        "alerts": c.alerts,
                        "watch": c.watch,
                        "no_contact": c.no_contact,
                    }
                    for c in summary.clinicians
                ]
            }
            if summary.clinicians
            else {}
        ),
        "patients": [
            {
                "patient": p.patient,
                "sessions": p.sessions,
                "latest": {
                    "date": p.latest.date.isoformat(),
                    "rater": p.latest.rater,
                    "instrument": p.latest.instrument,
                    **{name: p.latest.score(name) for name in SCORES},
                },
                "change_since": None if p.baseline is None else p.baseline.date.isoformat(),
                "changes": p.changes,
            }
            for p in summary.patients
        ],
        "flags": [flag_dict(f) for f in summary.flags],
        "still_open": [flag_dict(f) for f in summary.still_open],
        "ruptures_repaired": [
            {**flag_dict(f), "repaired_on": fmt_date(f.repaired_on)} for f in summary.repaired
        ],
        "goals_reviewed": [
            {
                "patient": g.patient,
                "goal": g.goal,
                "date": g.date.isoformat(),
                "status": g.status,
                "note": g.note,
                "gas": g.gas,
                "gas_before": g.gas_before,
            }
            for g in summary.goal_events
        ],
        "discharged": summary.discharged,
        "task_adherence": {
            "reviews": summary.adherence,
            "share": {k: round(v, 3) for k, v in summary.adherence_share().items()},
        },
        "no_contact": [
            {"patient": n.patient, "last_session": fmt_date(n.last_session) or None, "days": n.days}
            for n in summary.no_contact
        ],
        "repairs": {
            "attempts": len(summary.repairs),
            "outcomes": outcome_counts(summary.repairs),
            "list": [repair_dict(r) for r in summary.repairs],
        },
    }


def discharged_line(summary: Summary) -> str | None:
    """`Discharged: 2 mutual, 1 dropout`; None when no one was discharged in the period."""
    parts = [f"{count} {ending}" for ending, count in summary.discharged.items() if count]
    return f"Discharged: {', '.join(parts)}" if parts else None


def _goal_event_word(event: GoalEvent) -> str:
    """`achieved`, `GAS +1` (a first rating), `GAS -1 -> +1` (a change)."""
    if event.gas is None:
        return event.status
    if event.gas_before is None:
        return f"GAS {level_text(event.gas)}"
    return f"GAS {level_text(event.gas_before)} -> {level_text(event.gas)}"


def _repairs_line(summary: Summary) -> list[_Paragraph]:
    """One line, when repairs were tried in the period: how many, and how they went."""
    if not summary.repairs:
        return []
    counts = outcome_counts(summary.repairs)
    parts = [f"{counts[k]} {k.replace('-', ' ')}" for k in counts if counts[k]]
    return [_head(f"Repair attempts: {len(summary.repairs)} ({', '.join(parts)})")]


def summary_json(summary: Summary) -> str:
    return to_json(summary_dict(summary))


def _percent(value: float) -> str:
    return f"{value * 100:.0f}{GLUE}%"


def _scores(summary: Summary) -> list[tuple[str, str, str, str]]:
    """Per patient seen: code, latest date and instrument, latest scores, change.

    A score keeps its name (`bond 9.0`) on one line when the text view wraps (`GLUE`);
    the Markdown view shows the glue as the space it stands for."""
    rows = []
    for p in summary.patients:
        latest = ", ".join(f"{n}{GLUE}{fmt_score(p.latest.score(n))}" for n in SCORES)
        change = ", ".join(f"{n}{GLUE}{fmt_change(p.changes[n])}" for n in SCORES)
        since = f"since{GLUE}{p.baseline.date.isoformat()}" if p.baseline else "first in period"
        rows.append(
            (
                one_line(p.patient),
                f"{p.latest.date.isoformat()}{GLUE}({one_line(p.latest.instrument)})",
                latest,
                f"{change} ({since})" if p.baseline else since,
            )
        )
    return rows


def _event_line(event: FlagEvent) -> str:
    """One event, one line: `ALERT R 2026-11-02 rupture: total 12.0 (...); low: ...`."""
    return (
        f"{event.severity.upper()} {one_line(event.patient)} {event.date.isoformat()} "
        f"{keep_numbers_named(one_line(event.text))}"
    )


def _event_items(flags: tuple[Flag, ...]) -> list[_Paragraph]:
    return [_item(_event_line(e)) for e in group_by_event(flags)]


def _alerts_line(summary: Summary) -> str:
    """Raised and still open side by side: "alerts: 0" alone would read as all clear."""
    return (
        f"Alerts: {summary.alerts} raised in the period, "
        f"{summary.still_open_alerts} still open from before"
    )


STILL_OPEN = "Still open from before the period"
NOTHING_OPEN = "nothing raised before the period is still open"

# A text paragraph: its words, the indent of its first line and of the lines it folds onto.
_Paragraph = tuple[str, str, str]
_ITEM, _MORE = "  ", "      "


def _head(text: str) -> _Paragraph:
    return (text, "", _ITEM)


def _item(text: str) -> _Paragraph:
    return (text, _ITEM, _MORE)


def summary_text(summary: Summary, width: int = DEFAULT_WIDTH) -> str:
    """The summary as plain text, every line folded at spaces to at most `width` columns
    (a code, date or score is never split); user text shown literally (`one_line`)."""
    p = summary.period
    paragraphs: list[_Paragraph] = [
        _head(
            f"Alliance summary {p.since.isoformat()} to {p.until.isoformat()} "
            f"({plural(p.days, 'day')})"
        ),
        _head(
            f"Sessions held: {summary.sessions_held} "
            f"({plural(summary.rating_sets, 'rating set')}); "
            f"patients seen: {len(summary.patients)}"
        ),
        _head(_alerts_line(summary)),
        *[_head(line) for line in [discharged_line(summary)] if line],
        _head(""),
        *_clinician_text(summary),
        _head("Flags raised (alerts first):" if summary.flags else "Flags raised: none"),
        *_event_items(summary.flags),
        _head(""),
        _head(f"{STILL_OPEN} (alerts first):" if summary.still_open else f"{STILL_OPEN}: none"),
        *_event_items(summary.still_open),
        _head(""),
        _head("Patients seen:" if summary.patients else "Patients seen: none"),
        *_patients_text(summary),
        _head(""),
        _head("Ruptures repaired:" if summary.repaired else "Ruptures repaired: none"),
        *(
            _item(
                f"{one_line(f.patient)} rupture of {f.date.isoformat()} "
                f"repaired on {fmt_date(f.repaired_on)}"
            )
            for f in summary.repaired
        ),
        *_repairs_line(summary),
        _head(""),
        _head(
            "Goals achieved or reviewed:"
            if summary.goal_events
            else "Goals achieved or reviewed: none"
        ),
        *(
            _item(
                f"{one_line(g.patient)} {g.date.isoformat()} "
                f"{_goal_event_word(g)}: {one_line(g.goal)}"
                + (f" ({one_line(g.note)})" if g.note else "")
            )
            for g in summary.goal_events
        ),
        _head(""),
        _head(_adherence_line(summary)),
        _head(""),
        _head(
            "Active patients with no contact in the period:"
            if summary.no_contact
            else "Active patients with no contact in the period: none"
        ),
        *(
            _item(
                f"{one_line(n.patient)}  last session {fmt_date(n.last_session) or 'never'}"
                + (f" ({plural(n.days, 'day')} ago)" if n.days is not None else "")
            )
            for n in summary.no_contact
        ),
    ]
    width = max(width, MIN_WIDTH)
    lines = [line for text, first, more in paragraphs for line in wrap(text, width, first, more)]
    return "\n".join(lines) + "\n"


def _patients_text(summary: Summary) -> list[_Paragraph]:
    """Two lines a patient: the latest scores, then the change (143 columns on one)."""
    return [
        paragraph
        for code, when, latest, change in _scores(summary)
        for paragraph in (
            _item(f"{code}  {when}  {latest}"),
            (f"change: {change}", _MORE, _MORE),
        )
    ]


def _adherence_line(summary: Summary) -> str:
    total = sum(summary.adherence.values())
    if not total:
        return "Task adherence: no task reviews in the period"
    share = summary.adherence_share()
    parts = ", ".join(f"{k} {_percent(share[k])} ({summary.adherence[k]})" for k in share)
    return f"Task adherence ({plural(total, 'review')}): {parts}"


def _clinician_text(summary: Summary) -> list[_Paragraph]:
    if not summary.clinicians:
        return []
    width = max(len(one_line(c.clinician)) for c in summary.clinicians)
    return [
        _head("By clinician (patients seen, sessions, alerts, watch, no contact):"),
        *(
            _item(
                f"{one_line(c.clinician):<{width}}  {c.patients_seen:>4}  {c.sessions:>4}  "
                f"{c.alerts:>4}  {c.watch:>4}  {c.no_contact:>4}"
            )
            for c in summary.clinicians
        ),
        _head(""),
    ]


def _flag_rows(flags: tuple[Flag, ...]) -> list[str]:
    """A Markdown table of flags, one row per event (nothing at all for none)."""
    if not flags:
        return []
    return [
        "| severity | patient | date | flags |",
        "|---|---|---|---|",
        *(
            f"| {e.severity} | {esc(e.patient)} | {e.date.isoformat()} | {esc(e.text)} |"
            for e in group_by_event(flags)
        ),
    ]


def summary_markdown(summary: Summary) -> str:
    p = summary.period
    out = [
        f"# Alliance summary {p.since.isoformat()} to {p.until.isoformat()}",
        "",
        f"- Sessions held: {summary.sessions_held} ({plural(summary.rating_sets, 'rating set')})",
        f"- Patients seen: {len(summary.patients)}",
        f"- {_alerts_line(summary)}",
        *[f"- {line}" for line in [discharged_line(summary)] if line],
        "",
        *(
            [
                "## By clinician",
                "",
                "| clinician | patients seen | sessions | alerts | watch | no contact |",
                "|---|---|---|---|---|---|",
                *(
                    f"| {esc(c.clinician)} | {c.patients_seen} | {c.sessions} | {c.alerts} "
                    f"| {c.watch} | {c.no_contact} |"
                    for c in summary.clinicians
                ),
                "",
            ]
            if summary.clinicians
            else []
        ),
        "## Flags raised",
        "",
    ]
    out += _flag_rows(summary.flags) or ["None."]
    out += ["", f"## {STILL_OPEN}", ""]
    out += _flag_rows(summary.still_open) or [f"None: {NOTHING_OPEN}."]
    out += ["", "## Patients seen", ""]
    if summary.patients:
        out += ["| patient | latest | scores | change |", "|---|---|---|---|"]
        out += [
            "| " + " | ".join(esc(cell.replace(GLUE, " ")) for cell in row) + " |"
            for row in _scores(summary)
        ]
    else:
        out.append("None.")
    out += ["", "## Ruptures repaired", ""]
    out += [
        f"- {esc(f.patient)}: rupture of {f.date.isoformat()} repaired on {fmt_date(f.repaired_on)}"
        for f in summary.repaired
    ] or ["None."]
    out += ["", "## Goals achieved or reviewed", ""]
    out += [
        f"- {esc(g.patient)}, {g.date.isoformat()}, {_goal_event_word(g)}: "
        f"{esc(g.goal)}" + (f" ({esc(g.note)})" if g.note else "")
        for g in summary.goal_events
    ] or ["None."]
    out += [
        "",
        "## Task adherence",
        "",
        esc(_adherence_line(summary).replace(GLUE, " ")),
        "",
        "## Active patients with no contact",
        "",
    ]
    out += [
        f"- {esc(n.patient)}: last session {fmt_date(n.last_session) or 'never'}"
        for n in summary.no_contact
    ] or ["None."]
    return "\n".join(out) + "\n"
