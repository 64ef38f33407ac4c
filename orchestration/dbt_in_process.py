"""dbt's command line in this process, for dagster-dbt (#16: a build's dbt without a process of
its own).

dagster-dbt runs each dbt command as a subprocess (`DbtCliInvocation.run`) and turns the JSON log
lines the subprocess prints into Dagster events. A nightly build paid for that process every
time: a Python start, dbt's imports — ≈ 1.2 s, of modules the build has already imported for
dagster-dbt (measured 2026-12-05: dbt's command modules 1.48 s in a fresh interpreter, 0.28 s
after the definitions) — and its exit. `InProcessDbtCliInvocation` is dagster-dbt's invocation
with the subprocess replaced by `DbtThread`: dbt's own command line (`dbtRunner`, dbt's
programmatic entry point) in a thread of this process, its events handed over as the very lines
dbt prints with `--log-format json` (dbt's stdout logger: info level and above, cache events
left out), so dagster-dbt makes the same Dagster events of them, and dbt's debug log
(`dbt.log` in the target folder) is written as before.

While dbt runs, this process is dbt's:

- its working directory is the build database's folder (`dbt_working_dir`, as for `imw-dbt`:
  the dbt profile names the database by a relative path, see `orchestration.dbt_in_warehouse`),
  restored afterwards. Nothing in the build uses a relative path (`core.settings.Settings`
  resolves every path). The thread starts when dagster-dbt first reads the command's output —
  after its `cli()` has changed back out of the project folder it enters around the start;
- `os.environ` holds the environment dagster-dbt gives the command, restored afterwards;
- dbt-duckdb's DuckDB database is closed when the command ends (`_close_duckdb`), so the build's
  next steps can open the file in this process.

dbt cannot be stopped from outside its thread: when Dagster interrupts the run, dagster-dbt's
`send_signal` is noted and its `wait` returns after its timeout; the run ends failed and dbt's
thread (a daemon) ends with the process.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation, _get_dbt_target_path

from orchestration.dbt_in_warehouse import dbt_working_dir

PARTIAL_PARSE_FILE_NAME = "partial_parse.msgpack"
STDOUT_LEVELS = frozenset({"info", "warn", "error"})
"""dbt's event levels its stdout logger prints at `--log-level info` (dbt's default)."""
STDOUT_LEFT_OUT = frozenset({"CacheAction", "CacheDumpGraph"})
"""Events dbt's stdout logger leaves out (without `--log-cache-events`)."""
LOG_LEVEL_FILE_ENV = "DBT_LOG_LEVEL_FILE"
DBT_FILE_LOG_LEVEL = "debug"
"""dbt's default level of its log file (`dbt.log`)."""
ERROR_EXIT, FAILURE_EXIT = 2, 1
"""dbt's exit codes: an error that stopped the command, and a command that ran with failures."""

_RUNNING = threading.Lock()
"""One dbt command at a time in this process: dbt's flags, event manager and adapters are
process-wide."""


def stdout_line(msg: Any) -> bytes | None:
    """The JSON line dbt's stdout logger prints for event `msg` with `--log-format json`, or None
    for an event it does not print (`STDOUT_LEVELS`, `STDOUT_LEFT_OUT`)."""
    from dbt_common.events.functions import env_scrubber, msg_to_dict
    from dbt_common.utils.encoding import ForgivingJSONEncoder

    if msg.info.level not in STDOUT_LEVELS or msg.info.name in STDOUT_LEFT_OUT:
        return None
    text = json.dumps(msg_to_dict(msg), sort_keys=True, cls=ForgivingJSONEncoder)
    return env_scrubber(text).encode()


