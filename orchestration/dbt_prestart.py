"""The build's dbt process, started before it is needed (#16).

dagster-dbt starts a process for each dbt command when the command is due (`DbtCliInvocation.run`:
`subprocess.Popen`). In a nightly build that process spent ≈ 2 s on a Python start and imports
(dbt's command modules, its DuckDB adapter, and what the project's Python models import:
`orchestration.dbt_in_warehouse.PREIMPORTED`) while the build waited — on its critical path,
after the ingest. The build's dbt resource therefore starts `imw-dbt --prestarted` when the run
starts (`WarehouseDbtResource.setup_for_execution`): it imports all that beside the ingest, on
the core the ingest leaves (a correction's ingest is mostly one thread: Great Expectations and
small files), and waits. When dagster-dbt runs the command, its `subprocess.Popen` hands it the
command — its arguments, the environment dagster-dbt made for it and its folder — instead of
starting a process, and dagster-dbt reads, waits for and signals that process as it would its own
subprocess: it is one (`subprocess.Popen`), started earlier.

What differs from a process started for the command: only what Python reads when it starts — the
environment's `PYTHON*` variables and the interpreter's flags are those of the build's process when
the run started (with `PYTHONUNBUFFERED`, which dagster-dbt sets for streaming); dbt and the models
read their settings (`DBT_*`, `IMW_*`) when the command runs, from the environment handed over.

A prestarted process serves one command; a second command of the run (none in a nightly build)
starts its own, as does a command outside a run (the project's parse). Not used by the end of the
run (a build that stopped before dbt, a run without dbt), its input is closed and it ends without
running anything (`release`). Its memory while it waits: ≈ 180 MB (its imports).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from orchestration.dbt_in_warehouse import PRESTART_FLAG

RELEASE_TIMEOUT_S = 10.0
"""How long an unused prestarted process may take to end once its input is closed."""
STOP_TIMEOUT_S = 30.0
"""How long a dbt process that is stopped (`stop`) may take to end after its interrupt: dbt
cancels its queries, and the disclosure engine's workers finish the program they solve."""
STARTUP_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONLEGACYWINDOWSSTDIO": "1"}
"""What dagster-dbt gives every dbt process for its start (unbuffered output, streamed)."""


def prestart(executable: str, cwd: str | Path) -> subprocess.Popen:
    """`imw-dbt --prestarted` in `cwd`, its output as dagster-dbt reads a dbt command's."""
    return subprocess.Popen(
        [executable, PRESTART_FLAG],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **STARTUP_ENV},
        cwd=cwd,
    )


def dbt_executable() -> str:
    """`imw-dbt` installed beside this Python (the project's venv), whether or not it is on PATH:
    dbt started in the build database's folder (orchestration/dbt_in_warehouse.py)."""
    return str(Path(sys.executable).parent / "imw-dbt")


_EARLY: dict[tuple[str, str], subprocess.Popen] = {}
_EARLY_LOCK = threading.Lock()


def start_early(executable: str, cwd: str | Path) -> subprocess.Popen:
    """`prestart` before the run that will use it exists: `imw build` starts it first, so that its
    imports run beside the build's own imports and Dagster's start, and the run's dbt resource
    takes it when the run starts (`take_early`) instead of starting one then.

    Why: started with the run (2.8 s into `imw build`), its warm-up ran beside Great
    Expectations' import and the ingest, slowing both, and was not done when a correction's
    ingest was: dbt's command waited for it (0.38–0.52 s). Started first, it is done 1.7 s before
    the command, beside the build's imports. A `bw` correction on one kept home, alternating
    (2026-12-07 23:25–23:55, the 2-core AMD EPYC): 25.97–27.05 s, median 26.43 (7 builds) →
    25.57–26.38 s, median 25.77 (7 builds); the ingest step 3.1–3.3 → 3.0–3.1 s. (On the faster
    machine of 2026-12-06 it did not pay: 18.9 against 18.5 s in 6 rounds, README.) The caller
    ends it with `release_early` when no run took it."""
    process = prestart(executable, cwd)
    with _EARLY_LOCK:
        before = _EARLY.pop(_early_key(executable, cwd), None)
        _EARLY[_early_key(executable, cwd)] = process
    release(before)  # one started early before and never taken: a caller's mistake, ended
    return process


