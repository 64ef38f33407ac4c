"""`imw-dbt`: dbt, started in the build database's folder.

The dbt profile names the database by a constant relative path (`build.duckdb`, see
`dbt_project/profiles.yml`) because dbt keys its parse cache (`partial_parse.msgpack`) on the
profile's connection fields: with the home's absolute path in the profile, every home — every
nightly build in a new home, every test home — would parse the whole project again (13 s of a
`tiny` build, measured 2026-12-03). So the database's location comes from the working directory:
this entry point changes into the folder of `IMW_BUILD_DB` (set by `core.settings.Settings.env`
for every build) and runs dbt's own command line in this process. Without `IMW_BUILD_DB` (a parse)
it stays where it was started.

`imw-dbt --version` answers from the installed packages' metadata. dagster-dbt asks it once per
process that runs dbt (to tell dbt Core from the Fusion engine), and dbt's own `--version` imports
dbt and asks PyPI for the latest release: 4.4 s of every build (measured 2026-12-03), and a
network call nothing in a build may make.

`imw-dbt --prestarted` (the build's dbt, `orchestration.dbt_prestart`) is started before it is
needed: it imports dbt and what a build's models import, then waits for its command — arguments,
environment and working folder as one JSON line on its standard input (`COMMAND_KEYS`) — and runs
it as `imw-dbt <arguments>` would, starting the disclosure engine's worker processes beside it
(`disclosure.engine.start_workers`). Its input closed with no command, it ends without running one.

A prestarted `imw-dbt` ends with the build that started it (`end_with_parent`): killed alone (an
operator's `kill`, the kernel's out-of-memory killer), the build process leaves its dbt behind,
and that dbt, its output read by no one, never finished — it held the build database's lock, and
every later build failed on it until someone killed it by hand (seen 2026-12-05: a build killed
alone during dbt left its `imw-dbt` waiting for over a minute, until killed). So it watches its
parent: once that has gone, it interrupts itself as dagster-dbt would (dbt cancels its queries
and ends), and ends outright if that takes longer than `ORPHAN_GRACE_S`.
"""

from __future__ import annotations

import functools
import gc
import importlib
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from core.collector import long_lived
from core.settings import BUILD_DB_ENV, BUILD_DB_NAME, DBT_PROJECT_DIR

PRESTART_FLAG = "--prestarted"
COMMAND_KEYS = ("args", "env", "cwd")
"""The prestarted command's JSON object: dbt's arguments (without the executable), the whole
environment it runs in, the folder it starts in."""
PREIMPORTED = (
    "dbt.cli.main",
    "dbt.task.build",
    "dbt.parser.manifest",
    "dbt.adapters.duckdb.impl",
    # what the Python models import (dbt_project/models/marts/disclosure_pattern.py), on dbt's
    # critical path otherwise
    "polars",
    "numpy",
    "scipy.sparse",
    "highspy",
    "disclosure.chunks",
    "disclosure.memo",
    "disclosure.tables",
)
"""Imported by a prestarted `imw-dbt` before its command comes: 1.7 s in a fresh interpreter
(2 cores, `bw` machine, 2026-12-05), dbt's command modules 1.2 s of it."""
VALIDATED_AT_START = (
    ("dbt.contracts.project", "Project"),
    ("dbt.contracts.project", "ProjectFlags"),
    ("dbt.contracts.project", "PackageConfig"),
    ("dbt.contracts.project", "ProfileConfig"),
    ("dbt.contracts.project", "Configuration"),
    ("dbt.contracts.selection", "SelectorFile"),
    ("dbt.adapters.duckdb.credentials", "DuckDBCredentials"),
)
"""The classes whose JSON schema dbt builds when a command starts, to validate the project, its
flags and packages, the profile and its credentials, the run's configuration and the selectors
(`dbtClassMixin.validate`): each schema is built once per process (`json_schema` is cached), in
0.3–0.5 s for all of them after `PREIMPORTED`, alone; in the dbt of a `bw` correction, beside the
build's other work, py-spy saw 0.77 s of it after the command came (2026-12-06). A prestarted
`imw-dbt` builds them while it waits (a test holds that a dbt command then builds none)."""


