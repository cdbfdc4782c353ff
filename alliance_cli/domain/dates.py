"""Dates as clinicians type them: `today`, `yesterday` or ISO `YYYY-MM-DD`."""

from __future__ import annotations

from datetime import date, timedelta

from alliance_cli.errors import InvalidInput


def parse_date(text: str, today: date, *, what: str = "date") -> date:
    """Read `today`, `yesterday` or `YYYY-MM-DD`; anything else is an InvalidInput."""
    value = text.strip().lower()
    if value == "today":
        return today
    if value == "yesterday" and today > date.min:
        return today - timedelta(days=1)
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{what} {text!r} is not a date", "use YYYY-MM-DD, 'today' or 'yesterday'"
        ) from None


def check_session_date(when: date, today: date, care_since: date | None) -> None:
    """A session cannot lie in the future, nor before the start of care."""
    if when > today:
        raise InvalidInput(
            f"session date {when.isoformat()} is in the future",
            "record sessions once they have happened",
        )
    if care_since is not None and when < care_since:
        raise InvalidInput(
            f"session date {when.isoformat()} is before the start of care "
            f"({care_since.isoformat()})",
            "fix the date, or change --since with `alliance patient edit`",
        )


def check_not_future(when: date, today: date, *, what: str) -> None:
    if when > today:
        raise InvalidInput(f"{what} {when.isoformat()} is in the future")


def check_care_date(when: date, today: date, care_since: date | None, *, what: str) -> None:
    """A goal or task date (set, reviewed, closed) follows the rules of session dates:
    backfilled, it cannot lie in the future nor before the start of care."""
    if when > today:
        raise InvalidInput(
            f"{what} {when.isoformat()} is in the future", "record it once it has happened"
        )
    if care_since is not None and when < care_since:
        raise InvalidInput(
            f"{what} {when.isoformat()} is before the start of care ({care_since.isoformat()})",
            "fix the date, or change --since with `alliance patient edit`",
        )
