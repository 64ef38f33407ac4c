"""Operations: the landing sensor's logic, the schedules, the freshness check and `imw status`.

Fast tests on hand-made folders and databases; the status after real builds (one that succeeds,
one the mart gate stops) is asserted in test_build_end_to_end.py and
test_mart_gate_blocks_publish.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from cli.main import main
from core.settings import Settings
from ingest.landing_watch import decide, run_key_of, sha256_of
from orchestration.automation import landing_sensor, nightly_schedule
from orchestration.checks import published_freshness
from orchestration.definitions import NIGHTLY_BUILD, build_definitions
from orchestration.resources import WarehouseResource
from reports.build_record import (
    BuildRecord,
    StepRecord,
    add_note,
    notes_of,
    read_records,
    record_from_run,
    save_record,
    stage_of,
)
from reports.status import status_report

FILE_A = "faelle_08115003_2026-06-30.csv"
FILE_B = "kontakte_08115003_2026-06-30.csv"


def write(path: Path, text: str, mtime: int = 1_700_000_000) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime * 10**9, mtime * 10**9))


# --------------------------------------------------------------------------------------------
# landing sensor logic
# --------------------------------------------------------------------------------------------
def test_a_file_triggers_only_after_it_stopped_changing_and_only_once(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    assert decide(landing, None).reason == "landing folder is empty"

    write(landing / FILE_A, "fall_id;person_id\n")
    first = decide(landing, None)
    assert first.run_key is None and "waiting for 1 of 1" in first.reason

    # The upload goes on between two looks: still waiting.
    write(landing / FILE_A, "fall_id;person_id\nF1;P1\n", mtime=1_700_000_010)
    growing = decide(landing, first.cursor)
    assert growing.run_key is None and FILE_A in growing.reason

    settled = decide(landing, growing.cursor)
    assert settled.run_key == run_key_of({FILE_A: sha256_of(landing / FILE_A)})
    assert settled.files == (FILE_A,)
    # Nothing changed: the same key again, which Dagster will not run twice.
    assert decide(landing, settled.cursor).run_key == settled.run_key


def test_a_new_file_makes_a_new_key_once_it_has_settled(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / FILE_A, "a\n")
    key_a = decide(landing, decide(landing, None).cursor)
    write(landing / FILE_B, "b\n")
    waiting = decide(landing, key_a.cursor)
    assert waiting.run_key is None and "waiting for 1 of 2" in waiting.reason
    both = decide(landing, waiting.cursor)
    assert both.run_key not in (None, key_a.run_key)
    assert both.files == (FILE_A, FILE_B)


def test_partial_and_hidden_files_are_not_watched_and_hashes_are_computed_once(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / FILE_A, "a\n")
    write(landing / (FILE_B + ".part"), "upload in progress")  # skipped by the ingest too
    write(landing / ".DS_Store", "x")  # hidden
    calls = []

    def counting_hash(path: Path) -> str:
        calls.append(path.name)
        return sha256_of(path)

    cursor = decide(landing, None, counting_hash).cursor
    for _ in range(3):
        decision = decide(landing, cursor, counting_hash)
        cursor = decision.cursor
    assert decision.files == (FILE_A,)
    assert calls == [FILE_A], "hashed once, when it settled; then taken from the cursor"


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_definitions()


def sensor_context(tmp_path: Path, cursor: str | None, instance=None):
    warehouse = WarehouseResource(home=str(tmp_path / "home"), landing=str(tmp_path / "landing"))
    return dg.build_sensor_context(
        instance=instance or dg.DagsterInstance.ephemeral(),
        cursor=cursor,
        resources={"warehouse": warehouse},
    )


def test_landing_sensor_requests_a_nightly_build_with_the_hash_set_as_run_key(tmp_path, defs):
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / FILE_A, "a\n")
    sensor = landing_sensor(defs.resolve_job_def(NIGHTLY_BUILD))

    first = sensor(sensor_context(tmp_path, None))
    assert not first.run_requests and "waiting" in first.skip_reason.skip_message

    second = sensor(sensor_context(tmp_path, first.cursor))
    (request,) = second.run_requests
    assert request.run_key == run_key_of({FILE_A: sha256_of(landing / FILE_A)})
    assert request.tags["imw/trigger"] == "landing sensor"


def test_landing_sensor_waits_while_a_build_is_running(tmp_path, defs):
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / FILE_A, "a\n")
    sensor = landing_sensor(defs.resolve_job_def(NIGHTLY_BUILD))
    with dg.DagsterInstance.ephemeral() as instance:
        running = dg.DagsterRun(NIGHTLY_BUILD, "running-build", status=dg.DagsterRunStatus.STARTED)
        instance.add_run(running)
        first = sensor(sensor_context(tmp_path, None, instance))
        result = sensor(sensor_context(tmp_path, first.cursor, instance))
    assert not result.run_requests
    assert "running-build" in result.skip_reason.skip_message


def test_a_killed_imw_build_does_not_block_the_sensor_for_ever(tmp_path, defs):
    landing = tmp_path / "landing"
    landing.mkdir()
    write(landing / FILE_A, "a\n")
    sensor = landing_sensor(defs.resolve_job_def(NIGHTLY_BUILD))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer exists
    tags = {"imw/pid": str(dead.pid), "imw/host": socket.gethostname()}
    with dg.DagsterInstance.ephemeral() as instance:
        killed = dg.DagsterRun(
            NIGHTLY_BUILD, "killed", status=dg.DagsterRunStatus.STARTED, tags=tags
        )
        instance.add_run(killed)
        first = sensor(sensor_context(tmp_path, None, instance))
        result = sensor(sensor_context(tmp_path, first.cursor, instance))
        assert instance.get_run_by_id("killed").status == dg.DagsterRunStatus.FAILURE
    assert len(result.run_requests) == 1


# --------------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------------
def test_nightly_schedule_runs_the_nightly_build_at_two_in_berlin(defs):
    schedule = defs.resolve_schedule_def("nightly_build_schedule")
    assert schedule.job_name == NIGHTLY_BUILD
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    with dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 26, 1, tzinfo=UTC)
        )
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.tags["imw/trigger"] == "schedule"


def test_schedule_factory_is_what_the_definitions_use(defs):
    job = defs.resolve_job_def(NIGHTLY_BUILD)
    assert nightly_schedule(job).name == "nightly_build_schedule"


# --------------------------------------------------------------------------------------------
# freshness and status
# --------------------------------------------------------------------------------------------
def fake_published(settings: Settings, published_at: datetime) -> None:
    settings.published_dir.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_db)) as con:
        con.execute(
            "CREATE TABLE build_info (table_name VARCHAR, row_count BIGINT, publish_id VARCHAR, "
            "published_at_utc TIMESTAMP, latest_load_at_utc TIMESTAMP)"
        )
        con.execute(
            "INSERT INTO build_info VALUES ('indicator_values', 8910, 'p1', ?, NULL)",
            [published_at.replace(tzinfo=None)],
        )


@pytest.mark.parametrize(("hours", "fresh"), [(1, True), (35.9, True), (36.1, False)])
def test_freshness_check_flags_published_data_older_than_36_hours(settings, hours, fresh):
    fake_published(settings, datetime.now(UTC) - timedelta(hours=hours))
    result = published_freshness(warehouse=WarehouseResource(home=str(settings.home)))
    assert result.passed is fresh
    assert result.metadata["limit_hours"].value == 36


def test_freshness_check_fails_when_nothing_was_published(settings):
    result = published_freshness(warehouse=WarehouseResource(home=str(settings.home)))
    assert not result.passed and "nothing published" in result.description


def record(result: str, started: str, reason: str | None = None) -> BuildRecord:
    return BuildRecord(
        run_id=f"run-{started}", job=NIGHTLY_BUILD, trigger="cli", result=result,
        started_at=f"{started}+00:00", finished_at=f"{started}+00:00", duration_s=61.0,
        failed_steps=["warehouse_dbt"] if reason else [], reason=reason,
        steps=[StepRecord("warehouse_dbt", "dbt", "failure" if reason else "success",
                          None, None, 60.0)],
    )  # fmt: skip


def test_status_reports_a_failed_build_and_stale_data_and_exits_1(settings, capsys):
    fake_published(settings, datetime.now(UTC) - timedelta(hours=50))
    save_record(settings, record("success", "2026-11-22T02:00:00"))
    save_record(settings, record("failed", "2026-11-23T02:00:00", "warehouse_dbt: dbt failed"))

    assert main(["status", "--home", str(settings.home)]) == 1
    out = capsys.readouterr().out
    assert "last build:  FAILED" in out and "reason: warehouse_dbt: dbt failed" in out
    assert "last successful build: 2026-11-22T02:00:00" in out
    assert "STALE (older than 36 h)" in out
    report = (settings.reports_dir / "_betrieb" / "letzter_build.md").read_text()
    assert "FEHLGESCHLAGEN" in report and "dbt failed" in report


def test_status_is_healthy_after_a_successful_build_with_fresh_data(settings):
    fake_published(settings, datetime.now(UTC) - timedelta(hours=2))
    save_record(settings, record("success", "2026-11-24T02:00:00"))
    text, healthy = status_report(settings)
    assert healthy, text
    assert "last build:  SUCCESS" in text and "indicator_values" in text and "fresh" in text


def test_a_build_is_recorded_once_whoever_writes_it_first(settings):
    assert save_record(settings, record("success", "2026-11-24T02:00:00"))
    assert not save_record(settings, record("success", "2026-11-24T02:00:00"))
    lines = (settings.logs_dir / "builds.jsonl").read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == ["run-2026-11-24T02:00:00"]


def test_a_note_of_a_step_reaches_the_record_and_a_line_without_notes_still_reads(settings):
    instance = dg.DagsterInstance.ephemeral()
    run = instance.create_run_for_job(dg.GraphDefinition(name="nightly_build").to_job())
    # two steps' notes (in the order of their names), and one step's second note replaces its
    # first; another tag is no note
    add_note(instance, run.run_id, "warehouse_dbt", "first")
    add_note(instance, run.run_id, "warehouse_dbt", "dbt built 2 nodes again")
    add_note(instance, run.run_id, "raw_extracts", "read again")
    instance.add_run_tags(run.run_id, {"imw/trigger": "cli"})
    # the note of the run this one re-executes, whose tags the UI's re-execution copies: not
    # this run's
    instance.add_run_tags(run.run_id, {"imw/note/parent-run-id/warehouse_dbt": "the parent's"})
    tags = dict(instance.get_run_by_id(run.run_id).tags)
    assert notes_of(tags, run.run_id) == ["read again", "dbt built 2 nodes again"]
    # the record written from the run history carries them
    assert record_from_run(instance, run.run_id).notes == ["read again", "dbt built 2 nodes again"]
    # a record written before there were notes has none
    line = record("success", "2026-11-24T02:00:00").as_json()
    del line["notes"]
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    (settings.logs_dir / "builds.jsonl").write_text(json.dumps(line) + "\n")
    assert read_records(settings)[0].notes == []
    text, _ = status_report(settings)
    assert "note:" not in text


def test_status_without_any_build(settings):
    text, healthy = status_report(settings)
    assert not healthy and "none recorded yet" in text and "nothing yet" in text


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        ("raw_extracts", "ingest"),
        ("warehouse_dbt", "dbt"),
        ("published__pub_indicator_values_mart_gate", "mart_gate"),
        ("published_indicators", "publish"),
        ("published_indicators_published_freshness", "other"),
    ],
)
def test_steps_map_to_the_stages_of_the_build(step, stage):
    assert stage_of(step) == stage
