"""Reading one step ahead: the database works on the next chunk while Python handles this one.

A caseload-wide report spends about half its time inside SQLite (walking an index,
aggregating) and half in Python (parsing, scanning). SQLite releases the GIL while it
steps, so a second thread asking for chunk n+1 while the caller works on chunk n overlaps
the two halves on a second core.

The thread uses the caller's connection (the one snapshot of its read transaction), and
only while the caller is not using it: the caller consumes chunks and must not query the
same connection until the iteration has ended. Each chunk should come from one SQLite step
(an aggregate row): a step per row would hand the GIL back and forth a million times.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

DEPTH = 2  # chunks made ahead at most: bounds memory to a few chunks
# What alliance's SQLite connections are opened with (store/engine, store/cipher): one may
# serve this module's thread while its own thread waits; the pool never hands one
# connection to two threads at once.
CHECK_SAME_THREAD = False


@dataclass(frozen=True)
class _Ended:
    """The producer has stopped: after its last chunk (error None) or on an error."""

    error: BaseException | None = None


class _Slots(Generic[T]):
    """A bounded queue of chunks, then one `_Ended`."""

    def __init__(self) -> None:
        self.items: queue.Queue[T | _Ended] = queue.Queue(maxsize=DEPTH)
        self.stop = threading.Event()

    def produce(self, chunks: Iterator[T]) -> None:
        """The thread's work: every chunk, until the consumer asks it to stop."""
        ended = _Ended()
        try:
            for chunk in chunks:
                self.items.put(chunk)
                if self.stop.is_set():
                    break
        except BaseException as error:  # handed to the consumer, raised there
            ended = _Ended(error)
        finally:
            try:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            finally:
                self.items.put(ended)  # whatever happened: the consumer waits for it


def read_ahead(chunks: Iterator[T]) -> Generator[T, None, None]:
    """The chunks of `chunks`, made in a background thread up to DEPTH ahead.

    An error of the producer is raised here, in the caller's thread (where the
    transaction's error translation sees it). The caller must close this generator before
    its transaction ends (`contextlib.closing`) when it may stop early (an error, a
    break): the thread is then told to stop and joined before `close()` returns, so the
    connection is free again. It finishes at most the step it is in.
    """
    slots: _Slots[T] = _Slots()
    worker = threading.Thread(
        target=slots.produce, args=(chunks,), name="alliance-read-ahead", daemon=True
    )
    ended = False
    try:
        worker.start()
        while True:
            item = slots.items.get()
            if isinstance(item, _Ended):
                ended = True
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        if threading.current_thread() is worker:  # collected as garbage in its own thread
            slots.stop.set()
        elif worker.ident is not None:  # started
            _stop(slots, worker, drain=not ended)


def _stop(slots: _Slots[T], worker: threading.Thread, *, drain: bool) -> None:
    """Stop the producer and join it, even through a second Ctrl-C (raised once it has
    stopped: until then it may be using the caller's connection)."""
    interrupted: KeyboardInterrupt | None = None
    if drain:
        slots.stop.set()
        while True:
            try:
                if isinstance(slots.items.get(), _Ended):  # unblocks a waiting put
                    break
            except KeyboardInterrupt as again:
                interrupted = again
    while worker.is_alive():
        try:
            worker.join()
        except KeyboardInterrupt as again:
            interrupted = again
    if interrupted is not None:
        raise interrupted