def quiet_args(args: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """`args` with dbt's stdout logger off (its lines reach dagster-dbt as events; printed, they
    would go to whatever this process's stdout is), its debug log file as it would be: dbt gives
    the file the stdout level unless the file has one of its own."""
    quiet = [*args, "--log-level", "none"]
    if "--log-level-file" not in args and not env.get(LOG_LEVEL_FILE_ENV):
        quiet += ["--log-level-file", DBT_FILE_LOG_LEVEL]
    return quiet


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    """`os.environ` as `env` (only the variables that differ are touched), then as before."""
    before = {
        name: os.environ.get(name)
        for name in {*env, *os.environ}
        if os.environ.get(name) != env.get(name)
    }
    for name in before:
        if name in env:
            os.environ[name] = env[name]
        else:
            del os.environ[name]
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _working_directory(folder: Path | None) -> Iterator[None]:
    before = os.getcwd()
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def _close_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps for its connections (it closes it itself when
    its last connection closes; this makes sure, also after a failed command)."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
    DuckDBConnectionManager.close_all_connections()


class _Output:
    """The command's output as dagster-dbt reads a subprocess's stdout: a file of lines (bytes),
    in a `with` block; reading it starts the command."""

    def __init__(self, command: DbtThread):
        self._command = command
        self.closed = False

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed = True

    def __iter__(self) -> Iterator[bytes]:
        self._command.start()
        while (line := self._command.lines.get()) is not None:
            yield line


class DbtThread:
    """What dagster-dbt uses of `subprocess.Popen`, for dbt's command line in a thread of this
    process: `args` (the executable first, as dagster-dbt builds them), `stdout`, `wait`,
    `returncode`, `send_signal`."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str]):
        self.args = list(args)
        self.env = dict(env)
        self.returncode: int | None = None
        self.interrupted = False
        self.lines: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.stdout = _Output(self)
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self._started = threading.Lock()

    def start(self) -> None:
        with self._started:
            if not self._thread.is_alive() and self._thread.ident is None:
                self._thread.start()

    def wait(self, timeout: float | None = None) -> int | None:
        self.start()
        self._thread.join(timeout)
        return self.returncode

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, signal: int) -> None:
        self.interrupted = True

    def _emit(self, msg: Any) -> None:
        line = stdout_line(msg)
        if line is not None:
            self.lines.put(line)

    def _run(self) -> None:
        code = ERROR_EXIT
        try:
            with _RUNNING, _environment(self.env), _working_directory(dbt_working_dir(self.env)):
                from dbt.cli.main import dbtRunner

                try:
                    result = dbtRunner(callbacks=[self._emit]).invoke(
                        quiet_args(self.args[1:], self.env)
                    )
                finally:
                    _close_duckdb()
            if result.success:
                code = 0
            elif result.exception is None:
                code = FAILURE_EXIT
            else:
                self.lines.put(
                    f"dbt: {type(result.exception).__name__}: {result.exception}".encode()
                )
        except BaseException as error:  # reported as a line of output, the command failed
            self.lines.put(f"dbt: {type(error).__name__}: {error}".encode())
        finally:
            self.returncode = code
            self.lines.put(None)


class InProcessDbtCliInvocation(DbtCliInvocation):
    """dagster-dbt's invocation, its command run by `DbtThread` instead of a subprocess."""

    @classmethod
    def run(
        cls,
        args: Sequence[str],
        env: dict[str, str],
        manifest: Mapping[str, Any],
        dagster_dbt_translator: Any,
        project_dir: Path,
        target_path: Path,
        raise_on_error: bool,
        context: Any,
        adapter: Any,
        cli_version: Any,
        dbt_project: Any = None,
    ) -> DbtCliInvocation:
        # as dagster-dbt does: the project's parse cache copied to a new target folder, so dbt
        # need not parse the project again
        prepared = _get_dbt_target_path()
        cache = (prepared if prepared.is_absolute() else project_dir / prepared).joinpath(
            PARTIAL_PARSE_FILE_NAME
        )
        destination = target_path.joinpath(PARTIAL_PARSE_FILE_NAME)
        if cache.exists() and not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(cache, destination)
        return cls(
            process=DbtThread(args, env),  # type: ignore[arg-type]
            manifest=manifest,
            project=dbt_project,
            dagster_dbt_translator=dagster_dbt_translator,
            project_dir=project_dir,
            target_path=target_path,
            raise_on_error=raise_on_error,
            context=context,
            adapter=adapter,
            cli_version=cli_version,
        )


@contextmanager
def invocations_in_process() -> Iterator[None]:
    """dagster-dbt's `DbtCliResource.cli` makes `InProcessDbtCliInvocation`s in this block."""
    from dagster_dbt.core import resource

    before = resource.DbtCliInvocation
    resource.DbtCliInvocation = InProcessDbtCliInvocation  # type: ignore[misc]
    try:
        yield
    finally:
        resource.DbtCliInvocation = before  # type: ignore[misc]
