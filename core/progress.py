"""Progress lines for long commands (`imw build`, `imw generate`, `imw export`, `make bench`).

One line per stage event, with the elapsed time since the command started:

    [   4.2 s] ingest     files 12/40 · 81,234 rows loaded
    [  31.0 s] dbt        models 68/68 · tests 293/293

The command that owns the console opens a sink (`reporting(...)`); code deep in the layers calls
`report(stage, text)`, which does nothing when no sink is open (a run the Dagster daemon
started, a test). Lines are written with `rich` (colour where a terminal is attached; plain text
in logs, pipes and CI — rich decides from the stream) to stderr, so stdout stays for results.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console

_STYLES = {"failed": "bold red", "done": "bold green"}


class ProgressSink:
    def __init__(self, stream: TextIO | None = None, *, force_terminal: bool | None = None):
        self.started = time.monotonic()
        self.console = Console(
            file=stream or sys.stderr,
            force_terminal=force_terminal,
            soft_wrap=True,
            highlight=False,
            emoji=False,
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def line(self, stage: str, text: str) -> None:
        prefix = f"[{self.elapsed():7.1f} s] {stage:<10} "
        style = _STYLES.get(stage, "cyan")
        self.console.print(f"[dim]{prefix[:12]}[/dim][{style}]{prefix[12:]}[/{style}]", end="",
                           markup=True)  # fmt: skip
        self.console.print(text, markup=False)
        self.console.file.flush()


_sink: ProgressSink | None = None


@contextmanager
def reporting(quiet: bool = False, stream: TextIO | None = None) -> Iterator[ProgressSink | None]:
    """Open the console sink for one command; `quiet` (cron) reports nothing."""
    global _sink
    saved = _sink
    _sink = None if quiet else ProgressSink(stream)
    try:
        yield _sink
    finally:
        _sink = saved


def report(stage: str, text: str) -> None:
    if _sink is not None:
        _sink.line(stage, text)


def active() -> bool:
    return _sink is not None


class Throttle:
    """Report at most every `seconds`, plus whenever `final` — for counters that tick per node."""

    def __init__(self, seconds: float = 2.0):
        self.seconds = seconds
        self.last = float("-inf")

    def due(self, final: bool = False) -> bool:
        now = time.monotonic()
        if final or now - self.last >= self.seconds:
            self.last = now
            return True
        return False
