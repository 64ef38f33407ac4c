"""A build killed at any point never damages what analysts read, and the next build recovers.

One story on `tiny` synthetic data, told by chained module fixtures (each step needs the one
before; every test can still run alone):

1. `first_build`: a real `imw build` publishes the analyst database and Parquet set (P1).
2. `killed_in_dbt`: new deliveries land; a second build is SIGKILLed, with its whole process group
   (dbt included), while dbt is creating tables in the build database.
3. `killed_in_publish`: `publish()` runs in a child process that is SIGKILLed at two fixed points:
   with the Parquet set half-written, and with both artefacts complete but not yet swapped in.
4. `rebuilt_under_a_reader`: a second process holds a read-only connection to P1 while the next
   `imw build` runs to the end; the build must publish, the reader must keep seeing P1 until it
   reconnects, and nothing the killed runs left behind may survive.

Builds run as `.venv/bin/imw` subprocesses in their own session, exactly as cron would start them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from publish.analyst_db import MANIFEST_NAME, VERSIONS_DIR_NAME

# Several builds per test: run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]

IMW = Path(sys.executable).with_name("imw")
BUILD_TIMEOUT = 600
# A table model finished: dbt is past parsing and is rewriting the build database.
DBT_WRITING = re.compile(r"OK created sql (table|incremental) model")

SNAPSHOT = """
def snapshot(con):
    # publish_id, row counts and a content hash of every table: equal only for the same publish.
    tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
    out = {"publish_id": con.execute("SELECT any_value(publish_id) FROM build_info").fetchone()[0]}
    for t in tables:
        n, h = con.execute(f'SELECT count(*), sum(hash(x)) FROM "{t}" AS x').fetchone()
        out[t] = [n, str(h)]
    return out
"""
_ns: dict = {}
exec(SNAPSHOT, _ns)  # the same function runs in this process and in the reader process
snapshot = _ns["snapshot"]


def published_snapshot(settings: Settings) -> dict:
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        return snapshot(con)


def parquet_state(settings: Settings) -> tuple[str, dict[str, int]]:
    """The manifest's publish_id and the rows of every Parquet file read through the link."""
    parquet = settings.published_dir / "parquet"
    manifest = json.loads((parquet / MANIFEST_NAME).read_text())
    rows = {t["table"]: len(pd.read_parquet(parquet / t["file"])) for t in manifest["tables"]}
    assert rows == {t["table"]: t["rows"] for t in manifest["tables"]}
    return manifest["publish_id"], rows


def temp_leftovers(settings: Settings) -> list[str]:
    folder = settings.published_dir
    return sorted(
        str(p.relative_to(folder))
        for p in [*folder.iterdir(), *(folder / VERSIONS_DIR_NAME).iterdir()]
        if ".tmp" in p.name
    )


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMW_")}
    env[KEY_ENV] = "interruption-key-0123"
    return env


def imw(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(IMW), *args],
        cwd=PROJECT_ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: killing the group kills dbt too
    )


