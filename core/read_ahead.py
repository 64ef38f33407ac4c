"""Produce the next items while their consumer is busy with the last one: one background
thread, items in order, at most `depth` of them held ahead.

The ingest reads and types its next chunk of files this way (`ingest.load`): reading and typing
are mostly polars' and the operating system's native work, which releases the GIL, while the
build's thread pseudonymises, validates and inserts the chunk before in DuckDB and Great
Expectations. On 2 cores the two overlap.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["read_ahead"]

_T = TypeVar("_T")


def read_ahead(
    items: Iterable[_T], depth: int = 1, *, name: str = "imw-read-ahead"
) -> Iterator[_T]:
    """The items of `items`, in order, each produced (the iterable's own work: reading, typing …)
    on one background thread while fewer than `depth` produced items wait to be taken.

    So at most `depth` items wait beside the one the consumer holds. An exception of `items` is
    raised to the consumer in its place: after the items before it; the thread stops there. A
    consumer that stops early (`break`, an exception, `close()`) stops the thread and waits for
    the item it is producing, so nothing of `items` runs on after the consumer has gone.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    ready: deque[tuple[_T | None, BaseException | None]] = deque()
    lock = threading.Condition()
    stopped = False
    finished = False  # the thread has appended its last entry

    def produce() -> None:
        nonlocal finished
        try:
            iterator = iter(items)
            while True:
                with lock:
                    lock.wait_for(lambda: stopped or len(ready) < depth)
                    if stopped:
                        return
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                with lock:
                    ready.append((item, None))
                    lock.notify_all()
        except BaseException as error:  # handed to the consumer, raised there
            with lock:
                ready.append((None, error))
        finally:
            with lock:
                finished = True
                lock.notify_all()

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            with lock:
                lock.wait_for(lambda: ready or finished)
                if not ready:
                    return
                item, error = ready.popleft()
                lock.notify_all()
            if error is not None:
                raise error
            yield item  # type: ignore[misc]
    finally:
        with lock:
            stopped = True
            lock.notify_all()
        thread.join()
