"""The build's dbt process, started before it is needed (#16).

dagster-dbt starts a process for each dbt command when the command is due (`DbtCliInvocation.run`:
`subprocess.Popen`). In a nightly build that process spent ≈ 2 s on a Python start and imports
(dbt's command modules, its DuckDB adapter, and what the project's Python models import:
`orchestration.dbt_in_warehouse.PREIMPORTED`) while the build waited — on its critical path,
after the ingest. The build's dbt resource therefore starts `imw-dbt --prestarted` when the run
starts (`WarehouseDbtResource.setup_for_execution`): it imports all that beside the ingest, on
the core the ingest leaves (a correction's ingest is mostly one thread: Great Expectations and
small files), and waits. When dagster-dbt runs the command, `PrestartedInvocation` hands it the
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
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation, _get_dbt_target_path

from orchestration.dbt_in_warehouse import PRESTART_FLAG

PARTIAL_PARSE_FILE_NAME = "partial_parse.msgpack"
RELEASE_TIMEOUT_S = 10.0
"""How long an unused prestarted process may take to end once its input is closed."""
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


def _copy_partial_parse(project_dir: Path, target_path: Path) -> None:
    """As dagster-dbt does before each command: the project's parse cache copied into the
    command's new target folder, so dbt need not parse the project again."""
    prepared = _get_dbt_target_path()
    cache = (prepared if prepared.is_absolute() else project_dir / prepared).joinpath(
        PARTIAL_PARSE_FILE_NAME
    )
    destination = target_path.joinpath(PARTIAL_PARSE_FILE_NAME)
    if cache.exists() and not destination.exists():
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cache, destination)


def _invocation_class(process: subprocess.Popen) -> type[DbtCliInvocation]:
    """dagster-dbt's invocation whose command goes to `process` (or, when it cannot take it, to a
    process started for it, as dagster-dbt does)."""

    class PrestartedInvocation(DbtCliInvocation):
        @classmethod
        def run(  # type: ignore[override]
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
            _copy_partial_parse(project_dir, target_path)
            if not hand_over(process, args, env, project_dir):
                return DbtCliInvocation.run(
                    args, env, manifest, dagster_dbt_translator, project_dir, target_path,
                    raise_on_error, context, adapter, cli_version, dbt_project,
                )  # fmt: skip
            return cls(
                process=process,
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

    return PrestartedInvocation


@contextmanager
def invocations_on(process: subprocess.Popen) -> Iterator[None]:
    """dagster-dbt's `DbtCliResource.cli` hands its command to `process` in this block."""
    from dagster_dbt.core import resource

    before = resource.DbtCliInvocation
    resource.DbtCliInvocation = _invocation_class(process)  # type: ignore[misc]
    try:
        yield
    finally:
        resource.DbtCliInvocation = before  # type: ignore[misc]
