"""Flags that catch a weakening alliance, computed from a patient's history alone.

Pure functions over plain data: the same history always gives the same flags, whatever
order its rows arrive in. Each rater's ratings with one instrument form one series;
scores are never compared across instruments. Rules and defaults: README, "Flags";
the rules are in `flag_rules`, the one-pass scan in `flag_scan`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from operator import attrgetter, itemgetter
from typing import Any

from alliance_cli.domain.flag_model import (
    KINDS,
    SEVERITIES,
    SEVERITY_RANK,
    Day,
    Flag,
    History,
    Rating,
)
from alliance_cli.domain.flag_rules import reported_rupture_flags
from alliance_cli.domain.flag_scan import (
    LATEST,
    Materialise,
    PatientScan,
    Row,
    Selection,
    as_rating,
    iso_date,
    period,
    scan_patient,
)
from alliance_cli.domain.rules import RuleSet
from alliance_cli.domain.vocabulary import (
    BOTH,
    Adherence,
    FlagKind,
    PatientStatus,
    Rater,
    Severity,
)
from alliance_cli.domain.words import plural

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
    "in_care",
    "no_contact_flag",
    "period_flags",
    "period_scan",
    "raised_in_period",
    "reported_flags",
    "rows_up_to",
    "select_current",
    "still_open",
    "tasks_missed_flags",
    "up_to",
]


def up_to(history: History, day: date) -> History:
    """The history as it stood at the end of `day`: later ratings and reviews left out, so
    a report as of a past day never sees what happened after it."""
    ratings = tuple(r for r in history.ratings if r.date <= day)
    reviews = tuple(r for r in history.reviews if r[0] <= day)
    reports = tuple(r for r in history.reports if r[0] <= day)
    if (len(ratings), len(reviews), len(reports)) == (
        len(history.ratings),
        len(history.reviews),
        len(history.reports),
    ):
        return history
    return replace(history, ratings=ratings, reviews=reviews, reports=reports)


def rows_up_to(rows: Sequence[Row], day: date) -> Sequence[Row]:
    """`up_to` for rows ordered by rater, then date (dates as dates, or ISO text straight
    from SQLite). Usually nothing is later: each rater's last row tells, and the rows are
    returned as they are, without copying a caseload's million rows. Otherwise ISO text
    is parsed, so a damaged date fails (ValueError) instead of being left out unseen."""
    if not rows:
        return rows
    text = not isinstance(rows[0][0], date)
    bound: Any = day.isoformat() if text else day
    start = 0
    while start < len(rows):
        end = bisect.bisect_right(rows, rows[start][1], lo=start, key=itemgetter(1))
        if rows[end - 1][0] > bound:
            if text:
                return [r for r in rows if iso_date(r[0]) <= day]
            return [r for r in rows if r[0] <= day]
        start = end
    return rows


def in_care(status: str, since: date | None, discharged_on: date | None, day: date) -> bool:
    """Whether a patient was in care at the end of `day`: care had started (when its start
    is known) and the patient is active now or was discharged after that day. A
    reactivated patient counts as in care throughout: the earlier discharge is not kept."""
    if since is not None and since > day:
        return False
    return status == PatientStatus.ACTIVE or (discharged_on is not None and discharged_on > day)


def ordered(ratings: Iterable[Rating]) -> list[Rating]:
    """The scan's order: rater, then date (instrument breaks ties, for determinism)."""
    return sorted(ratings, key=attrgetter("rater", "date", "instrument"))


def tasks_missed_flags(history: History) -> list[Flag]:
    """Two `not-done` reviews in a row, by date.

    Reviews of several tasks on one date have no order, so a date counts as missed only
    when every review on it was `not-done`: a flag is raised on a date with two or more
    such reviews, or on one that follows a missed date.
    """
    by_date: dict[date, list[Adherence]] = {}
    for when, adherence in history.reviews:
        by_date.setdefault(when, []).append(adherence)
    flags = []
    previous_missed = False
    for when in sorted(by_date):
        levels = by_date[when]
        missed = all(level == Adherence.NOT_DONE for level in levels)
        if missed and (len(levels) >= 2 or previous_missed):
            flags.append(
                Flag(
                    patient=history.patient,
                    kind=FlagKind.TASKS_MISSED,
                    severity=Severity.WATCH,
                    dimension=None,
                    date=when,
                    message="the last two task reviews were not done",
                )
            )
        previous_missed = missed
    return flags


def reported_flags(history: History) -> list[Flag]:
    """Flags of what the patient said, not scored: missed tasks, reported ruptures."""
    return tasks_missed_flags(history) + reported_rupture_flags(history.patient, history.reports)


def history_flags(history: History, rules: RuleSet) -> list[Flag]:
    """Every flag every session ever raised (no-contact excepted: it depends on today)."""
    scan = scan_patient(history.patient, ordered(history.ratings), rules, Selection())
    return sorted(set(scan.flags + reported_flags(history)), key=Flag.sort_key)


