"""Reliability of whole builds (#11): publish gating through Dagster, one build per home, dead
builds on record, a different key refused and re-keying, a full disk.

One `tiny` home built once by a real `imw build` (module fixture); the tests then each disturb it
in their own way. Builds that must be killed run as `.venv/bin/imw` subprocesses in their own
process group, as cron would start them.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest

from cli.main import main
from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from ingest.pseudonymise import fingerprint, warehouse_id
from orchestration.definitions import build_definitions
from orchestration.resources import WarehouseResource
from reports.build_record import read_records
from synthetic import generate

# Several builds per test: run by `make test-long`, outside `make test`.
pytestmark = [pytest.mark.slow, pytest.mark.long]

IMW = Path(sys.executable).with_name("imw")
KEY = "reliability-key-0123456789"
OTHER_KEY = "another-strong-key-9876543210"
TIMEOUT = 900


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def child_env(key: str = KEY) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IMW_")}
    env[KEY_ENV] = key
    return env


def imw(*args: str, key: str = KEY) -> subprocess.Popen:
    return subprocess.Popen(
        [str(IMW), *args], cwd=PROJECT_ROOT, env=child_env(key), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def run_imw(*args: str, key: str = KEY, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    proc = imw(*args, key=key)
    out, _ = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def wait_for(condition, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("reliability")
    settings = Settings.from_env(home=root / "home", environ={})
    generate("tiny", settings.landing, seed=5, truth_path=root / "truth.json")
    build = run_imw("build", "--home", str(settings.home))
    assert build.returncode == 0, build.stdout
    return settings


def deliver_next_day(settings: Settings, extract: str = "kontakte") -> list[str]:
    """Every archived file of one extract again, with the next day's stand: a real new run."""
    names = []
    for path in sorted(settings.archive_dir.rglob(f"{extract}_*")):
        stem, suffix = path.name.rsplit(".", 1)
        name = f"{stem[:-10]}2026-07-01.{suffix}"
        shutil.copyfile(path, settings.landing / name)
        names.append(name)
    return names


