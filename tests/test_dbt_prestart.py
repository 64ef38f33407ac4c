"""The build's dbt process started before it is needed (`orchestration.dbt_prestart`, the
prestarted entry point in `orchestration.dbt_in_warehouse`): the command handed over runs as a
process started for it would — its arguments, environment and folder —, a run's first dbt command
goes to it, and a prestarted process nobody used ends without running anything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from cli import main as cli_main
from core.settings import BUILD_DB_ENV, DBT_PROJECT_DIR, Settings
from orchestration import dbt_prestart
from orchestration.dbt_in_warehouse import PRESTART_FLAG
from orchestration.dbt_prestart import dbt_executable
from orchestration.resources import dbt_resource


def messages(output: bytes) -> list[str]:
    """The messages of dbt's JSON log lines."""
    return [json.loads(line)["info"]["msg"] for line in output.splitlines() if line.strip()]


def test_the_command_handed_over_runs_with_its_arguments_environment_and_folder(tmp_path):
    # dbt looks for profiles.yml in its working folder first: `debug --config-dir` names it
    folder = tmp_path / "handed"
    folder.mkdir()
    (folder / "profiles.yml").touch()
    process = dbt_prestart.prestart(dbt_executable(), cwd=tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "IMW_"))}
    env["DBT_LOG_FORMAT"] = "json"  # only in the environment handed over, not the prestart's
    args = [dbt_executable(), "debug", "--config-dir"]
    assert dbt_prestart.hand_over(process, args, env, folder)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert process.args == args  # what dagster-dbt reports as the command
    said = messages(output)  # JSON lines: the handed environment's log format
    assert any(m.startswith("Running with dbt=") for m in said)
    assert any(str(folder) in m for m in said), said  # the handed folder, not tmp_path


def test_the_prestarted_process_takes_the_whole_environment_it_is_handed(tmp_path):
    script = (
        f"import json, os, sys; sys.argv = ['imw-dbt', {PRESTART_FLAG!r}]\n"
        "from orchestration.dbt_in_warehouse import wait_for_command\n"
        "ok = wait_for_command()\n"
        "print(json.dumps([ok, os.getcwd(), sys.argv[1:], dict(os.environ)]))\n"
    )
    started_with = {**os.environ, "ONLY_AT_START": "1"}
    handed = {"PATH": os.environ["PATH"], "ONLY_HANDED": "2"}
    command = {"args": ["build", "--select", "x"], "env": handed, "cwd": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(command) + "\n",
        capture_output=True,
        text=True,
        env=started_with,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    ok, cwd, argv, environ = json.loads(done.stdout)
    assert ok
    assert Path(cwd) == tmp_path
    assert argv == ["build", "--select", "x"]
    assert environ == handed  # ONLY_AT_START gone: replaced as a whole


def _small_project(
    root: Path, *, model: str | None = None, sources: str = "", seed: str | None = None
) -> dict[str, str]:
    """A dbt project `p` in `root` on an in-memory DuckDB: with `model`, the model `m` (its
    column `a` tested `not_null`) and `sources` in its YAML; with `seed`, the seed `s`. Returns
    the environment to run dbt in from this repository: none of the caller's `DBT_*`, and dbt's
    usage statistics off, as dagster-dbt runs it."""
    (root / "dbt_project.yml").write_text('name: p\nversion: "1.0"\nprofile: p\n')
    profile = "p:\n  target: t\n  outputs:\n    t:\n      type: duckdb\n      path: ':memory:'\n"
    (root / "profiles.yml").write_text(profile)
    if model is not None:
        (root / "models").mkdir()
        (root / "models" / "m.sql").write_text(model)
        (root / "models" / "m.yml").write_text(
            "models:\n  - name: m\n    columns:\n      - name: a\n        data_tests: [not_null]\n"
            + sources
        )
    if seed is not None:
        (root / "seeds").mkdir()
        (root / "seeds" / "s.csv").write_text(seed)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"  # as in a build: no call out, no thread for it
    return env


_SCHEMAS_BUILT_BY_A_COMMAND = """
import importlib, json, sys
import dbt_common.dataclass_schema as schemas
from orchestration import dbt_in_warehouse

for module in dbt_in_warehouse.PREIMPORTED:
    importlib.import_module(module)
dbt_in_warehouse.warm_schemas()
built = []
build_json_schema = schemas.build_json_schema

def counted(cls, *args, **kwargs):  # what dbt builds from here on
    built.append(cls.__name__)
    return build_json_schema(cls, *args, **kwargs)

schemas.build_json_schema = counted
from dbt.cli.main import dbtRunner

done = dbtRunner().invoke(["ls", "--project-dir", ".", "--profiles-dir", "."])
print(json.dumps({"success": done.success, "built": built}))
"""


def test_a_dbt_command_after_the_warm_up_builds_no_schema(tmp_path):
    """`warm_schemas` (run by a prestarted `imw-dbt` while it waits) builds every JSON schema that
    a dbt command builds when it starts: `dbt ls` on a project of its own, in a fresh interpreter,
    builds none after it. A dbt release that validates another class at start fails here, naming
    it."""
    env = _small_project(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", _SCHEMAS_BUILT_BY_A_COMMAND],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
    )  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"success": True, "built": []}