def period_scan(
    history: History,
    rules: RuleSet,
    since: date,
    until: date,
    rows: Sequence[Row],
    materialise: Materialise = as_rating,
) -> PatientScan:
    """One scan for a period report: the sessions in the period, and each series' last
    session before it (for `still_open`). `rows` must hold nothing dated after `until`
    (`rows_up_to`): a report only knows what had happened by the end of its period."""
    selection = period(since, until, last=True)
    return scan_patient(history.patient, rows, rules, selection, materialise)


def raised_in_period(history: History, scan: PatientScan, since: date, until: date) -> list[Flag]:
    """From a period scan: flags raised by sessions in the period, ruptures repaired in it."""
    flags = [
        f
        for f in scan.flags + reported_flags(history)
        if since <= f.date <= until
        or (f.repaired_on is not None and since <= f.repaired_on <= until)
    ]
    return sorted(set(flags), key=Flag.sort_key)


def period_flags(
    history: History,
    rules: RuleSet,
    since: date,
    until: date,
    rows: Sequence[Row] | None = None,
    materialise: Materialise = as_rating,
) -> list[Flag]:
    """Flags raised by sessions in the period, and ruptures repaired in it, from what had
    happened by its end (a rupture repaired after the period is still an alert in it).

    `rows` (ordered by rater, date) stand in for `history.ratings` when streaming.
    """
    history = up_to(history, until)
    source = ordered(history.ratings) if rows is None else rows_up_to(rows, until)
    scan = period_scan(history, rules, since, until, source, materialise)
    return raised_in_period(history, scan, since, until)


def still_open(
    history: History, scan: PatientScan, rules: RuleSet, since: date, until: date
) -> list[Flag]:
    """Alerts and watch flags raised before the period and still current at its end (an
    unrepaired rupture of weeks ago, a patient last seen below the cut-off), from a
    `period_scan` of a history up to `until`: what `current_flags` would have shown on
    `until`, less what the period raised itself. `no-contact` is left out: a summary lists
    patients with no contact in a section of its own."""
    if not history.active:
        return []
    return [
        f
        for f in select_current(history, scan, rules, until)
        if f.severity != Severity.INFO and f.kind != FlagKind.NO_CONTACT and f.date < since
    ]


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
        kind=FlagKind.NO_CONTACT,
        severity=Severity.WATCH,
        dimension=None,
        date=reference,
        message=f"no contact for {plural(days, 'day')} ({what})",
    )


def select_current(history: History, scan: PatientScan, rules: RuleSet, today: date) -> list[Flag]:
    """What needs attention now, from a `latest` scan (or a `period_scan`): each rater's
    latest session, open ruptures of the instrument in use, repairs of the last weeks, no
    contact, missed tasks.

    `history` gives the patient's reviews, reported ruptures, status and start of care
    (its ratings are not read: the scan has seen them).
    """
    latest = scan.latest
    latest_date = max((r.date for r in latest.values()), default=None)
    repaired_since = today - timedelta(weeks=rules.general.repaired_visible_weeks)
    keep: set[Flag] = set()
    for flag in scan.flags:
        current = latest.get(flag.rater or "")
        if flag.kind == FlagKind.RUPTURE:
            in_use = current is not None and current.instrument == flag.instrument
            if (flag.repaired_on is None and in_use) or (
                flag.repaired_on is not None and flag.repaired_on >= repaired_since
            ):
                keep.add(flag)
        elif flag.rater == BOTH:  # discrepancy: current while its date is the latest
            if flag.date == latest_date:
                keep.add(flag)
        elif current is not None and current.date == flag.date:
            keep.add(flag)
    last_review = max((when for when, _ in history.reviews), default=None)
    keep.update(f for f in tasks_missed_flags(history) if f.date == last_review)
    for flag in reported_rupture_flags(history.patient, history.reports):
        session = latest.get(flag.rater or "")
        shown = latest_date if flag.rater == BOTH else (session.date if session else None)
        if flag.date == shown:  # a reported rupture is current while its session is
            keep.add(flag)
    contact = _no_contact(history, latest_date, rules, today)
    if contact is not None:
        keep.add(contact)
    return sorted(keep, key=Flag.sort_key)


def current_flags(history: History, rules: RuleSet, today: date) -> list[Flag]:
    """What needs attention on `today` (see `select_current`), most severe first, from
    what had happened by then."""
    history = up_to(history, today)
    scan = scan_patient(history.patient, ordered(history.ratings), rules, Selection(LATEST))
    return select_current(history, scan, rules, today)


def flags_of_session(history: History, rules: RuleSet, when: date, rater: Rater) -> list[Flag]:
    """The flags one session raised (shown right after `session add`)."""
    scan = scan_patient(history.patient, ordered(history.ratings), rules, period(when, when))
    reported = reported_rupture_flags(history.patient, history.reports)
    return sorted(
        {f for f in scan.flags + reported if f.date == when and f.rater in (rater, BOTH)},
        key=Flag.sort_key,
    )


def filter_severity(flags: Iterable[Flag], severity: Severity | None) -> list[Flag]:
    """Flags at `severity` or more severe (alert > watch > info)."""
    if severity is None:
        return list(flags)
    limit = SEVERITY_RANK[severity]
    return [flag for flag in flags if SEVERITY_RANK[flag.severity] <= limit]
