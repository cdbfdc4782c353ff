"""Progress for long work: a Rich bar on stderr when it is a terminal, nothing otherwise.

Services take plain callbacks (`started(total)`, `advance(steps)`) and never know how,
or whether, progress is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alliance_cli.render.console import rich_console, wants_rich


class Tracker:
    """Callbacks for a service; they draw a bar only when one was opened."""

    def __init__(self, bar: Any = None, task: Any = None) -> None:
        self._bar = bar
        self._task = task

    def started(self, total: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=total)

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, steps)


@contextmanager
def progress(description: str) -> Iterator[Tracker]:
    """A transient progress bar on a terminal; silent callbacks elsewhere."""
    if not wants_rich(sys.stderr):
        yield Tracker()
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=rich_console(sys.stderr), transient=True) as bar:
        yield Tracker(bar, bar.add_task(description, total=None))
