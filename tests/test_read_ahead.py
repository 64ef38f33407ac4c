"""`core.read_ahead`: the items in order, produced on another thread, at most `depth` ahead;
errors raised in their place; a consumer that stops stops the producer."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.read_ahead import read_ahead


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