def warm_schemas() -> None:
    """The JSON schemas of `VALIDATED_AT_START` built now, so dbt's start finds them cached."""
    for module, name in VALIDATED_AT_START:
        getattr(importlib.import_module(module), name).json_schema()


PREPARED_TARGET = DBT_PROJECT_DIR / "target"
"""The dbt project's own target folder, where `orchestration.dbt_project` prepares its parse
(`partial_parse.msgpack`, `manifest.json`) before any build runs."""


def warm_serializers(target: Path = PREPARED_TARGET) -> bool:
    """dbt's readers and writers of its manifest generated now, so dbt's start finds them made.

    dbt's classes (de)serialise through mashumaro, which writes each class's reader and writer as
    Python code the first time it is used (`lazy_compilation`): a command reading its parse cache
    (`Manifest.from_msgpack`) and writing `manifest.json` (`Manifest.writable_manifest`) made them
    for every node class on its critical path — in a fresh interpreter the read took 0.42 s and
    the write 0.54 s against 0.10 and 0.24 s once made (`bw` project, 2026-12-06). Here the
    project's prepared parse cache is read and its manifest made writable, in memory: nothing
    is written, and the flags dbt's writer reads are set for the moment and put back.

    Also `inspect`'s map from files to modules, which dbt's adapter builds when it starts: each
    of its behaviour flags names the module that made it by `inspect.stack()`, and the first
    call looks at every module loaded (0.09 s after `PREIMPORTED`, 0.28 s in py-spy's samples of
    a `bw` correction's dbt; later calls look only at modules loaded since).

    False when the prepared target has no parse cache, or one this dbt cannot read — another
    dbt's, or one that a parse in another process is writing at that moment (dbt writes it in
    place): the command then makes them itself, as before. Nothing the command reads comes from
    here, only the code mashumaro made."""
    import inspect
    from argparse import Namespace

    from dbt import flags
    from dbt.contracts.graph.manifest import Manifest
    from dbt.parser.manifest import extended_mashumuro_decoder

    cache = target / "partial_parse.msgpack"
    before = flags.get_flags()
    flags.set_flags(Namespace(SEND_ANONYMOUS_USAGE_STATS=False))
    try:  # a warm-up: whatever fails here, the command makes for itself; none may end the process
        inspect.stack()
        if not cache.is_file():
            return False
        manifest = Manifest.from_msgpack(cache.read_bytes(), decoder=extended_mashumuro_decoder)
        manifest.writable_manifest().to_dict(omit_none=False, context={"artifact": True})
    except Exception:
        return False
    finally:
        flags.set_flags(before)
    return True


def wait_for_command() -> bool:
    """The prestarted entry point's first part: `PREIMPORTED`, `warm_schemas` and
    `warm_serializers`, then the command read from standard input and made this process's:
    `sys.argv`, `os.environ` (replaced as a whole), the working folder. False when the input
    closed with no command."""
    # What the warm-up makes lives as long as the process but for its manifest: made without the
    # collector running, the manifest collected, the rest frozen for good (`core.collector`:
    # 2.45 → 1.9 s alone, 2026-12-06 — dbt's command waits for this in a correction)
    with long_lived(collect=True):
        for module in PREIMPORTED:
            importlib.import_module(module)
        warm_schemas()
        warm_serializers()
    line = sys.stdin.readline()
    if not line.strip():
        return False
    command = json.loads(line)
    missing = [key for key in COMMAND_KEYS if key not in command]
    if missing:
        sys.exit(f"imw-dbt {PRESTART_FLAG}: the command lacks {missing}")
    os.environ.clear()
    os.environ.update(command["env"])
    os.chdir(command["cwd"])
    sys.argv = [sys.argv[0], *command["args"]]
    return True


ORPHAN_POLL_S = 1.0
"""How often a prestarted `imw-dbt` looks whether the build that started it is still there."""
ORPHAN_GRACE_S = 30.0
"""How long it gives dbt to end by its interrupt once that build has gone, before it ends."""
ORPHAN_EXIT_CODE = 3


