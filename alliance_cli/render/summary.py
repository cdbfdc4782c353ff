"""The period summary as plain text, Markdown or JSON (cron-ready: no colour, ever)."""

from __future__ import annotations

from typing import Any

from alliance_cli.domain.flags import Flag
from alliance_cli.domain.instruments import SCORES
from alliance_cli.domain.summary import Summary
from alliance_cli.render.formats import flag_dict, to_json
from alliance_cli.render.safe_text import one_line
from alliance_cli.render.values import fmt_change, fmt_date, fmt_score


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
            }
            for g in summary.goal_events
        ],
        "task_adherence": {
            "reviews": summary.adherence,
            "share": {k: round(v, 3) for k, v in summary.adherence_share().items()},
        },
        "no_contact": [
            {"patient": n.patient, "last_session": fmt_date(n.last_session) or None, "days": n.days}
            for n in summary.no_contact
        ],
    }


def summary_json(summary: Summary) -> str:
    return to_json(summary_dict(summary))


def _percent(value: float) -> str:
    return f"{value * 100:.0f} %"


def _scores(summary: Summary) -> list[tuple[str, str, str, str]]:
    rows = []
    for p in summary.patients:
        latest = ", ".join(f"{n} {fmt_score(p.latest.score(n))}" for n in SCORES)
        change = ", ".join(f"{n} {fmt_change(p.changes[n])}" for n in SCORES)
        since = f"since {p.baseline.date.isoformat()}" if p.baseline else "first in period"
        rows.append(
            (
                p.patient,
                f"{p.latest.date.isoformat()} ({p.latest.instrument})",
                latest,
                f"{change} ({since})" if p.baseline else since,
            )
        )
    return rows


def _flag_line(flag: Flag) -> str:
    dimension = f" {flag.dimension}" if flag.dimension else ""
    when = flag.date.isoformat()
    return f"{flag.severity.upper()} {flag.patient} {flag.kind}{dimension} {when}: {flag.message}"


def _alerts_line(summary: Summary) -> str:
    """Raised and still open side by side: "alerts: 0" alone would read as all clear."""
    return (
        f"Alerts: {summary.alerts} raised in the period, "
        f"{summary.still_open_alerts} still open from before"
    )


STILL_OPEN = "Still open from before the period"
NOTHING_OPEN = "nothing raised before the period is still open"


def summary_text(summary: Summary) -> str:
    p = summary.period
    lines = [
        f"Alliance summary {p.since.isoformat()} to {p.until.isoformat()} ({p.days} days)",
        f"Sessions held: {summary.sessions_held} ({summary.rating_sets} rating sets); "
        f"patients seen: {len(summary.patients)}",
        _alerts_line(summary),
        "",
        *_clinician_text(summary),
        "Flags raised (alerts first):" if summary.flags else "Flags raised: none",
        *(f"  {_flag_line(f)}" for f in summary.flags),
        "",
        f"{STILL_OPEN} (alerts first):" if summary.still_open else f"{STILL_OPEN}: none",
        *(f"  {_flag_line(f)}" for f in summary.still_open),
        "",
        "Patients seen:" if summary.patients else "Patients seen: none",
        *(
            f"  {code}  {when}  {latest}  change: {change}"
            for code, when, latest, change in _scores(summary)
        ),
        "",
        "Ruptures repaired:" if summary.repaired else "Ruptures repaired: none",
        *(
            f"  {f.patient} rupture of {f.date.isoformat()} repaired on {fmt_date(f.repaired_on)}"
            for f in summary.repaired
        ),
        "",
        "Goals achieved or reviewed:"
        if summary.goal_events
        else "Goals achieved or reviewed: none",
        *(
            f"  {g.patient} {g.date.isoformat()} {g.status}: {g.goal}"
            + (f" ({g.note})" if g.note else "")
            for g in summary.goal_events
        ),
        "",
        _adherence_line(summary),
        "",
        "Active patients with no contact in the period:"
        if summary.no_contact
        else "Active patients with no contact in the period: none",
        *(
            f"  {n.patient}  last session {fmt_date(n.last_session) or 'never'}"
            + (f" ({n.days} days ago)" if n.days is not None else "")
            for n in summary.no_contact
        ),
    ]
    return "\n".join(one_line(line) for line in lines) + "\n"


def _adherence_line(summary: Summary) -> str:
    total = sum(summary.adherence.values())
    if not total:
        return "Task adherence: no task reviews in the period"
    share = summary.adherence_share()
    parts = ", ".join(f"{k} {_percent(share[k])} ({summary.adherence[k]})" for k in share)
    return f"Task adherence ({total} reviews): {parts}"


def _clinician_text(summary: Summary) -> list[str]:
    if not summary.clinicians:
        return []
    width = max(len(c.clinician) for c in summary.clinicians)
    return [
        "By clinician (patients seen, sessions, alerts, watch, no contact):",
        *(
            f"  {c.clinician:<{width}}  {c.patients_seen:>4}  {c.sessions:>4}  "
            f"{c.alerts:>4}  {c.watch:>4}  {c.no_contact:>4}"
            for c in summary.clinicians
        ),
        "",
    ]


def _flag_rows(flags: tuple[Flag, ...]) -> list[str]:
    """A Markdown table of flags (nothing at all for none)."""
    from alliance_cli.render.markdown import escape_markdown as esc

    if not flags:
        return []
    return [
        "| severity | patient | kind | dimension | date | message |",
        "|---|---|---|---|---|---|",
        *(
            f"| {f.severity} | {esc(f.patient)} | {f.kind} | {f.dimension or ''} | "
            f"{f.date.isoformat()} | {esc(f.message)} |"
            for f in flags
        ),
    ]


def summary_markdown(summary: Summary) -> str:
    from alliance_cli.render.markdown import escape_markdown as esc

    p = summary.period
    out = [
        f"# Alliance summary {p.since.isoformat()} to {p.until.isoformat()}",
        "",
        f"- Sessions held: {summary.sessions_held} ({summary.rating_sets} rating sets)",
        f"- Patients seen: {len(summary.patients)}",
        f"- {_alerts_line(summary)}",
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
            f"| {esc(code)} | {when} | {latest} | {esc(change)} |"
            for code, when, latest, change in _scores(summary)
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
        f"- {esc(g.patient)}, {g.date.isoformat()}, {g.status}: {esc(g.goal)}"
        + (f" ({esc(g.note)})" if g.note else "")
        for g in summary.goal_events
    ] or ["None."]
    out += [
        "",
        "## Task adherence",
        "",
        esc(_adherence_line(summary)),
        "",
        "## Active patients with no contact",
        "",
    ]
    out += [
        f"- {esc(n.patient)}: last session {fmt_date(n.last_session) or 'never'}"
        for n in summary.no_contact
    ] or ["None."]
    return "\n".join(out) + "\n"
