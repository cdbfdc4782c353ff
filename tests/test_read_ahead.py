"""Reading one step ahead (store/read_ahead): chunks arrive in order, a producer's error is
raised in the caller's thread, and a caller that stops early leaves no thread behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from alliance_cli.store.read_ahead import DEPTH, read_ahead


class Producer:
    """Chunks 0..n-1 made in whatever thread iterates it, noting which and when it ended."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count = count
        self.fail_at = fail_at
        self.made: list[int] = []
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[int]:
        try:
            for n in range(self.count):
                self.threads.add(threading.current_thread().name)
                if n == self.fail_at:
                    raise OSError(f"chunk {n} failed")
                self.made.append(n)
                yield n
        finally:
            self.closed.set()


def test_chunks_arrive_in_order_made_in_another_thread() -> None:
    producer = Producer(50)
    assert list(read_ahead(iter(producer))) == list(range(50))
    assert producer.threads == {"alliance-read-ahead"}
    assert producer.closed.is_set()


def test_nothing_to_read() -> None:
    assert list(read_ahead(iter(Producer(0)))) == []


def test_a_producer_error_is_raised_in_the_caller_after_the_chunks_before_it() -> None:
    got = []
    with pytest.raises(OSError, match="chunk 3 failed"):
        for chunk in read_ahead(iter(Producer(10, fail_at=3))):
            got.append(chunk)
    assert got == [0, 1, 2]


def test_nothing_is_read_before_the_first_chunk_is_asked_for() -> None:
    producer = Producer(10)
    chunks = read_ahead(iter(producer))
    chunks.close()
    assert producer.made == [] and producer.threads == set()


@pytest.mark.parametrize("taken", [1, 2, 5])
def test_a_caller_that_stops_early_leaves_no_thread_and_few_chunks_made(taken: int) -> None:
    producer = Producer(10_000)
    before = set(threading.enumerate())
    chunks = read_ahead(iter(producer))
    got = [next(chunks) for _ in range(taken)]
    chunks.close()  # what a break or an error in the caller's loop does
    assert got == list(range(taken))
    assert producer.closed.is_set()  # the producer's own cleanup ran (its generator closed)
    assert set(threading.enumerate()) <= before  # its thread has ended
    # it stopped where it was: the chunks taken, those queued, the one being put, one more
    assert len(producer.made) <= taken + DEPTH + 2


def test_an_error_in_the_caller_stops_the_producer_too() -> None:
    producer = Producer(10_000)
    with pytest.raises(ZeroDivisionError):
        for chunk in read_ahead(iter(producer)):
            if chunk == 2:
                raise ZeroDivisionError
    assert producer.closed.is_set()
    assert len(producer.made) <= 3 + DEPTH + 2


def test_a_held_generator_whose_caller_failed_stops_its_thread_when_closed() -> None:
    """What a report does: the generator is bound to a name (a traceback would keep it
    alive) and closed by `contextlib.closing` before the transaction ends."""
    from contextlib import closing

    producer = Producer(10_000)
    before = set(threading.enumerate())
    chunks = read_ahead(iter(producer))
    with pytest.raises(ZeroDivisionError) as failure, closing(chunks):
        for chunk in chunks:
            if chunk == 2:
                raise ZeroDivisionError
    assert failure.value is not None  # the exception (and its frames) still held
    assert producer.closed.is_set() and set(threading.enumerate()) <= before
