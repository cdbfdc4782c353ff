"""Flags that catch a weakening alliance, computed from a patient's history alone.

Pure functions over plain data: the same history always gives the same flags, whatever
order its rows arrive in. Each rater's ratings with one instrument form one series;
scores are never compared across instruments. Rules and defaults: README, "Flags";
the rules are in `flag_rules`, the one-pass scan in `flag_scan`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from operator import attrgetter

from alliance_cli.domain.flag_model import (
    KINDS,
    SEVERITIES,
    SEVERITY_RANK,
    Day,
    Flag,
    History,
    Rating,
)
from alliance_cli.domain.flag_scan import (
    LATEST,
    Materialise,
    PatientScan,
    Row,
    Selection,
    as_rating,
    period,
    scan_patient,
)
from alliance_cli.domain.rules import RuleSet

__all__ = [
    "KINDS",
    "SEVERITIES",
    "Day",
    "Flag",
    "History",
    "Rating",
    "current_flags",
    "filter_severity",
    "flags_of_session",
    "history_flags",
    "no_contact_flag",
    "period_flags",
    "select_current",
    "tasks_missed_flags",
]


def ordered(ratings: Iterable[Rating]) -> list[Rating]:
    """The scan's order: rater, then date (instrument breaks ties, for determinism)."""
    return sorted(ratings, key=attrgetter("rater", "date", "instrument"))


def tasks_missed_flags(history: History) -> list[Flag]:
    """Two `not-done` reviews in a row, by date.

    Reviews of several tasks on one date have no order, so a date counts as missed only
    when every review on it was `not-done`: a flag is raised on a date with two or more
    such reviews, or on one that follows a missed date.
    """
    by_date: dict[date, list[str]] = {}
    for when, adherence in history.reviews:
        by_date.setdefault(when, []).append(adherence)
    flags = []
    previous_missed = False
    for when in sorted(by_date):
        levels = by_date[when]
        missed = all(level == "not-done" for level in levels)
        if missed and (len(levels) >= 2 or previous_missed):
            flags.append(
                Flag(
                    patient=history.patient,
                    kind="tasks-missed",
                    severity="watch",
                    dimension=None,
                    date=when,
                    message="the last two task reviews were not done",
                )
            )
        previous_missed = missed
    return flags


def history_flags(history: History, rules: RuleSet) -> list[Flag]:
    """Every flag every session ever raised (no-contact excepted: it depends on today)."""
    scan = scan_patient(history.patient, ordered(history.ratings), rules, Selection())
    return sorted(set(scan.flags + tasks_missed_flags(history)), key=Flag.sort_key)


def period_flags(
    history: History,
    rules: RuleSet,
    since: date,
    until: date,
    rows: Sequence[Row] | None = None,
    materialise: Materialise = as_rating,
) -> list[Flag]:
    """Flags raised by sessions in the period, and ruptures repaired in it.

    `rows` (ordered by rater, date) stand in for `history.ratings` when streaming.
    """
    source = ordered(history.ratings) if rows is None else rows
    scan = scan_patient(history.patient, source, rules, period(since, until), materialise)
    flags = [
        f
        for f in scan.flags + tasks_missed_flags(history)
        if since <= f.date <= until
        or (f.repaired_on is not None and since <= f.repaired_on <= until)
    ]
    return sorted(set(flags), key=Flag.sort_key)


def no_contact_flag(history: History, rules: RuleSet, today: date) -> Flag | None:
    last = max((r.date for r in history.ratings), default=None)
    return _no_contact(history, last, rules, today)


def _no_contact(history: History, last: date | None, rules: RuleSet, today: date) -> Flag | None:
    if not history.active:
        return None
    reference = last or history.since
    if reference is None:
        return None
    days = (today - reference).days
    if days <= rules.general.no_contact_days:
        return None
    what = f"last session on {reference.isoformat()}" if last else "no session since start of care"
    return Flag(
        patient=history.patient,
        kind="no-contact",
        severity="watch",
        dimension=None,
        date=reference,
        message=f"no contact for {days} days ({what})",
    )


def select_current(history: History, scan: PatientScan, rules: RuleSet, today: date) -> list[Flag]:
    """What needs attention now, from a `latest` scan: each rater's latest session, open
    ruptures of the instrument in use, repairs of the last weeks, no contact, missed tasks.

    `history` gives the patient's reviews, status and start of care (its ratings are not
    read: the scan has seen them).
    """
    latest = scan.latest
    latest_date = max((r.date for r in latest.values()), default=None)
    repaired_since = today - timedelta(weeks=rules.general.repaired_visible_weeks)
    keep: set[Flag] = set()
    for flag in scan.flags:
        current = latest.get(flag.rater or "")
        if flag.kind == "rupture":
            in_use = current is not None and current.instrument == flag.instrument
            if (flag.repaired_on is None and in_use) or (
                flag.repaired_on is not None and flag.repaired_on >= repaired_since
            ):
                keep.add(flag)
        elif flag.kind == "discrepancy":
            if flag.date == latest_date:
                keep.add(flag)
        elif current is not None and current.date == flag.date:
            keep.add(flag)
    last_review = max((when for when, _ in history.reviews), default=None)
    keep.update(f for f in tasks_missed_flags(history) if f.date == last_review)
    contact = _no_contact(history, latest_date, rules, today)
    if contact is not None:
        keep.add(contact)
    return sorted(keep, key=Flag.sort_key)


def current_flags(history: History, rules: RuleSet, today: date) -> list[Flag]:
    """What needs attention now (see `select_current`), most severe first."""
    scan = scan_patient(history.patient, ordered(history.ratings), rules, Selection(LATEST))
    return select_current(history, scan, rules, today)


def flags_of_session(history: History, rules: RuleSet, when: date, rater: str) -> list[Flag]:
    """The flags one session raised (shown right after `session add`)."""
    scan = scan_patient(history.patient, ordered(history.ratings), rules, period(when, when))
    return sorted(
        {f for f in scan.flags if f.date == when and f.rater in (rater, "both")},
        key=Flag.sort_key,
    )


def filter_severity(flags: Iterable[Flag], severity: str | None) -> list[Flag]:
    """Flags at `severity` or more severe (alert > watch > info)."""
    if severity is None:
        return list(flags)
    limit = SEVERITY_RANK[severity]
    return [flag for flag in flags if SEVERITY_RANK[flag.severity] <= limit]