def run_imw(*args: str) -> subprocess.CompletedProcess:
    proc = imw(*args)
    out, _ = proc.communicate(timeout=BUILD_TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group and wait until none of its members is left."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("a process of the killed build survived (would hold the build DB)")


@dataclass
class Home:
    settings: Settings
    p1: dict  # snapshot of the first published database
    p1_parquet: tuple[str, dict[str, int]]


@pytest.fixture(scope="module")
def first_build(tmp_path_factory) -> Home:
    settings = Settings.from_env(home=tmp_path_factory.mktemp("interrupt") / "home", environ={})
    gen = run_imw("generate", "--scale", "tiny", "--out", str(settings.landing), "--seed", "7")
    assert gen.returncode == 0, gen.stdout
    build = run_imw("build", "--home", str(settings.home))
    assert build.returncode == 0, build.stdout
    return Home(settings, published_snapshot(settings), parquet_state(settings))


@dataclass
class KilledInDbt:
    returncode: int
    dbt_finished: bool
    snapshot_after: dict
    parquet_after: tuple[str, dict[str, int]]


@pytest.fixture(scope="module")
def killed_in_dbt(first_build: Home) -> KilledInDbt:
    settings = first_build.settings
    # New deliveries of the same providers; a later stand, so the file names differ.
    gen = run_imw(
        "generate", "--scale", "tiny", "--out", str(settings.landing), "--seed", "8",
        "--stand", "2026-09-30",
    )  # fmt: skip
    assert gen.returncode == 0, gen.stdout
    old_logs = set(settings.logs_dir.glob("build_*.log"))
    proc = imw("build", "--home", str(settings.home))
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT
        log_text = ""
        while not DBT_WRITING.search(log_text):
            assert proc.poll() is None, f"the build ended before dbt began: {proc.stdout.read()}"
            assert time.monotonic() < deadline, "dbt never started writing"
            time.sleep(0.05)
            new_logs = set(settings.logs_dir.glob("build_*.log")) - old_logs
            log_text = new_logs.pop().read_text() if new_logs else ""
    finally:
        kill_group(proc)
    return KilledInDbt(
        returncode=proc.returncode,
        dbt_finished="Finished running" in log_text,
        snapshot_after=published_snapshot(settings),
        parquet_after=parquet_state(settings),
    )


# The child publishes from the build DB and stops for good at a chosen point; both points are
# reached by every publish, so the kill lands there deterministically, without test hooks in
# production code.
PUBLISH_CHILD = """
import os, sys, threading, time
from pathlib import Path
from publish.analyst_db import publish

build_db, published_db, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
real_fsync, real_replace = os.fsync, os.replace
reporting = threading.Lock()

def stop(where):  # the Parquet files are written on several threads: the first one reports,
    with reporting:  # the others wait here (a run printed "parquet_half_written" twice on one line)
        print(where, flush=True)
        time.sleep(600)

def fsync(fd):  # the first fsync follows the first Parquet file: the set is half-written
    if point == "parquet_half_written":
        stop(point)
    real_fsync(fd)

def replace(src, dst):  # the DuckDB swap: both artefacts are complete, nothing is swapped
    if point == "before_swap" and Path(dst) == published_db:
        stop(point)
    real_replace(src, dst)

os.fsync, os.replace = fsync, replace
publish(build_db, published_db)
print("published", flush=True)
"""
KILL_POINTS = ("parquet_half_written", "before_swap")


@dataclass
class KilledInPublish:
    reached: str
    leftovers: list[str]
    snapshot_after: dict
    parquet_after: tuple[str, dict[str, int]]


@pytest.fixture(scope="module")
def killed_in_publish(first_build: Home, killed_in_dbt: KilledInDbt) -> dict[str, KilledInPublish]:
    settings = first_build.settings
    results = {}
    for point in KILL_POINTS:
        proc = subprocess.Popen(
            [sys.executable, "-c", PUBLISH_CHILD, str(settings.build_db),
             str(settings.published_db), point],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        try:
            reached = proc.stdout.readline().strip()
        finally:
            kill_group(proc)
        results[point] = KilledInPublish(
            reached=reached,
            leftovers=temp_leftovers(settings),
            snapshot_after=published_snapshot(settings),
            parquet_after=parquet_state(settings),
        )
    return results


READER = SNAPSHOT + textwrap.dedent("""
    import duckdb, json, sys
    path = sys.argv[1]
    con = duckdb.connect(path, read_only=True)
    print(json.dumps(snapshot(con)), flush=True)
    for command in sys.stdin:
        if command.strip() == "reconnect":
            con.close()
            con = duckdb.connect(path, read_only=True)
        print(json.dumps(snapshot(con)), flush=True)
""")


@dataclass
class Rebuilt:
    returncode: int
    output: str
    seconds: float
    reader_during_build: list[dict]
    reader_after_build: dict
    reader_reconnected: dict
    snapshot_after: dict
    parquet_after: tuple[str, dict[str, int]]
    leftovers: list[str]
    versions: list[str]


@pytest.fixture(scope="module")
def rebuilt_under_a_reader(
    first_build: Home, killed_in_dbt: KilledInDbt, killed_in_publish: dict
) -> Rebuilt:
    settings = first_build.settings
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.published_db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip

    def ask(command: str = "again") -> dict:
        reader.stdin.write(command + "\n")
        reader.stdin.flush()
        return json.loads(reader.stdout.readline())

    try:
        during = [json.loads(reader.stdout.readline())]  # connected before the build starts
        started = time.monotonic()
        build = imw("build", "--home", str(settings.home))
        while build.poll() is None and time.monotonic() - started < BUILD_TIMEOUT:
            during.append(ask())
            time.sleep(2)
        output, _ = build.communicate(timeout=BUILD_TIMEOUT)
        seconds = time.monotonic() - started
        after, reconnected = ask(), ask("reconnect")
    finally:
        kill_group(reader)
    return Rebuilt(
        returncode=build.returncode,
        output=output,
        seconds=seconds,
        reader_during_build=during,
        reader_after_build=after,
        reader_reconnected=reconnected,
        snapshot_after=published_snapshot(settings),
        parquet_after=parquet_state(settings),
        leftovers=temp_leftovers(settings),
        versions=sorted(p.name for p in (settings.published_dir / VERSIONS_DIR_NAME).iterdir()),
    )


# (a) kill during the dbt step


def table_rows(snap: dict) -> dict[str, int]:
    return {t: v[0] for t, v in snap.items() if t not in ("publish_id", "build_info")}


def test_first_build_publishes_both_artefacts_from_one_publish(first_build):
    assert first_build.p1["indicator_values"][0] > 0
    assert first_build.p1_parquet == (first_build.p1["publish_id"], table_rows(first_build.p1))


def test_build_was_killed_while_dbt_was_writing(killed_in_dbt):
    assert killed_in_dbt.returncode == -signal.SIGKILL
    assert not killed_in_dbt.dbt_finished


def test_kill_during_dbt_leaves_the_published_artefacts_intact(first_build, killed_in_dbt):
    assert killed_in_dbt.snapshot_after == first_build.p1, "same publish, rows and content"
    assert killed_in_dbt.parquet_after == first_build.p1_parquet


def test_next_build_after_the_kills_succeeds_and_publishes(first_build, rebuilt_under_a_reader):
    rebuilt = rebuilt_under_a_reader
    assert rebuilt.returncode == 0, rebuilt.output
    assert rebuilt.snapshot_after["publish_id"] != first_build.p1["publish_id"]
    assert rebuilt.parquet_after == (
        rebuilt.snapshot_after["publish_id"],
        table_rows(rebuilt.snapshot_after),
    ), "DuckDB and Parquet come from the same publish"
    with duckdb.connect(str(first_build.settings.published_db), read_only=True) as con:
        loads = con.execute("SELECT DISTINCT latest_load_at_utc FROM build_info").fetchall()
    assert len(loads) == 1 and loads[0][0] is not None


# (b) kill during publish


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_during_publish_leaves_the_published_artefacts_intact(
    first_build, killed_in_publish, point
):
    killed = killed_in_publish[point]
    assert killed.reached == point, "the child must have stopped where the test meant"
    assert killed.snapshot_after == first_build.p1
    assert killed.parquet_after == first_build.p1_parquet
    # It did leave temp files behind — the next publish must remove them.
    assert any(name.startswith(".indicators.duckdb.") for name in killed.leftovers)
    if point == "parquet_half_written":
        assert any(name.startswith(f"{VERSIONS_DIR_NAME}/") for name in killed.leftovers)


def test_next_publish_removes_what_the_killed_ones_left(first_build, rebuilt_under_a_reader):
    rebuilt = rebuilt_under_a_reader
    assert rebuilt.returncode == 0, rebuilt.output
    assert rebuilt.leftovers == []
    # The new set and the one readers may still hold (P1); the killed runs' orphans are gone.
    assert rebuilt.versions == sorted(
        [first_build.p1["publish_id"], rebuilt.snapshot_after["publish_id"]]
    )


# (c) a reader holds the published database during a whole build


def test_reader_sees_the_old_publish_until_it_reconnects(first_build, rebuilt_under_a_reader):
    rebuilt = rebuilt_under_a_reader
    assert rebuilt.returncode == 0, rebuilt.output
    assert len(rebuilt.reader_during_build) >= 3, "the reader must have read during the build"
    for seen in [*rebuilt.reader_during_build, rebuilt.reader_after_build]:
        assert seen == first_build.p1
    assert rebuilt.reader_reconnected == rebuilt.snapshot_after != first_build.p1