def end_with_parent(
    parent: int, poll_s: float = ORPHAN_POLL_S, grace_s: float = ORPHAN_GRACE_S
) -> threading.Thread:
    """A daemon thread that ends this process once its parent `parent` has gone (this process
    handed to another parent): first an interrupt (SIGINT, `KeyboardInterrupt` in the main
    thread: dbt cancels its queries and ends), and if the process still runs after `grace_s`,
    an immediate end (`os._exit`, exit code `ORPHAN_EXIT_CODE`) — a dbt whose output pipe has no
    reader can hang on its way out."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(grace_s)
        os._exit(ORPHAN_EXIT_CODE)

    thread = threading.Thread(target=watch, name="imw-end-with-parent", daemon=True)
    thread.start()
    return thread


def engine_workers_beside() -> threading.Thread:
    """The disclosure engine's worker processes started on a thread beside dbt
    (`disclosure.engine.start_workers`), for a prestarted command: ready when the pattern model
    first needs them instead of started then, while it waits. Not while the process waits for
    its command: they would hold their memory beside the build's ingest."""
    from disclosure.engine import start_workers

    thread = threading.Thread(target=start_workers, name="imw-start-workers", daemon=True)
    thread.start()
    return thread


def lines_only_at_their_level() -> None:
    """dbt's loggers made to leave out, before writing it, a line their level would drop.

    dbt's loggers (standard output, read by dagster-dbt, and `dbt.log`) pass every event but the
    cache's through their filter, write it as a JSON line, and only then hand the line to a
    Python logger that drops it below the logger's level (`dbt_common.events.logger`). Every
    statement of every node is a `debug` event with its whole SQL, so at `info` each was made
    into JSON twice and dropped twice: 1.1 s of py-spy's samples of a `bw` correction's dbt
    (2026-12-06), its threads' largest part after the SQL itself and the macros'.

    Each logger dbt adds from now on keeps its filter, after the level its Python logger applies
    (`_log_level_map`; a print event goes out as an error, as `_Logger.write_line` sends it).
    What is written is what was written: the lines a level drops are not made. An event of a
    level dbt does not know goes on to the logger, which raises as before."""
    from dbt_common.events import event_manager
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.logger import _is_print_event, _log_level_map

    manager = event_manager.EventManager
    if getattr(manager.add_logger, "lines_only_at_their_level", False):
        return
    add_logger = manager.add_logger

    rank = {level.value: _log_level_map[level] for level in EventLevel}

    def at_level(keeps, level: EventLevel):
        threshold = _log_level_map[level]

        def keeps_at_level(msg) -> bool:
            shown = rank.get(EventLevel.ERROR.value if _is_print_event(msg) else msg.info.level)
            return (shown is None or shown >= threshold) and keeps(msg)

        return keeps_at_level

    def add_logger_at_level(self, config) -> None:
        add_logger(self, config)
        added = self.loggers[-1]
        added.filter = at_level(added.filter, added.level)

    add_logger_at_level.lines_only_at_their_level = True  # type: ignore[attr-defined]
    manager.add_logger = add_logger_at_level  # type: ignore[method-assign]


def frozen_when_nodes_start() -> None:
    """What dbt holds when it starts running nodes — the manifest it read, the graph, the
    adapter — lives until the command ends: frozen then (`gc.freeze`, `core.collector`), so the
    collections during the run walk only what the nodes make.

    dbt's own process spent 0.66–0.78 s of a `bw` correction in the collector, nine full
    collections walking the run's manifest (gc callbacks, 2026-12-06). Frozen when the nodes
    start: dbt's step 8.52 → 8.21 s on average over five corrections alternating, the process
    tree's peak in a full build the same (2.22 GB). Nothing is collected first: a collection
    there would cost the run what it saves, and the peak did not move without one. Wraps
    `GraphRunnableTask.execute_nodes` once per process; another dbt without it runs as it is."""
    from dbt.task.runnable import GraphRunnableTask

    execute = GraphRunnableTask.__dict__.get("execute_nodes")
    if not callable(execute) or getattr(execute, "frozen_when_nodes_start", False):
        return

    @functools.wraps(execute)
    def execute_nodes(self: Any, *args: Any, **kwargs: Any) -> Any:
        gc.freeze()
        return execute(self, *args, **kwargs)

    execute_nodes.frozen_when_nodes_start = True  # type: ignore[attr-defined]
    GraphRunnableTask.execute_nodes = execute_nodes  # type: ignore[method-assign]