def take_early(executable: str, cwd: str | Path) -> subprocess.Popen | None:
    """The process `start_early` started for `executable` in `cwd`, now the caller's; None when
    there is none, or it has ended (it is released here)."""
    with _EARLY_LOCK:
        process = _EARLY.pop(_early_key(executable, cwd), None)
    if process is not None and process.poll() is not None:
        release(process)
        return None
    return process


def release_early(process: subprocess.Popen) -> None:
    """End `process` (from `start_early`) if no run took it; one taken is its taker's."""
    with _EARLY_LOCK:
        mine = [key for key, early in _EARLY.items() if early is process]
        for key in mine:
            del _EARLY[key]
    if mine:
        release(process)


def _early_key(executable: str, cwd: str | Path) -> tuple[str, str]:
    return os.fspath(executable), os.path.abspath(cwd)


def hand_over(
    process: subprocess.Popen, args: Sequence[str], env: Mapping[str, str], cwd: str | Path
) -> bool:
    """Give the prestarted `process` its command (`args`: the executable first, as dagster-dbt
    builds them). False when it can no longer take one (it ended: a failed import, a kill)."""
    if process.poll() is not None or process.stdin is None:
        return False
    command = {"args": list(args[1:]), "env": dict(env), "cwd": os.fspath(cwd)}
    try:
        process.stdin.write(json.dumps(command).encode() + b"\n")
        process.stdin.close()
    except OSError:  # a broken pipe: it ended meanwhile
        return False
    # from here on, a process as dagster-dbt starts one: no input, its command as `args`
    process.stdin = None
    process.args = list(args)
    return True


def release(process: subprocess.Popen | None) -> None:
    """End a prestarted process that got no command: its input closed, it exits; killed if it
    has not after `RELEASE_TIMEOUT_S`. A process that got one has been waited for by dagster-dbt;
    it is only reaped here."""
    if process is None:
        return
    if process.stdin is not None:
        with suppress(OSError):
            process.stdin.close()
        process.stdin = None
    try:
        process.wait(RELEASE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def stop(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_S) -> None:
    """End a dbt process whose events nobody reads any more, because the step that streamed them
    failed in the warehouse's own code (`ended_with`): an interrupt, which dbt takes as a cancel
    (it cancels its queries and ends, releasing the build database); killed if it has not ended
    after `timeout`. Its output is closed first: no one reads it, and a process blocked writing
    to a full pipe would never end. Nothing to do for a process that has ended."""
    if process.stdout is not None:
        process.stdout.close()
    if process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def ended_with(process: subprocess.Popen) -> Iterator[None]:
    """The block that reads `process`'s events: if it raises (or is closed), the process is
    stopped (`stop`) before the error goes on, so no dbt runs on after its step — holding the
    build database's lock while the build records its failure and the next build starts.

    A failure of dbt itself needs nothing: dagster-dbt raises it once the process has ended, and
    an interrupt of the run (Dagster's termination) is forwarded to dbt by dagster-dbt; both
    pass through here with the process ended."""
    try:
        yield
    except BaseException:
        stop(process)
        raise


class _HandingOver:
    """dagster-dbt's `subprocess` while a command is handed over: its `Popen` gives the command to
    the prestarted process, or starts one as `subprocess.Popen` would when that process cannot
    take it (it ended, or the output is asked for otherwise than it was started with); anything
    else is `subprocess`'s own. So dagster-dbt's `DbtCliInvocation.run` does all it does — the
    parse cache copied into the new target folder, the invocation made — around the one call
    that differs."""

    def __init__(self, process: subprocess.Popen):
        self._process = process

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    def Popen(self, args: Sequence[str], **kwargs: Any) -> subprocess.Popen:
        as_started = kwargs.keys() == {"stdout", "stderr", "env", "cwd"} and (
            kwargs["stdout"],
            kwargs["stderr"],
        ) == (subprocess.PIPE, subprocess.STDOUT)
        if as_started and hand_over(self._process, args, kwargs["env"], kwargs["cwd"]):
            return self._process
        return subprocess.Popen(args, **kwargs)


@contextmanager
def invocations_on(process: subprocess.Popen) -> Iterator[None]:
    """dagster-dbt's `DbtCliResource.cli` hands its command to `process` in this block."""
    from orchestration.dagster_dbt_api import dbt_cli_invocation

    before = dbt_cli_invocation.subprocess
    dbt_cli_invocation.subprocess = _HandingOver(process)  # type: ignore[assignment]
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = before