_SERIALIZERS_MADE_BY_A_COMMAND = """
import importlib, json, sys
from pathlib import Path
from mashumaro.core.meta.code.builder import CodeBuilder
from orchestration import dbt_in_warehouse

for module in dbt_in_warehouse.PREIMPORTED:
    importlib.import_module(module)
dbt_in_warehouse.warm_schemas()  # their schemas make serializers too (`CC`), made anyway
warm = sys.argv[1] == "warm"
warmed = dbt_in_warehouse.warm_serializers(Path("target")) if warm else None
made = []
for method in ("add_unpack_method", "add_pack_method"):
    original = getattr(CodeBuilder, method)

    def counted(self, _original=original, _method=method):  # what dbt makes from here on
        made.append(f"{self.cls.__name__}.{_method}")
        return _original(self)

    setattr(CodeBuilder, method, counted)
from dbt.cli.main import dbtRunner

done = dbtRunner().invoke(["parse", "--project-dir", ".", "--profiles-dir", "."])
print(json.dumps({"success": done.success, "warmed": warmed, "made": made}))
"""


def test_a_dbt_command_after_the_warm_up_makes_no_serializer(tmp_path):
    """`warm_serializers` (run by a prestarted `imw-dbt` while it waits) makes every reader and
    writer that a command reading the parse cache and writing `manifest.json` makes: `dbt parse`
    of an unchanged project (a model, its data test, a seed, a source), in a fresh interpreter,
    makes none after it, and makes some without it — so the count sees them. A dbt release that
    reads or writes another class fails here, naming it."""
    env = _small_project(
        tmp_path,
        model="select * from {{ ref('s') }}\n",
        sources="sources:\n  - name: src\n    tables:\n      - name: t\n",
        seed="a\n1\n",
    )

    def parse(mode: str) -> dict:
        out = subprocess.run(
            [sys.executable, "-c", _SERIALIZERS_MADE_BY_A_COMMAND, mode],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
        )  # fmt: skip
        return json.loads(out.stdout.strip().splitlines()[-1])

    parse("cold")  # the project's parse cache, as `orchestration.dbt_project` prepares it
    cold = parse("cold")  # an unchanged project: the cache read, the manifest written
    warm = parse("warm")
    assert cold["success"] and warm["success"] and warm["warmed"]
    # without the warm-up: the manifest's and its nodes' readers and writers (82 with dbt 1.11)
    assert {
        "Manifest.add_unpack_method",
        "ModelNode.add_unpack_method",
        "SeedNode.add_unpack_method",
        "Model.add_pack_method",
        "WritableManifest.add_pack_method",
    } <= set(cold["made"])
    # with it: only the command's own settings, read when it starts (0.06 s for all of them)
    assert set(warm["made"]) <= _COMMAND_SETTINGS