STOPPED_BY_INTERRUPT = "dbt was interrupted (the build was stopped)"


def stop_engine_on_interrupt() -> threading.Thread:
    """On an interrupt (SIGINT: dagster-dbt forwarding the run's termination, `dbt_prestart.stop`,
    `end_with_parent`), the disclosure engine's worker processes are stopped at once when this
    process has them (`disclosure.engine.stop_workers`), by a daemon thread that the signal
    wakes (`signal.set_wakeup_fd`); the interrupt itself is then dbt's `KeyboardInterrupt`.

    Why: dbt's answer to an interrupt cancels the database's queries and then waits for every
    model running, and a Python model is not a query. Worse, the interrupt did not reach dbt
    while the pattern model ran: dbt's main thread waits on a lock for the next finished node,
    a signal the kernel hands to another thread does not wake it, and Python runs its handlers
    on the main thread only — so dbt saw the interrupt when the model had finished (a `bw` build
    interrupted 8 s into the pattern: dbt had not ended after dagster-dbt's 25 s and was killed;
    the model alone on a thread, its caller waiting as dbt's does: the interrupt seen 35.7 s
    later). With its workers stopped, the model fails within a moment, which wakes dbt.

    SIGINT is Python's default handler here whatever it was, also over an ignored SIGINT: a
    build started in the background of a shell without job control passes an ignored SIGINT on
    to its children, and its dbt would not end on the interrupt the build sends it."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)

    def watch() -> None:
        while True:
            if signal.SIGINT in os.read(read_end, 64):  # one byte per signal: its number
                engine = sys.modules.get("disclosure.engine")  # never imported: nothing to stop
                if engine is not None:
                    engine.stop_workers(STOPPED_BY_INTERRUPT)

    thread = threading.Thread(target=watch, name="imw-stop-engine-on-interrupt", daemon=True)
    thread.start()
    return thread


def main() -> None:
    stop_engine_on_interrupt()
    prestarted = sys.argv[1:] == [PRESTART_FLAG]
    if prestarted:
        end_with_parent(os.getppid())
    if prestarted and not wait_for_command():
        return
    if sys.argv[1:] == ["--version"]:
        print(version_text())
        return
    build_db = os.environ.get(BUILD_DB_ENV)
    if build_db:
        path = Path(build_db)
        if path.name != BUILD_DB_NAME:
            sys.exit(f"imw-dbt: {BUILD_DB_ENV} must name a file called {BUILD_DB_NAME}: {build_db}")
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chdir(path.parent)
    from dbt.cli.main import cli

    # dbt's modules (≈ 300,000 objects) live as long as the process: moved out of the collector's
    # way, its full collections walk only what the run creates. And when dbt is done (click
    # exits with SystemExit), the heap frozen: the interpreter's exit otherwise collects every
    # module's garbage, walking all of it each time — 1.0 s after a `bw` build's last model
    # (2026-12-05), time the nightly build waits for.
    gc.freeze()
    lines_only_at_their_level()
    frozen_when_nodes_start()
    starting = engine_workers_beside() if prestarted else None
    try:
        cli()
    finally:
        gc.freeze()
        if starting is not None:
            # a command done before they are started (not a build) lets them start: at the
            # interpreter's exit their pool takes no task and their start would fail
            starting.join()


def version_text() -> str:
    """The installed dbt Core and adapter versions, dbt Core's first (dagster-dbt reads the first
    version number in the text)."""
    from importlib.metadata import version

    return (
        f"Core:\n  - installed: {version('dbt-core')}\n\n"
        f"Plugins:\n  - duckdb: {version('dbt-duckdb')}\n\n"
        "(imw-dbt: read from the installed packages; no check for newer releases)"
    )


if __name__ == "__main__":
    main()
