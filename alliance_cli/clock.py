"""The one clock: what "today" is for every command.

Everything that needs the local date asks `today()` here (looked up at call time, as
`clock.today()`), so a test can fix the day in one place and a report can be run as of
a past day without touching the system clock.
"""

from __future__ import annotations

from datetime import date


def today() -> date:
    """The local calendar day (dates typed by users mean local days)."""
    return date.today()
