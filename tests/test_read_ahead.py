"""`core.read_ahead`: the items in order, produced on another thread, at most `depth` ahead;
errors raised in their place; a consumer that stops stops the producer. The same of
`mapped_ahead`, a function of each item on several threads."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.read_ahead import mapped_ahead, read_ahead


class Produced:
    """An iterable of 0 … n−1 that records how far it was produced and on which thread."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.produced = 0
        self.threads: set[str] = set()

    def __iter__(self):
        for i in range(self.n):
            self.threads.add(threading.current_thread().name)
            if i == self.fail_at:
                raise RuntimeError(f"item {i} failed")
            self.produced += 1
            yield i


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 40), depth=st.integers(1, 5), fail_at=st.none() | st.integers(0, 40))
def test_items_come_in_order_and_an_error_in_its_place(n, depth, fail_at):
    items = Produced(n, fail_at)
    taken = []
    if fail_at is not None and fail_at < n:
        with pytest.raises(RuntimeError, match=f"item {fail_at} failed"):
            for i in read_ahead(items, depth):
                taken.append(i)
        assert taken == list(range(fail_at))  # every item before the error, none after it
    else:
        taken = list(read_ahead(items, depth))
        assert taken == list(range(n))
    assert items.threads <= {"imw-read-ahead"}  # produced on the background thread only


def wait_until(condition, seconds: float = 5.0) -> None:
    pause = threading.Event()
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        pause.wait(0.01)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_at_most_depth_items_wait_beside_the_one_taken(depth):
    items = Produced(20)
    consumer = read_ahead(items, depth)
    assert next(consumer) == 0
    # the consumer holds item 0 and the producer goes on until `depth` items wait: 0 … depth
    wait_until(lambda: items.produced >= depth + 1)
    threading.Event().wait(0.1)  # time to go further, if it wrongly would
    assert items.produced == depth + 1
    assert next(consumer) == 1  # taking one lets it produce one more
    wait_until(lambda: items.produced >= depth + 2)
    threading.Event().wait(0.1)
    assert items.produced == depth + 2
    consumer.close()


def test_a_consumer_that_stops_stops_the_producer():
    items = Produced(1_000)
    consumer = read_ahead(items, 1)
    assert [next(consumer), next(consumer)] == [0, 1]
    consumer.close()  # joins the thread
    produced = items.produced
    assert produced <= 3  # items 0 and 1 taken, at most one waiting
    assert not any(t.name == "imw-read-ahead" for t in threading.enumerate())
    assert items.produced == produced  # nothing more after close


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth must be at least 1"):
        list(read_ahead([1], 0))


class Mapped:
    """A function of an item that records the items begun and ended and the threads, and fails
    for `fail_at`; it waits for `gate` (when given) before it ends."""

    def __init__(
        self, fail_at: int | None = None, gate: threading.Event | None = None, wait_from: int = 0
    ) -> None:
        self.fail_at, self.gate, self.wait_from = fail_at, gate, wait_from
        self.begun: list[int] = []
        self.ended: list[int] = []
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, i: int) -> int:
        with self.lock:
            self.begun.append(i)
            self.threads.add(threading.current_thread().name)
        if self.gate is not None and i >= self.wait_from:
            self.gate.wait(5)
        if i == self.fail_at:
            raise RuntimeError(f"item {i} failed")
        with self.lock:
            self.ended.append(i)
        return i * i


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    threads=st.integers(1, 3),
    ahead=st.integers(1, 6),
    fail_at=st.none() | st.integers(0, 40),
)
def test_mapped_results_come_in_order_and_an_error_in_its_place(n, threads, ahead, fail_at):
    function = Mapped(fail_at)
    taken = []
    if fail_at is not None and fail_at < n:
        with pytest.raises(RuntimeError, match=f"item {fail_at} failed"):
            for r in mapped_ahead(function, range(n), threads, ahead, name="t-map"):
                taken.append(r)
        assert taken == [i * i for i in range(fail_at)]  # every result before the error
    else:
        taken = list(mapped_ahead(function, range(n), threads, ahead, name="t-map"))
        assert taken == [i * i for i in range(n)]
    # computed on the pool's threads only, never more than `threads` of them
    assert {t.rsplit("_", 1)[0] for t in function.threads} <= {"t-map"}
    assert len(function.threads) <= threads


def test_at_most_ahead_items_are_begun_beside_the_one_taken():
    gate = threading.Event()
    function = Mapped(gate=gate)
    results = mapped_ahead(function, range(20), 2, 3)
    gate.set()
    assert next(results) == 0
    # item 0 taken; items 1, 2 and 3 submitted (3 ahead), nothing beyond
    wait_until(lambda: len(function.ended) >= 4)
    threading.Event().wait(0.1)  # time to go further, if it wrongly would
    assert sorted(function.begun) == [0, 1, 2, 3]
    assert next(results) == 1  # taking one submits one more: item 4
    wait_until(lambda: len(function.ended) >= 5)
    threading.Event().wait(0.1)
    assert sorted(function.begun) == [0, 1, 2, 3, 4]
    results.close()


def test_a_consumer_that_stops_mapped_results_cancels_and_waits():
    gate = threading.Event()
    function = Mapped(gate=gate, wait_from=1)  # item 0 ends at once, the others wait for the gate
    results = mapped_ahead(function, range(100), 2, 4, name="t-stop")
    assert next(results) == 0
    # the two threads hold items 1 and 2; items 3 and 4 wait in the pool's queue
    wait_until(lambda: len(function.begun) >= 3)
    threading.Timer(0.2, gate.set).start()
    results.close()  # cancels items 3 and 4, waits for 1 and 2
    assert sorted(function.begun) == sorted(function.ended) == [0, 1, 2]
    assert not any(t.name.startswith("t-stop") for t in threading.enumerate())
    threading.Event().wait(0.1)
    assert sorted(function.begun) == [0, 1, 2]  # nothing begun after close


def test_read_ahead_closes_a_generator_it_stops_reading():
    """The ingest reads its files through `mapped_ahead` inside the generator `read_ahead`
    drives: a consumer that stops must end those reads too, not leave them to the collector."""
    ended = threading.Event()

    def chunks():
        try:
            yield from range(100)
        finally:
            ended.set()

    consumer = read_ahead(chunks(), 1)
    assert next(consumer) == 0
    consumer.close()  # joins the thread, which closed the generator first
    assert ended.is_set()


@pytest.mark.parametrize(("threads", "ahead"), [(0, 1), (1, 0)])
def test_mapped_threads_and_ahead_must_be_positive(threads, ahead):
    with pytest.raises(ValueError, match="threads and ahead must be at least 1"):
        list(mapped_ahead(abs, [1], threads, ahead))