_COMMAND_SETTINGS = {
    f"{name}.add_{way}_method"
    for name, ways in {
        "ProjectFlags": ("unpack",),
        "Project": ("unpack",),
        "PackageConfig": ("unpack", "pack"),
        "SelectorFile": ("unpack",),
        "DuckDBCredentials": ("unpack", "pack"),
        "QueryComment": ("pack",),
        "Policy": ("unpack", "pack"),
        "DuckDBRelation": ("unpack",),
        "Path": ("unpack",),
        # `dbt parse` writes its timings (`perf_info.json`); a build does not
        "ManifestLoaderInfo": ("pack",),
        "ProjectLoaderInfo": ("pack",),
    }.items()
    for way in ways
}
"""What a command makes when it starts whatever was warmed: the project's, profile's and
selectors' settings as read from their files."""


def test_warming_the_serializers_without_a_readable_parse_cache_does_nothing(tmp_path):
    """A target without `partial_parse.msgpack` (a project not parsed yet), or with one cut off
    (another process's parse writing it in place) or not dbt's: nothing to make them from,
    False, and no error — the command then makes them itself. dbt's flags are as before."""
    from dbt import flags

    from orchestration.dbt_in_warehouse import PREPARED_TARGET, warm_serializers

    before = flags.get_flags()
    assert warm_serializers(tmp_path) is False
    whole = (PREPARED_TARGET / "partial_parse.msgpack").read_bytes()
    for broken in (whole[: len(whole) // 2], b"not a parse cache"):
        (tmp_path / "partial_parse.msgpack").write_bytes(broken)
        assert warm_serializers(tmp_path) is False
    assert flags.get_flags() is before


_LINES_OF_A_BUILD = """
import json, sys
from orchestration import dbt_in_warehouse

patched, file_level, log_path = sys.argv[1] == "patched", sys.argv[2], sys.argv[3]
if patched:
    dbt_in_warehouse.lines_only_at_their_level()
from dbt_common.events.logger import _JsonLogger

made = []
create_line = _JsonLogger.create_line

def counted(self, msg):  # every line a logger makes, whether written or not
    made.append(msg.info.name)
    return create_line(self, msg)

_JsonLogger.create_line = counted
from dbt.cli.main import dbtRunner

args = ["build", "--project-dir", ".", "--profiles-dir", ".", "--threads", "1"]
args += ["--log-format", "json", "--log-level-file", file_level, "--log-path", log_path]
done = dbtRunner().invoke(args)
print(json.dumps({"success": done.success, "made": len(made)}))
"""


_BOOKKEEPING = {
    "NewConnection",
    "ConnectionReused",
    "ConnectionUsed",
    "ConnectionClosed",
    "ConnectionLeftOpen",
    "ConnectionClosedInCleanup",
    "ConnectionLeftOpenInCleanup",
    "FlushEvents",
    "FlushEventsFailure",
}


def test_dbt_writes_the_same_lines_without_making_those_its_levels_drop(tmp_path):
    """`lines_only_at_their_level` (every `imw-dbt` command): a `dbt build` writes the same
    events to standard output (at `info`, what dagster-dbt reads) and to `dbt.log` (at `debug`
    and at `info`) as without it, and makes no line that is not written; without it dbt makes a
    JSON line for every `debug` event and drops it."""
    env = _small_project(tmp_path, model="select 1 as a\n")

    def build(mode: str, file_level: str, folder: str = "") -> tuple[list[dict], list[dict], int]:
        logs = tmp_path / (folder or f"logs-{mode}-{file_level}")
        out = subprocess.run(
            [sys.executable, "-c", _LINES_OF_A_BUILD, mode, file_level, str(logs)],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=True,
        )  # fmt: skip
        *lines, summary = out.stdout.strip().splitlines()
        done = json.loads(summary)
        assert done["success"]
        stdout = [json.loads(line)["info"] for line in lines]
        file = [json.loads(line)["info"] for line in (logs / "dbt.log").read_text().splitlines()]
        return stdout, file, done["made"]

    def names(infos: list[dict]) -> list[str]:
        """The events' names, those of dbt's connection and flushing bookkeeping left out: when
        a connection is opened anew or reused, and whether the last flush is logged, depends on
        how dbt's threads were scheduled (seen under load), not on the loggers."""
        return [info["name"] for info in infos if info["name"] not in _BOOKKEEPING]

    build("stock", "debug", "logs-first")  # parsed: the runs compared read its parse cache alike
    stock_out, stock_file, stock_made = build("stock", "debug")
    out, file, made = build("patched", "debug")
    out_info, file_info, made_info = build("patched", "info")
    assert names(out) == names(out_info) == names(stock_out)
    assert "SQLQuery" not in names(stock_out)  # standard output at `info`
    assert names(file) == names(stock_file)
    assert "SQLQuery" in names(stock_file)  # the file at `debug`: every statement
    at_info = [i for i in stock_file if i["level"] in ("info", "warn", "error")]
    assert names(file_info) == names(at_info)
    # lines made: exactly those written; without it, every debug event's too
    assert made == len(out) + len(file)
    assert made_info == len(out_info) + len(file_info)
    assert stock_made > len(stock_out) + len(stock_file)


def test_a_logger_at_error_still_writes_print_events_and_makes_no_lower_line(monkeypatch):
    """dbt sends a print event (`PrintEvent`, `ShowNode`, `CompiledNode`: what `dbt show` and
    `--quiet` print) as an error whatever its own level, so a logger at `error` writes it; the
    level filter keeps that, and makes no line for an `info` or `debug` event there."""
    import io

    from dbt.adapters.events.types import SQLQuery
    from dbt.events.types import MainReportVersion
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.functions import get_stdout_config
    from dbt_common.events.logger import LineFormat, _JsonLogger
    from dbt_common.events.types import PrintEvent

    from orchestration.dbt_in_warehouse import lines_only_at_their_level

    monkeypatch.setattr(EventManager, "add_logger", EventManager.add_logger)  # put back after
    lines_only_at_their_level()
    made: list[str] = []
    create_line = _JsonLogger.create_line

    def counted(self, msg):
        made.append(msg.info.name)
        return create_line(self, msg)

    monkeypatch.setattr(_JsonLogger, "create_line", counted)
    manager, out = EventManager(), io.StringIO()
    config = get_stdout_config(LineFormat.Json, False, EventLevel.ERROR, False)
    config.output_stream = out
    manager.add_logger(config)
    manager.fire_event(PrintEvent(msg="printed"))  # level info, sent as an error: written
    manager.fire_event(MainReportVersion(version="1", log_version=3))  # info: dropped
    manager.fire_event(SQLQuery(conn_name="c", sql="select 1", node_info={}))  # debug: dropped
    written = [json.loads(line)["info"]["name"] for line in out.getvalue().splitlines()]
    assert written == made == ["PrintEvent"]


def test_a_command_without_its_environment_is_refused_by_name():
    process = dbt_prestart.prestart(dbt_executable(), cwd=Path.cwd())
    output, _ = process.communicate(json.dumps({"args": ["--version"]}).encode() + b"\n", 60)
    assert process.returncode == 1
    assert b"the command lacks ['env', 'cwd']" in output


@pytest.fixture
def patient_release(monkeypatch):
    """`release` waits up to 120 s for the process to end by itself: it reads its input (and sees
    it closed) only after its warm-up (imports, schemas, serializers: ≈ 2.5 s on an idle
    machine), which with a second suite beside this one on 2 cores outran the 10 s a build
    allows (killed: returncode -9, 2026-12-06)."""
    monkeypatch.setattr(dbt_prestart, "RELEASE_TIMEOUT_S", 120.0)


def test_an_unused_prestarted_process_ends_having_run_nothing(patient_release):
    process = dbt_prestart.prestart(dbt_executable(), cwd=Path.cwd())
    dbt_prestart.release(process)
    assert process.returncode == 0  # its input closed: it ended by itself, not killed
    assert process.stdout.closed


_TAKE_A_COMMAND = """
import json, sys, threading
import dbt.cli.main
from disclosure import engine
from orchestration import dbt_in_warehouse

def dbt_cli():  # dbt's command line, here only what the prestarted process holds when it runs
    for thread in threading.enumerate():
        if thread.name == "imw-start-workers":
            thread.join()
    pool = engine._POOLS.get(2)
    print(json.dumps({"args": sys.argv[1:], "workers": len(pool._processes) if pool else 0}))
    sys.exit(0)

dbt.cli.main.cli = dbt_cli
sys.argv = [sys.argv[0], dbt_in_warehouse.PRESTART_FLAG]
dbt_in_warehouse.main()
"""


def test_a_prestarted_command_has_the_disclosure_engines_workers_started_beside_it(tmp_path):
    # the workers' count comes from the environment handed over (2), not the one it started with
    command = {"args": ["build"], "env": {**os.environ, "IMW_DISCLOSURE_WORKERS": "2"}}
    command["cwd"] = str(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", _TAKE_A_COMMAND],
        input=json.dumps(command) + "\n",
        env={**os.environ, "IMW_DISCLOSURE_WORKERS": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"args": ["build"], "workers": 2}


def test_a_process_that_ended_takes_no_command():
    process = dbt_prestart.prestart(dbt_executable(), cwd=Path.cwd())
    process.kill()
    process.wait()
    assert not dbt_prestart.hand_over(process, [dbt_executable(), "--version"], {}, Path.cwd())
    dbt_prestart.release(process)


def run_with_dbt(tmp_path, body) -> dg.ExecuteInProcessResult:
    """A run of one asset that uses the warehouse's dbt resource: `body(dbt)`'s result is the
    asset's value."""

    @dg.asset
    def uses_dbt(dbt: dg.ResourceParam[object]):
        return body(dbt)

    return dg.materialize([uses_dbt], resources={"dbt": dbt_resource()})


def version(dbt, target: Path) -> subprocess.Popen:
    invocation = dbt.cli(["--version"], target_path=target)
    invocation.wait()
    return invocation.process


def test_a_runs_first_dbt_command_goes_to_the_prestarted_process_the_second_to_its_own(tmp_path):
    seen = {}

    def body(dbt):
        seen["prestarted"] = dbt._prestarted
        seen["first"] = version(dbt, tmp_path / "first")
        seen["second"] = version(dbt, tmp_path / "second")
        return 1

    assert run_with_dbt(tmp_path, body).success
    assert seen["first"] is seen["prestarted"]
    assert seen["second"] is not seen["prestarted"]
    assert seen["first"].returncode == seen["second"].returncode == 0


def test_a_run_that_never_calls_dbt_leaves_no_dbt_process(tmp_path):
    seen = {}

    def body(dbt):
        seen["prestarted"] = dbt._prestarted
        return 1

    assert run_with_dbt(tmp_path, body).success
    assert seen["prestarted"].returncode == 0  # released at the run's end: exited by itself


def test_a_command_goes_to_a_process_of_its_own_when_the_prestarted_one_has_died(tmp_path):
    seen = {}

    def body(dbt):
        seen["prestarted"] = prestarted = dbt._prestarted
        prestarted.kill()
        prestarted.wait()
        seen["used"] = version(dbt, tmp_path / "own")
        return 1

    assert run_with_dbt(tmp_path, body).success
    assert seen["used"] is not seen["prestarted"]
    assert seen["used"].returncode == 0


def test_a_command_that_fails_before_it_starts_ends_the_prestarted_process(tmp_path):
    seen = {}

    def body(dbt):
        seen["prestarted"] = dbt._prestarted
        try:
            dbt.cli(["--version"], target_path=tmp_path, no_such_argument=True)
        except TypeError as error:
            seen["error"] = error
        # ended by the failed call itself, not left waiting until the run ends
        seen["code"] = seen["prestarted"].returncode
        return 1

    assert run_with_dbt(tmp_path, body).success
    assert "no_such_argument" in str(seen["error"])
    assert seen["code"] == 0


def test_a_command_that_asks_for_its_output_otherwise_gets_a_process_of_its_own(patient_release):
    process = dbt_prestart.prestart(dbt_executable(), cwd=Path.cwd())
    handing = dbt_prestart._HandingOver(process)
    assert handing.PIPE is subprocess.PIPE  # the rest of `subprocess` as it is
    own = handing.Popen(
        [sys.executable, "-c", "print('own')"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # not merged into stdout, as the prestarted process's is
        env=dict(os.environ),
        cwd=Path.cwd(),
    )
    assert own is not process
    assert own.communicate(timeout=60)[0].strip() == b"own"
    dbt_prestart.release(process)
    assert process.returncode == 0  # never handed a command: ended by itself


# --------------------------------------------------------------------------------------------
# Started early: by `imw build` before its run, taken by the run's dbt resource
# --------------------------------------------------------------------------------------------
def test_a_process_started_early_is_the_one_the_runs_dbt_resource_takes(tmp_path):
    early = dbt_prestart.start_early(dbt_executable(), DBT_PROJECT_DIR)  # the resource's folder
    seen = {}

    def body(dbt):
        seen["prestarted"] = dbt._prestarted
        seen["first"] = version(dbt, tmp_path / "first")
        return 1

    try:
        assert run_with_dbt(tmp_path, body).success
    finally:
        dbt_prestart.release_early(early)
    assert seen["prestarted"] is early  # taken: no second process started with the run
    assert seen["first"] is early  # and the run's first command went to it
    assert early.returncode == 0
    assert dbt_prestart.take_early(dbt_executable(), DBT_PROJECT_DIR) is None  # taken once


def test_a_process_started_early_that_no_run_takes_ends_having_run_nothing(patient_release):
    early = dbt_prestart.start_early(dbt_executable(), Path.cwd())
    dbt_prestart.release_early(early)
    assert early.returncode == 0  # its input closed: it ended by itself, not killed
    assert dbt_prestart.take_early(dbt_executable(), Path.cwd()) is None


def test_a_process_started_early_is_taken_only_for_its_executable_and_folder(
    tmp_path, patient_release
):
    early = dbt_prestart.start_early(dbt_executable(), tmp_path)
    try:
        assert dbt_prestart.take_early(dbt_executable(), tmp_path / "other") is None
        assert dbt_prestart.take_early(sys.executable, tmp_path) is None
        assert early.poll() is None  # still there, for the one it was started for
    finally:
        dbt_prestart.release_early(early)
    assert early.returncode == 0


def test_a_process_started_early_that_has_ended_is_not_taken():
    early = dbt_prestart.start_early(dbt_executable(), Path.cwd())
    early.kill()
    early.wait()
    assert dbt_prestart.take_early(dbt_executable(), Path.cwd()) is None
    assert early.stdout.closed  # released when it was found ended
    dbt_prestart.release_early(early)  # nothing left to do


def test_releasing_an_early_process_a_run_took_leaves_it_to_the_run(patient_release):
    early = dbt_prestart.start_early(dbt_executable(), Path.cwd())
    assert dbt_prestart.take_early(dbt_executable(), Path.cwd()) is early
    dbt_prestart.release_early(early)  # the build's `finally`, after its run
    assert early.poll() is None  # not ended: it is the run's, which releases it at its end
    assert early.stdin is not None and not early.stdin.closed  # still waiting for its command
    dbt_prestart.release(early)
    assert early.returncode == 0


def test_imw_build_starts_its_runs_dbt_process_before_the_run_in_the_runs_environment(
    tmp_path, monkeypatch, patient_release
):
    """`cli.main.run_build` starts the process and hands the run (`_run_locked`, here a
    stand-in that takes it as the dbt resource does) one that is there to be taken, started
    with the build's settings in its environment, as the run's own would have been."""
    settings = Settings.from_env(home=tmp_path / "home", environ={})
    seen = {}

    def run_locked(*args, **kwargs):
        seen["taken"] = dbt_prestart.take_early(dbt_executable(), DBT_PROJECT_DIR)
        return True

    monkeypatch.setattr(cli_main, "_run_locked", run_locked)
    assert cli_main.run_build(settings)
    taken = seen["taken"]
    assert taken is not None and taken.poll() is None  # warming up or waiting: not ended
    environ = dict(
        entry.split("=", 1)
        for entry in Path(f"/proc/{taken.pid}/environ").read_text().split("\0")
        if "=" in entry
    )
    assert environ["IMW_HOME"] == str(settings.home)  # `Settings.env()`, as in the run
    assert environ[BUILD_DB_ENV] == str(settings.build_db)
    dbt_prestart.release(taken)  # the run's resource does this at the run's end
    assert taken.returncode == 0


def test_a_build_that_fails_before_its_run_takes_the_process_ends_it(tmp_path, monkeypatch):
    settings = Settings.from_env(home=tmp_path / "home", environ={})
    seen = []

    def run_locked(*args, **kwargs):
        seen.extend(dbt_prestart._EARLY.values())  # the one started for this build
        raise RuntimeError("the Dagster instance could not be opened")

    monkeypatch.setattr(cli_main, "_run_locked", run_locked)
    monkeypatch.setattr(dbt_prestart, "RELEASE_TIMEOUT_S", 120.0)  # as `patient_release`
    with pytest.raises(RuntimeError, match="could not be opened"):
        cli_main.run_build(settings)
    [early] = seen
    assert early.returncode == 0  # released: ended by itself, nothing left running
    assert not dbt_prestart._EARLY


def python_process(script: str) -> subprocess.Popen:
    """A process as dagster-dbt reads dbt's: its output piped; `ready` on it once it runs."""
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout.readline() == b"ready\n"
    return process


def test_a_dbt_process_nobody_reads_any_more_is_stopped_by_its_interrupt():
    # as dbt does: an interrupt (KeyboardInterrupt) ends it
    process = python_process("import time; print('ready', flush=True); time.sleep(600)")
    started = time.monotonic()
    dbt_prestart.stop(process, timeout=60)
    assert process.returncode not in (None, -signal.SIGKILL)  # ended by itself, not killed
    assert time.monotonic() - started < 30  # by the interrupt, not the timeout
    assert process.stdout.closed


def test_a_process_blocked_writing_to_its_unread_output_still_ends():
    # it fills the pipe nobody reads and blocks there; the pipe is closed, so its write fails
    script = "import sys; print('ready', flush=True)\nwhile True: sys.stdout.write('x' * 4096)"
    process = python_process(script)
    dbt_prestart.stop(process, timeout=60)
    assert process.returncode not in (None, -signal.SIGKILL)


def test_a_process_that_ignores_its_interrupt_is_killed_after_the_timeout():
    script = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "print('ready', flush=True); time.sleep(600)"
    )
    process = python_process(script)
    dbt_prestart.stop(process, timeout=0.5)
    assert process.returncode == -signal.SIGKILL


def test_an_error_while_dbt_is_read_stops_dbt_and_goes_on():
    process = python_process("import time; print('ready', flush=True); time.sleep(600)")
    with (
        pytest.raises(RuntimeError, match="the step's own mistake"),
        dbt_prestart.ended_with(process),
    ):
        raise RuntimeError("the step's own mistake")
    assert process.returncode is not None
    # a block that ends well leaves dbt to dagster-dbt, which waits for it
    process = python_process("import time; print('ready', flush=True); time.sleep(600)")
    with dbt_prestart.ended_with(process):
        pass
    assert process.poll() is None
    dbt_prestart.stop(process)


_WATCHED = """
import os, signal, sys, time
from orchestration.dbt_in_warehouse import end_with_parent
if sys.argv[1] == "deaf":  # a dbt that does not end on its interrupt
    signal.signal(signal.SIGINT, signal.SIG_IGN)
end_with_parent(os.getppid(), poll_s=0.05, grace_s=1.0)
print(os.getpid(), flush=True)
try:
    time.sleep(600)
except KeyboardInterrupt:  # ended by its interrupt, as dbt ends
    open(sys.argv[2], "w").write("interrupted")
    raise
"""
_PARENT = """
import os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", *sys.argv[1:4]], stdout=subprocess.PIPE)
print(child.stdout.readline().decode().strip(), flush=True)
time.sleep(float(sys.argv[4]))  # then gone, as if killed: nobody waits for the child
os._exit(0)
"""


def watched_child(tmp_path: Path, mode: str, parent_lives_s: float):
    """A process watching its parent (`end_with_parent`, 1 s grace), and that parent, which
    ends after `parent_lives_s` without waiting for it; the child's marker file."""
    import psutil

    marker = tmp_path / "interrupted"
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, _WATCHED, mode, str(marker), str(parent_lives_s)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[1],
    )
    return parent, psutil.Process(int(parent.stdout.readline())), marker


@pytest.mark.parametrize(
    ("mode", "interrupted"),
    [
        ("listening", True),  # its interrupt ends it, as it ends dbt
        ("deaf", False),  # it ignores the interrupt: ended outright after the grace
    ],
)
def test_a_prestarted_dbt_whose_build_has_gone_ends(tmp_path, mode, interrupted):
    parent, child, marker = watched_child(tmp_path, mode, 0)
    parent.wait(30)
    child.wait(10)  # raises psutil.TimeoutExpired if it runs on
    assert marker.exists() == interrupted


def test_a_prestarted_dbt_whose_build_is_there_runs_on(tmp_path):
    import psutil

    parent, child, marker = watched_child(tmp_path, "listening", 600)
    try:
        with pytest.raises(psutil.TimeoutExpired):
            child.wait(1.5)  # 30 polls of its parent, and the grace's length: still running
    finally:
        parent.kill()
        parent.wait()
    child.wait(10)  # and once the parent is gone, it ends
    assert marker.exists()


_INTERRUPTED_IN_A_MODEL = """
import queue, signal, sys, threading, time
from disclosure import engine


def dbt_like():  # a Python model on dbt's worker thread, dbt's main thread waiting for it
    results = queue.Queue()

    def model():
        futures = [engine._pool(2).submit(time.sleep, 120) for _ in range(2)]  # 2 minutes' work
        results.put("started")
        try:
            engine._collect(2, futures)
            results.put("finished")
        except engine.EngineStopped as stopped:
            results.put(f"stopped: {stopped}")

    worker = threading.Thread(target=model, daemon=True)
    worker.start()
    assert results.get(timeout=60) == "started"
    time.sleep(0.5)  # the model waits in `_collect`
    target = worker if sys.argv[1] == "worker" else threading.main_thread()
    threading.Timer(0.5, signal.pthread_kill, (target.ident, signal.SIGINT)).start()
    started = time.monotonic()
    told = None
    try:
        told = results.get()  # as dbt's main thread waits for its next finished node
        time.sleep(5)  # the interrupt, seen on the main thread's next instruction
        print("main: not interrupted")
    except KeyboardInterrupt:
        print("main: interrupted")
    print(told or results.get(timeout=60))
    print(f"seconds {time.monotonic() - started:.1f}", flush=True)


if sys.argv[2] == "imw-dbt":  # through the entry point, dbt's command line replaced
    import dbt.cli.main
    from orchestration import dbt_in_warehouse

    dbt.cli.main.cli = dbt_like
    sys.argv = ["imw-dbt", "build"]
    dbt_in_warehouse.main()
else:
    from orchestration.dbt_in_warehouse import stop_engine_on_interrupt

    stop_engine_on_interrupt()
    dbt_like()
"""


@pytest.mark.parametrize(
    ("thread", "way"), [("worker", "alone"), ("main", "alone"), ("worker", "imw-dbt")]
)
def test_an_interrupt_stops_the_engine_under_a_python_model_at_once(thread, way):
    """dbt ends on an interrupt once its running models have ended, and the pattern model waits
    for the disclosure engine's workers. The interrupt is sent to one thread here, as the kernel
    hands a process's signal to any of its threads: sent to dbt's worker thread (where the model
    waits), the main thread slept on until the model had finished — 35.7 s on `bw`
    (2026-12-06), here the workers' two minutes (119.5 s measured with the wake-up taken out).
    `stop_engine_on_interrupt` (installed by `imw-dbt` itself in the third case) stops them at
    once, the model fails with `EngineStopped`, and dbt's main thread is interrupted."""
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_IN_A_MODEL, thread, way],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    lines = done.stdout.splitlines()
    assert lines[:2] == [
        "main: interrupted",
        "stopped: the disclosure engine was stopped: dbt was interrupted (the build was stopped)",
    ], done.stderr
    # the workers' two minutes were not waited for: well under them (1-2 s measured)
    assert float(lines[2].split()[1]) < 30
