"""The plotext internals alliance relies on, and nothing else.

- `import_plotext`: plotext imported without its documentation browser. plotext's
  package __init__ ends by building its interactive documentation browser
  (`plotext._doc.doc`: every docstring of the package, about 0.1 s, a third of its
  import). A chart never reads it, so while plotext is first imported that module is a
  stand-in.
- `unclipped`: plotext clips a plot's size to the terminal it runs in; a chart for a
  file or a pipe has its own width. Reads the private `terminal._limit` to restore it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

VERIFIED_WITH = "6.1"  # plotext major.minor whose layout this relies on
DOC_MODULE = "plotext._doc.doc"


def import_plotext() -> Any:
    """plotext, imported without building its documentation browser (start-up budget)."""
    if "plotext" in sys.modules:
        return sys.modules["plotext"]
    stand_in = ModuleType(DOC_MODULE, "plotext.doc is not loaded by alliance")
    stand_in.docs = None  # type: ignore[attr-defined]
    sys.modules[DOC_MODULE] = stand_in
    try:
        import plotext
    finally:
        # Whoever imports the real module later gets it, not the stand-in.
        if sys.modules.get(DOC_MODULE) is stand_in:
            del sys.modules[DOC_MODULE]
    return plotext


@contextmanager
def unclipped(plt: Any) -> Iterator[None]:
    """Draw at any size (not clipped to this terminal); the terminal limit comes back after."""
    limits = list(plt.terminal._limit)
    plt.terminal.limit(False, False)
    try:
        yield
    finally:
        plt.terminal.limit(*limits)
