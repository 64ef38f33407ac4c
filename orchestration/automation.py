"""What starts runs without a person: the nightly schedule, the landing sensor, the freshness
schedule, and the sensors that write each build's record. Wiring only: the decisions live in
`ingest.landing_watch` and `reports.build_record`.

All are switched on by default, so `make ui` (webserver + daemon) runs them; turn one off in the
UI's Automation tab.
"""

import os
import socket
import time

import dagster as dg

from ingest.landing_watch import Attempt, decide, retry_decision
from orchestration.resources import WarehouseResource
from reports.build_guard import is_locked
from reports.build_record import read_records, record_from_run, save_record

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Europe/Berlin"
LANDING_POLL_SECONDS = 30
ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _process_gone(run: dg.DagsterRun) -> bool:
    """An in-process run of `imw build` whose process no longer exists on this host."""
    pid, host = run.tags.get("imw/pid"), run.tags.get("imw/host")
    if pid is None or host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # exists, owned by someone else
        return False
    return False


def active_runs(instance: dg.DagsterInstance, job_name: str) -> list[dg.DagsterRun]:
    """Queued or running runs of the job. A killed `imw build` leaves its run STARTED for ever
    (no launcher watches in-process runs): such runs are marked failed here instead."""
    runs = [
        r.dagster_run
        for r in instance.get_run_records(
            dg.RunsFilter(job_name=job_name, statuses=ACTIVE_STATUSES)
        )
    ]
    for run in [r for r in runs if _process_gone(r)]:
        instance.report_run_failed(run, "the imw build process is gone (killed or crashed)")
    return [r for r in runs if not _process_gone(r)]


def nightly_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="nightly_build_schedule",
        job=job,
        cron_schedule=NIGHTLY_CRON,
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        tags={"imw/trigger": "schedule"},
        description="The nightly build at 02:00 Berlin time (CET/CEST).",
    )


def freshness_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="freshness_check_schedule",
        job=job,
        cron_schedule="15 * * * *",
        execution_timezone=TIMEZONE,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Hourly: are the published indicators younger than 36 hours?",
    )


FILESET_TAG = "imw/fileset"


def fileset_attempts(
    instance: dg.DagsterInstance, warehouse: WarehouseResource, job_name: str, fileset: str
) -> list[Attempt]:
    """Earlier runs of the job for this set of landing files, with their build records' cause
    and file (a run whose record is not written yet counts as failed without a cause)."""
    runs = instance.get_run_records(dg.RunsFilter(job_name=job_name, tags={FILESET_TAG: fileset}))
    if not runs:
        return []
    records = {r.run_id: r for r in read_records(warehouse.settings())}
    attempts = []
    for run in runs:
        status = run.dagster_run.status
        record = records.get(run.dagster_run.run_id)
        ended = run.end_time or (run.update_timestamp.timestamp() if run.update_timestamp else None)
        attempts.append(
            Attempt(
                run_id=run.dagster_run.run_id,
                ok=None if status in ACTIVE_STATUSES else status == dg.DagsterRunStatus.SUCCESS,
                ended_at=ended,
                error=record.error or record.reason if record else None,
                file=record.file if record else None,
            )
        )
    return attempts


def landing_sensor(job) -> dg.SensorDefinition:
    job_name = job.name

    @dg.sensor(
        name="landing_sensor",
        job=job,
        minimum_interval_seconds=LANDING_POLL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="New or changed files in the landing folder start a build once they have "
        "stopped growing; run key = the set of file hashes, so the same files never trigger "
        "twice. A build that failed for a reason outside the files (no key, a lock, a crash) "
        "is retried up to 3 times (after 1, 5, 30 min); one that failed on a file waits until "
        "the file changes.",
    )
    def _sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        decision = decide(warehouse.settings().landing, context.cursor)
        if decision.run_key is None:
            return dg.SensorResult(skip_reason=decision.reason, cursor=decision.cursor)
        holder = is_locked(warehouse.settings())
        if holder:
            # e.g. an `imw build` from the command line, which is no queued run of the daemon.
            return dg.SensorResult(
                skip_reason=f"a build is running ({holder}); it will take the landing files",
                cursor=decision.cursor,
            )
        running = active_runs(context.instance, job_name)
        if running:
            # That build takes whatever is in landing; files it leaves behind trigger later.
            return dg.SensorResult(
                skip_reason=f"a {job_name} run is queued or running "
                f"({running[0].run_id}); it will take the landing files",
                cursor=decision.cursor,
            )
        attempts = fileset_attempts(context.instance, warehouse, job_name, decision.run_key)
        retry = retry_decision(decision.run_key, decision.files, attempts, time.time())
        context.log.info(retry.reason)
        if retry.run_key is None:
            return dg.SensorResult(skip_reason=retry.reason, cursor=decision.cursor)
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(
                    run_key=retry.run_key,
                    tags={
                        "imw/trigger": "landing sensor",
                        "imw/files": str(len(decision.files)),
                        FILESET_TAG: decision.run_key,
                        "imw/attempt": str(retry.attempt),
                    },
                )
            ],
            cursor=decision.cursor,
        )

    return _sensor


def build_record_sensors(job) -> list[dg.SensorDefinition]:
    """Write the build record of every run of the job that ends, however it was started."""

    def record(context: dg.RunStatusSensorContext, warehouse: WarehouseResource) -> None:
        run = context.dagster_run
        saved = save_record(warehouse.settings(), record_from_run(context.instance, run.run_id))
        context.log.info(f"build record of {run.run_id}: {'written' if saved else 'already there'}")

    @dg.run_status_sensor(
        name="build_record_on_success",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def on_success(context: dg.RunStatusSensorContext, warehouse: WarehouseResource):
        record(context, warehouse)

    @dg.run_failure_sensor(
        name="build_record_on_failure",
        monitored_jobs=[job],
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def on_failure(context: dg.RunFailureSensorContext, warehouse: WarehouseResource):
        record(context, warehouse)

    return [on_success, on_failure]
