"""kill -9 at each stage of a build, then rebuild: the values equal those of an undisturbed build,
and every dead run is FAILED ("process died") in `imw status` and in the build records (#11).

The stages are reached by watching what a build leaves behind (no test hooks in production
code): ingest — the first delivered file moved to the archive; dbt — dbt reports a created
table in the build log; mart gate — dbt has finished ("Finished running"). Killing publish itself
at its two critical points is `test_build_interruption.py` (a child process stopped exactly
there). Builds run as `.venv/bin/imw` subprocesses in their own process group (dbt included).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from reports.build_record import read_records
from synthetic import generate

# Several builds per test: run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]

IMW = Path(sys.executable).with_name("imw")
KEY = "kill-every-stage-key-0123"
TIMEOUT = 900
DBT_WRITING = re.compile(r"OK created sql (table|incremental) model")
DBT_FINISHED = re.compile(r"Finished running")


def imw(*args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMW_")}
    env[KEY_ENV] = KEY
    return subprocess.Popen(
        [str(IMW), *args], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def run_imw(*args: str) -> subprocess.CompletedProcess:
    proc = imw(*args)
    out, _ = proc.communicate(timeout=TIMEOUT)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def kill_when(settings: Settings, reached) -> int:
    """Start a build, SIGKILL its whole process group once `reached(log_text)` holds."""
    old_logs = set(settings.logs_dir.glob("build_*.log"))
    proc = imw("build", "--home", str(settings.home))
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            assert proc.poll() is None, f"the build ended before the stage: {proc.stdout.read()}"
            assert time.monotonic() < deadline, "the stage was never reached"
            new_logs = set(settings.logs_dir.glob("build_*.log")) - old_logs
            text = new_logs.pop().read_text(errors="replace") if new_logs else ""
            if reached(text):
                break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    return proc.returncode


def indicator_values(settings: Settings) -> list[tuple]:
    with duckdb.connect(str(settings.published_db), read_only=True) as con:
        # Sums of floats (case-days, FTE) differ in the last bit between two runs of the same
        # data (DuckDB adds in parallel, in no fixed order): compared to 9 significant digits.
        return con.execute(
            "SELECT indicator_id, period, level, unit_code, "
            "round(numerator, 9 - ceil(log10(greatest(abs(numerator), 1e-9)))::int), "
            "round(denominator, 9 - ceil(log10(greatest(abs(denominator), 1e-9)))::int), "
            "round(value, 9 - ceil(log10(greatest(abs(value), 1e-9)))::int), "
            "base_n, suppressed FROM indicator_values ORDER BY ALL"
        ).fetchall()


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> tuple[Settings, Settings]:
    root = tmp_path_factory.mktemp("kill-every-stage")
    disturbed = Settings.from_env(home=root / "disturbed", environ={})
    undisturbed = Settings.from_env(home=root / "undisturbed", environ={})
    for s in (disturbed, undisturbed):
        generate("tiny", s.landing, seed=9, truth_path=root / "truth.json")
    return disturbed, undisturbed


def test_killed_at_every_stage_then_rebuilt_equals_an_undisturbed_build(homes):
    disturbed, undisturbed = homes
    delivered = {p.name for p in disturbed.landing.iterdir()}

    def first_file_archived(_log: str) -> bool:
        return any(p.is_file() for p in disturbed.archive_dir.rglob("*"))

    stages = {
        "ingest": first_file_archived,
        "dbt": lambda log: DBT_WRITING.search(log) is not None,
        "mart_gate": lambda log: DBT_FINISHED.search(log) is not None,
    }
    dead = []
    for stage, reached in stages.items():
        assert kill_when(disturbed, reached) == -signal.SIGKILL, stage
        status = run_imw("status", "--home", str(disturbed.home))
        assert status.returncode == 1, (stage, status.stdout)
        assert "last build:  FAILED" in status.stdout and "process died" in status.stdout, stage
        dead.append(stage)
        assert not disturbed.published_db.exists(), "a killed build published nothing"

    rebuilt = run_imw("build", "--home", str(disturbed.home))
    assert rebuilt.returncode == 0, rebuilt.stdout
    reference = run_imw("build", "--home", str(undisturbed.home))
    assert reference.returncode == 0, reference.stdout

    assert indicator_values(disturbed) == indicator_values(undisturbed)
    records = read_records(disturbed)
    # Three dead builds, each recorded FAILED with "process died", then the good one.
    assert [r.result for r in records] == ["failed", "failed", "failed", "success"]
    assert all("process died" in r.reason for r in records[:3])
    assert not list((disturbed.logs_dir / "running").glob("*.json"))
    with duckdb.connect(str(disturbed.build_db), read_only=True) as con:
        names = con.execute(
            "SELECT file_name, count(*) FROM raw.deliveries GROUP BY 1 ORDER BY 1"
        ).fetchall()
    # Every delivered file processed exactly once across the kills.
    assert {n for n, _ in names} == delivered and {c for _, c in names} == {1}
    status = run_imw("status", "--home", str(disturbed.home))
    assert status.returncode == 0, status.stdout
