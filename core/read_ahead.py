"""Produce the next items while their consumer is busy with the last one: one background
thread, items in order, at most `depth` of them held ahead (`read_ahead`); or a function of each
item on several threads, in order (`mapped_ahead`).

The ingest reads and types its next chunk of files this way (`ingest.load`): reading and typing
are mostly polars' and the operating system's native work, which releases the GIL, while the
build's thread pseudonymises, validates and inserts the chunk before in DuckDB and Great
Expectations. On 2 cores the two overlap. The chunk's files are read on their own threads
(`mapped_ahead`): a file of a few thousand rows is parsed on one core, and the build's thread
waited for the reading (6 s of a 26 s `bw` ingest, py-spy, 2026-12-07).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["mapped_ahead", "read_ahead"]

_T = TypeVar("_T")
_R = TypeVar("_R")


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
                        break
                try:
                    item = next(iterator)
                except StopIteration:
                    return
                with lock:
                    ready.append((item, None))
                    lock.notify_all()
            # the consumer stopped: a generator among `items` ends now, on this thread, which
            # alone runs it (`mapped_ahead` stops its reads there)
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
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


_END = object()


def mapped_ahead(
    function: Callable[[_T], _R],
    items: Iterable[_T],
    threads: int,
    ahead: int,
    *,
    name: str = "imw-mapped-ahead",
) -> Iterator[_R]:
    """`function(item)` of each of `items`, in order, computed on `threads` threads, at most
    `ahead` of them computed or being computed while the consumer holds the last one taken.

    An exception of `function` is raised to the consumer in its item's place (after the results
    before it). A consumer that stops early (`break`, an exception, `close()`) cancels what has
    not started and waits for what has, so nothing of `function` runs on after it has gone.
    """
    if threads < 1 or ahead < 1:
        raise ValueError(f"threads and ahead must be at least 1, not {threads} and {ahead}")
    pending: deque[Future[_R]] = deque()
    iterator = iter(items)
    with ThreadPoolExecutor(threads, thread_name_prefix=name) as pool:

        def submitted() -> None:  # `ahead` items submitted beside the one taken
            while len(pending) < ahead and (item := next(iterator, _END)) is not _END:
                pending.append(pool.submit(function, item))  # type: ignore[arg-type]

        try:
            submitted()
            while pending:
                result = pending.popleft().result()
                submitted()
                yield result
        finally:
            for future in pending:
                future.cancel()