# --------------------------------------------------------------------------------------------
# 5. Publishing without the gate
# --------------------------------------------------------------------------------------------
def test_publishing_alone_is_refused_even_with_edited_marts(built, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    before = sha(built.published_db)
    # What the attacker of #11 did: a share of 7.0 edited into the build database.
    with duckdb.connect(str(built.build_db)) as con:
        con.execute(
            "UPDATE published.indicator_values SET value = 7.0 "
            "WHERE indicator_id = 'CM01' AND level = 'LAND' AND NOT suppressed"
        )
    defs = build_definitions(WarehouseResource(home=str(built.home)))
    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.ephemeral() as instance:
        # The UI's Materialize button on `published_indicators`: that asset alone, no gate.
        result = job.execute_in_process(
            instance=instance,
            asset_selection=[dg.AssetKey("published_indicators")],
            raise_on_error=False,
        )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.cause.message
    assert "PublishRefused" in message and "did not check the marts in this run" in message
    assert sha(built.published_db) == before, "nothing reached the analyst database"
    with duckdb.connect(str(built.build_db)) as con:  # undo, for the tests after this one
        con.execute(
            "UPDATE published.indicator_values SET value = numerator / denominator "
            "WHERE indicator_id = 'CM01' AND level = 'LAND' AND NOT suppressed"
        )


# --------------------------------------------------------------------------------------------
# 7. The key is checked and remembered; re-keying on purpose
# --------------------------------------------------------------------------------------------
def test_a_different_key_is_refused_with_exit_2_before_any_work(built):
    deliveries = len(read_records(built))
    out = run_imw("build", "--home", str(built.home), key=OTHER_KEY, timeout=120)
    assert out.returncode == 2, out.stdout
    assert "not the key this warehouse was built with" in out.stdout
    assert "imw rekey" in out.stdout
    assert len(read_records(built)) == deliveries, "no build was started"
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        stored = con.execute("SELECT fingerprint FROM raw.warehouse_key").fetchall()
    # The database keeps the key's fingerprint (an HMAC), never the key itself.
    assert stored == [(fingerprint(KEY.encode()),)]
    assert KEY.encode() not in built.build_db.read_bytes()


def test_a_weak_key_is_refused_with_exit_2(built):
    for weak in ("x", " ", "aaaaaaaaaaaaaaaaaaaaaaaa"):  # too short, blank, one character only
        out = run_imw("build", "--home", str(built.home), key=weak, timeout=120)
        assert out.returncode == 2 and "too weak" in out.stdout, (weak, out.stdout)


# --------------------------------------------------------------------------------------------
# 6 and 2. Two builds at once; a killed build is FAILED ("process died"); rebuild
# --------------------------------------------------------------------------------------------
def test_a_second_build_exits_at_once_and_a_killed_build_is_failed_then_rebuilt(built):
    names = deliver_next_day(built)
    lock = built.home / ".build.lock"
    first = imw("build", "--home", str(built.home))
    try:
        wait_for(lambda: lock.exists() and lock.read_text().startswith("run "), "the lock")
        running = lock.read_text()
        started = time.monotonic()
        second = run_imw("build", "--home", str(built.home), timeout=120)
        assert second.returncode == 1, second.stdout
        assert time.monotonic() - started < 60, "the second build must not wait"
        assert "another build is running" in second.stdout
        assert running.split()[1] in second.stdout, "it names the running build (its run id)"
        # kill -9 in the ingest stage: as soon as the first of the new files is archived.
        wait_for(
            lambda: (
                any((built.archive_dir / n.split("_")[1] / n).exists() for n in names)
                or first.poll() is not None
            ),
            "the ingest to archive a new file",
        )
    finally:
        if first.poll() is None:
            kill_group(first)
    assert first.returncode == -signal.SIGKILL
    run_id = running.split()[1]

    status = run_imw("status", "--home", str(built.home), timeout=120)
    assert status.returncode == 1, status.stdout
    assert "last build:  FAILED" in status.stdout
    assert "process died" in status.stdout

    rebuilt = run_imw("build", "--home", str(built.home))
    assert rebuilt.returncode == 0, rebuilt.stdout
    records = {r.run_id: r for r in read_records(built)}
    assert records[run_id].result == "failed" and "process died" in records[run_id].reason
    assert not any((built.logs_dir / "running").glob("*.json")), "no build left as running"
    assert not list(built.landing.iterdir()), "every delivered file has its verdict"
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        # Each new file exactly once (the killed run's commits were not repeated).
        n = con.execute(
            "SELECT count(*), count(DISTINCT file_name) FROM raw.deliveries "
            "WHERE file_name IN (SELECT unnest(?::VARCHAR[]))",
            [names],
        ).fetchone()
    assert n == (len(names), len(names))


# --------------------------------------------------------------------------------------------
# Full disk (simulated ENOSPC: no tmpfs can be mounted in the test environment)
# --------------------------------------------------------------------------------------------
def test_a_full_disk_ends_with_a_clear_message_and_an_intact_publish(built, monkeypatch, capsys):
    import ingest.load

    monkeypatch.setenv(KEY_ENV, KEY)
    before = sha(built.published_db)
    names = deliver_next_day(built, "ergebnisse")

    def no_space(src, target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(ingest.load, "_move", no_space)
    capsys.readouterr()
    assert main(["build", "--home", str(built.home)]) == 1
    err = capsys.readouterr().err
    assert "the disk is full" in err and "last good published database stays" in err
    assert "Traceback" not in err
    assert sha(built.published_db) == before
    assert read_records(built)[-1].result == "failed"

    # The three files were validated and written together (one transaction) and committed; the
    # first move failed, which stopped the ingest with all three still in landing. With space
    # again, the next ingest only completes their moves — no file is processed (no new verdict)
    # or counted twice.
    monkeypatch.undo()
    from ingest.load import Folders, ingest_landing

    assert sorted(p.name for p in built.landing.iterdir()) == sorted(names)
    folders = Folders.of(built)
    again = ingest_landing(built.build_db, folders, KEY.encode())
    assert again.verdicts == [] and not list(built.landing.iterdir())
    with duckdb.connect(str(built.build_db), read_only=True) as con:
        counts = con.execute(
            "SELECT file_name, count(*) FROM raw.deliveries "
            "WHERE file_name IN (SELECT unnest(?::VARCHAR[])) GROUP BY 1",
            [names],
        ).fetchall()
    assert sorted(counts) == sorted((n, 1) for n in names)


# --------------------------------------------------------------------------------------------
# An error of the warehouse's own code while dbt runs
# --------------------------------------------------------------------------------------------
def is_dbt(process: psutil.Process) -> bool:
    try:
        return "imw-dbt" in " ".join(process.cmdline())
    except psutil.Error:  # ended meanwhile
        return False


def test_an_error_in_the_dbt_step_while_dbt_runs_ends_dbt_before_the_build_fails(
    built, monkeypatch, capsys
):
    """The dbt step reads dbt's events as they come; if its own code raises in between, dbt must
    not run on: it held the build database's lock, so the build's closing summary failed with a
    traceback, and the next build would have found the database taken."""
    import orchestration.assets

    monkeypatch.setenv(KEY_ENV, KEY)
    deliver_next_day(built, "kontakte")
    count = orchestration.assets.DbtCounter.count

    def count_then_fail(self, event):
        count(self, event)
        if self.nodes_done == 3:  # dbt has built 3 models and goes on with the others
            raise RuntimeError("a mistake of the dbt step's own code")

    monkeypatch.setattr(orchestration.assets.DbtCounter, "count", count_then_fail)
    capsys.readouterr()
    assert main(["build", "--home", str(built.home)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    record = read_records(built)[-1]
    assert record.result == "failed" and record.failed_steps == ["warehouse_dbt"]
    assert "a mistake of the dbt step's own code" in record.error
    # no dbt left running, and the build database is free at once
    assert [p for p in psutil.Process().children(recursive=True) if is_dbt(p)] == []
    with duckdb.connect(str(built.build_db)) as con:
        assert con.execute("SELECT count(*) FROM raw.deliveries").fetchall()[0][0] > 0

    monkeypatch.setattr(orchestration.assets.DbtCounter, "count", count)
    assert main(["build", "--home", str(built.home)]) == 0  # the next build goes through
    assert read_records(built)[-1].result == "success"


# --------------------------------------------------------------------------------------------
# 7. imw rekey
# --------------------------------------------------------------------------------------------
def test_rekey_re_pseudonymises_the_raw_layer_from_the_kept_deliveries(built):
    def state(key: str) -> dict:
        with duckdb.connect(str(built.build_db), read_only=True) as con:
            return {
                "verdicts": con.execute(
                    "SELECT verdict, count(*) FROM raw.deliveries GROUP BY 1 ORDER BY 1"
                ).fetchall(),
                "current_contacts": con.execute(
                    "SELECT count(*) FROM raw.kontakte_current"
                ).fetchone()[0],
                "fingerprint": con.execute("SELECT fingerprint FROM raw.warehouse_key").fetchall(),
                "has_p1": con.execute(
                    "SELECT count(*) FROM raw.personen WHERE person_id = ?",
                    [warehouse_id(key.encode(), PERSON[0], PERSON[1])],
                ).fetchone()[0],
            }

    # A person id of the tiny data set as delivered, from the archive.
    first_personen = sorted(built.archive_dir.rglob("personen_*.csv"))[0]
    provider = first_personen.name.split("_")[1]
    person = first_personen.read_text(encoding="utf-8-sig").splitlines()[1].split(";")[0]
    global PERSON
    PERSON = (provider, person)
    before = state(KEY)
    assert before["has_p1"] >= 1

    refused = run_imw("rekey", "--home", str(built.home), key=OTHER_KEY, timeout=120)
    assert refused.returncode == 2 and "--confirm" in refused.stdout
    done = run_imw("rekey", "--confirm", "--home", str(built.home), key=OTHER_KEY)
    assert done.returncode == 0, done.stdout
    after = state(OTHER_KEY)
    # Same deliveries, same verdicts, same current rows — under the new key's pseudonyms.
    assert after["verdicts"] == before["verdicts"]
    assert after["current_contacts"] == before["current_contacts"]
    assert after["fingerprint"] == [(fingerprint(OTHER_KEY.encode()),)]
    assert after["has_p1"] == before["has_p1"]
    assert state(KEY)["has_p1"] == 0, "no pseudonym of the old key is left"
    backups = list(built.warehouse_dir.glob("build.before-rekey-*.duckdb"))
    assert len(backups) == 1
    # The old key is now the wrong one.
    out = run_imw("build", "--home", str(built.home), key=KEY, timeout=120)
    assert out.returncode == 2


PERSON: tuple[str, str] = ("", "")
