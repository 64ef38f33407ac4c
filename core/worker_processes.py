"""Worker processes that end with the process that started them, however it ends.

The warehouse's pools of worker processes (the disclosure engine's, `disclosure.engine`; the
report's chart renderers, `indicator_report.svg`) come from multiprocessing's forkserver, so
they do not inherit the threads of a caller such as DuckDB or dbt. Their parent is that server,
not the process they work for, and neither notices when that process is killed without a word
(SIGKILL: an operator's `kill -9`, the kernel's OOM killer): the workers, idle and holding their
memory (0.1 GB each for the charts), and their server ran on for good. The build starts the
chart processes while dbt ends, so they wait through the gate and the publication.

Each worker therefore watches a pipe whose other end only the starting process holds (`pool`):
the kernel closes it when that process ends, the worker sees the pipe close and ends at once
(`os._exit`), and the server with its last worker. Nothing is ever sent through it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection

_OWNER: list[Connection] = []
"""This process's pipe, [writing end, reading end]: kept open as long as this process lives."""
_OWNER_LOCK = threading.Lock()


def _owner_end() -> Connection:
    """The reading end of this process's pipe, for its workers (the pipe made once)."""
    with _OWNER_LOCK:
        if not _OWNER:
            reader, writer = multiprocessing.Pipe(duplex=False)
            _OWNER[:] = [writer, reader]
        return _OWNER[1]


def _end_with_owner(owner: Connection) -> None:
    """A worker's first act: a thread that ends the worker once the process it works for has
    gone (the pipe's other end closed)."""

    def watch() -> None:
        try:
            owner.poll(None)  # nothing is ever sent: returns when the other end is closed
        finally:
            os._exit(0)

    threading.Thread(target=watch, name="imw-end-with-owner", daemon=True).start()


def pool(workers: int, preload: str) -> ProcessPoolExecutor:
    """`workers` processes (started on first use) from the forkserver, which imports the module
    `preload` once for all of them when this process starts it; each ends with this process."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([preload])
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_end_with_owner,
        initargs=(_owner_end(),),
    )
