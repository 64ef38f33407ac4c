"""The record of every build: when, how long, which steps, and why it failed.

Every `nightly_build` run — from `imw build`, the schedule, the landing sensor or the UI — ends
with one record, written from the Dagster run history of the warehouse's instance:

    logs/builds.jsonl                     one JSON object per build, appended (`imw status`, bench)
    reports/_betrieb/letzter_build.md     the operator report of the last build (+ .json)

A record is written once per run id: the CLI writes it after its in-process run, the daemon's run
status sensors write it for runs they see end; whoever comes second finds it there and stops.
Failure reasons are Dagster's error messages of the failed steps (file names, rules, counts —
never data values: those stay in the quarantine tables and the delivery reports).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.settings import Settings
from reports.build_guard import PROCESS_DIED, BuildMarker, remove_marker
from reports.operator import OPERATOR_FOLDER

if TYPE_CHECKING:
    import dagster as dg

RECORDS_FILE = "builds.jsonl"
REPORT_NAME = "letzter_build"
SUCCESS, FAILED = "success", "failed"

NOTE_TAG = "imw/note/"
"""Prefix of the run tags a step adds (`add_note`) for what went wrong in it and was mended, e.g.
dbt building nodes again that ran out of memory: the build may succeed, but its operator should
know. The record's `notes` are these tags' values; the Dagster UI shows them on the run ("View
tags and config"). The key names the run, `imw/note/<run id>/<step>`: a run re-executed from
the UI copies its parent's tags (dagster-graphql's `useParentRunTags`, on by default), and the
parent's notes are not the new run's."""

# Dagster step key → stage of the build (the benchmark and `imw status` report per stage).
STAGES = {
    "raw_extracts": "ingest",
    "warehouse_dbt": "dbt",
    "mart_gate": "mart_gate",
    "published_indicators": "publish",
}


def stage_of(step_key: str) -> str:
    """The stage a step belongs to; a check step's key ends with the check's name."""
    for key, stage in STAGES.items():
        if step_key == key or step_key.endswith(f"_{key}"):
            return stage
    return "other"


@dataclass(frozen=True)
class StepRecord:
    step: str
    stage: str
    status: str
    started_at: str | None
    finished_at: str | None
    duration_s: float | None


@dataclass(frozen=True)
class BuildRecord:
    run_id: str
    job: str
    trigger: str
    result: str
    started_at: str
    finished_at: str
    duration_s: float
    failed_steps: list[str] = field(default_factory=list)
    reason: str | None = None
    log: str | None = None
    steps: list[StepRecord] = field(default_factory=list)
    error: str | None = None
    """The root exception of the first failure, `Type: message` (not Dagster's wrapper)."""
    file: str | None = None
    """The delivery file the failure names, if any."""
    notes: list[str] = field(default_factory=list)
    """What went wrong in a step and was mended (`NOTE_TAG`), in the order of the steps' names."""

    @property
    def ok(self) -> bool:
        return self.result == SUCCESS

    def as_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> BuildRecord:
        steps = [StepRecord(**s) for s in data.get("steps", [])]
        return cls(**{**data, "steps": steps})


_DELIVERY_FILE = re.compile(
    r"\b[a-z_]+_08[0-9]{3}(?:[0-9]{3})?_[0-9]{4}-[0-9]{2}-[0-9]{2}\.(?:csv|xlsx)\b"
)
"""A delivery's file name, `<extract>_<AGS>_<stand>.<csv|xlsx>` (contract.spec)."""


_INTERRUPT = "DagsterExecutionInterruptedError"
INTERRUPTED = (
    "interrupted: the build was stopped by a signal (SIGTERM or SIGINT: an operator, Dagster's "
    "run termination or the machine shutting down)"
)


def _interrupted(error) -> bool:
    """Whether Dagster's interrupt is anywhere in `error`'s chain, as cause or as context."""
    seen, todo = 0, [error]
    while todo and seen < 50:
        current = todo.pop()
        if current is None:
            continue
        seen += 1
        if current.cls_name == _INTERRUPT:
            return True
        todo += [current.cause, current.context]
    return False


def root_error(error) -> tuple[str, str | None]:
    """`Type: message` of the innermost exception behind a Dagster error, and the delivery file
    any exception of the chain names.

    Dagster wraps what a step raised ("Error occurred while executing op raw_extracts:"); the
    reason an operator can act on is the cause at the end of the chain of `raise … from`, e.g.
    `MissingKeyError: IMW_PSEUDONYM_KEY is not set …` or DuckDB's lock error naming the holder.
    A build stopped by a signal says so (`INTERRUPTED`) instead of Dagster's class name.
    """
    chain = []
    current = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        # `raise … from` (cause) leads to the reason; an implicit context ("during handling of
        # …") is an earlier, handled error — followed only out of Dagster's own wrappers.
        wrapper = (current.cls_name or "").startswith("Dagster")
        current = current.cause or (current.context if wrapper else None)
    root = chain[-1]
    message = " ".join(root.message.strip().split())
    if root.cls_name:
        # Dagster writes `module.path.Class: message`; the class name is enough.
        message = re.sub(rf"^(?:[\w.]+\.)?{re.escape(root.cls_name)}: ", "", message)
        message = f"{root.cls_name}: {message}"
    if _interrupted(error):
        # Dagster's interrupt says only its own class. What the step ended with on its way out
        # (a timeout waiting for dbt, …) follows the cause.
        message = INTERRUPTED if root.cls_name == _INTERRUPT else f"{INTERRUPTED}; then {message}"
    found = None
    for e in reversed(chain):
        match = _DELIVERY_FILE.search(e.message)
        if match:
            found = match.group(0)
            break
    return message, found


def run_log_dir(instance: dg.DagsterInstance, run_id: str) -> Path | None:
    """Where Dagster keeps a run's captured stdout/stderr (runs the daemon launched)."""
    folder = Path(instance.root_directory) / "storage" / run_id / "compute_logs"
    return folder if folder.is_dir() else None


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()


def trigger_of(tags: dict[str, str]) -> str:
    if "dagster/schedule_name" in tags:
        return f"schedule {tags['dagster/schedule_name']}"
    if "dagster/sensor_name" in tags:
        return f"sensor {tags['dagster/sensor_name']}"
    return tags.get("imw/trigger", "ui")


def add_note(instance: dg.DagsterInstance, run_id: str, step: str, note: str) -> None:
    """Add a step's note to its run (one per step; a second replaces the first)."""
    instance.add_run_tags(run_id, {f"{NOTE_TAG}{run_id}/{step}": note})


def notes_of(tags: dict[str, str], run_id: str) -> list[str]:
    """The run's own notes among its tags, by step name (not those copied from a parent run)."""
    own = f"{NOTE_TAG}{run_id}/"
    return [tags[key] for key in sorted(tags) if key.startswith(own)]


def record_from_run(
    instance: dg.DagsterInstance,
    run_id: str,
    log: Path | None = None,
    fallback_started: datetime | None = None,
) -> BuildRecord:
    """Summarise one finished run from the instance's run history."""
    import dagster as dg

    run = instance.get_run_by_id(run_id)
    if run is None:
        raise ValueError(f"no run {run_id} in the Dagster instance")
    stats = instance.get_run_stats(run_id)
    started = stats.start_time or (fallback_started.timestamp() if fallback_started else None)
    finished = stats.end_time or datetime.now(UTC).timestamp()
    started = started or finished
    steps = [
        StepRecord(
            step=s.step_key,
            stage=stage_of(s.step_key),
            status=s.status.value.lower() if s.status else "unknown",
            started_at=_iso(s.start_time),
            finished_at=_iso(s.end_time),
            duration_s=round(s.end_time - s.start_time, 3) if s.start_time and s.end_time else None,
        )
        for s in sorted(instance.get_run_step_stats(run_id), key=lambda s: s.start_time or 0)
    ]
    failures = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records
    reasons = []
    root, file = None, None
    for rec in failures:
        event = rec.event_log_entry.dagster_event
        error = event.step_failure_data.error if event and event.step_failure_data else None
        message, named = root_error(error) if error else ("failed", None)
        reasons.append(f"{event.step_key}: {message}")
        root, file = root or message, file or named
    if run.status != dg.DagsterRunStatus.SUCCESS and not reasons:
        # A run that failed outside any step (e.g. a resource did not start): the run's failure.
        run_failures = instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
        for rec in run_failures:
            event = rec.event_log_entry.dagster_event
            data = event.event_specific_data if event else None
            error = getattr(data, "error", None)
            if error is not None:
                message, named = root_error(error)
                reasons.append(message)
                root, file = root or message, file or named
        if not reasons:
            reasons.append(f"run ended {run.status.value}")
    # Dagster counts a run whose steps were skipped — a step before them did not yield an output
    # they wait for — as a success. For a build it is not one: what the skipped steps publish
    # was not published.
    skipped = [s.step for s in steps if s.status == "skipped"]
    ok = run.status == dg.DagsterRunStatus.SUCCESS and not skipped
    if skipped and not reasons:
        reasons.append(
            f"step(s) skipped, not run: {', '.join(skipped)} (a step before them did not yield "
            "an output they wait for)"
        )
    if log is None:
        log = run_log_dir(instance, run_id)
    return BuildRecord(
        run_id=run_id,
        job=run.job_name,
        trigger=trigger_of(dict(run.tags)),
        result=SUCCESS if ok else FAILED,
        started_at=_iso(started),
        finished_at=_iso(finished),
        duration_s=round(finished - started, 3),
        failed_steps=[s.step for s in steps if s.status == "failure"] or skipped,
        reason="; ".join(reasons) or None,
        log=str(log) if log else None,
        steps=steps,
        error=root,
        file=file,
        notes=notes_of(dict(run.tags), run_id),
    )


def failed_before_run(
    started: datetime,
    reason: str,
    log: Path | None,
    run_id: str | None = None,
    step: str | None = None,
) -> BuildRecord:
    """A build that never became a Dagster run (e.g. the definitions failed to load)."""
    now = datetime.now(UTC)
    return BuildRecord(
        run_id=run_id or f"no-run-{started:%Y%m%dT%H%M%S}",
        job="nightly_build",
        trigger="cli",
        result=FAILED,
        started_at=started.isoformat(),
        finished_at=now.isoformat(),
        duration_s=round((now - started).total_seconds(), 3),
        failed_steps=[step] if step else [],
        reason=reason,
        log=str(log) if log else None,
        error=reason,
        file=_DELIVERY_FILE.search(reason).group(0) if _DELIVERY_FILE.search(reason) else None,
    )


def died_record(marker: BuildMarker) -> BuildRecord:
    """The record of a build that started (its marker says so) and whose process is gone."""
    now = datetime.now(UTC)
    started = datetime.fromisoformat(marker.started_at)
    return BuildRecord(
        run_id=marker.run_id,
        job="nightly_build",
        trigger=marker.trigger,
        result=FAILED,
        started_at=marker.started_at,
        finished_at=now.isoformat(),
        duration_s=round((now - started).total_seconds(), 3),
        failed_steps=[],
        reason=f"{PROCESS_DIED}: pid {marker.pid} on {marker.host} ended without a result "
        "(killed, out of memory or crashed); nothing was published by this build",
        log=marker.log,
    )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / f".{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def read_records(settings: Settings) -> list[BuildRecord]:
    path = settings.logs_dir / RECORDS_FILE
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [BuildRecord.from_json(json.loads(line)) for line in lines if line.strip()]


def save_record(settings: Settings, record: BuildRecord) -> bool:
    """Append the record and rewrite the operator report; False if the run was recorded already."""
    path = settings.logs_dir / RECORDS_FILE
    with _locked(path):
        if any(r.run_id == record.run_id for r in read_records(settings)):
            remove_marker(settings, record.run_id)
            return False
        with path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record.as_json(), ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        write_build_report(settings, record)
        remove_marker(settings, record.run_id)
    return True


def write_build_report(settings: Settings, record: BuildRecord) -> Path:
    """`reports/_betrieb/letzter_build.md` (+ .json): the last build, and why it failed."""
    folder = settings.reports_dir / OPERATOR_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    verdict = (
        "ERFOLGREICH / SUCCEEDED — published"
        if record.ok
        else "FEHLGESCHLAGEN / FAILED — nothing new was published; the last good database stays"
    )
    lines = [
        "# Letzter Build / Last build",
        "",
        f"- Ergebnis / result: **{verdict}**",
        f"- Start: {record.started_at} — Dauer / duration: {record.duration_s:.0f} s",
        f"- Auslöser / trigger: {record.trigger} — run id `{record.run_id}`",
    ]
    if record.log:
        lines.append(f"- Protokoll / log: `{record.log}`")
    if not record.ok:
        lines += ["", "## Grund / reason", ""]
        lines.append(f"- Schritt / step: `{', '.join(record.failed_steps) or '-'}`")
        lines.append(f"- Ursache / cause: {record.error or record.reason or 'unknown'}")
        if record.file:
            lines.append(f"- Datei / file: `{record.file}`")
        lines += ["", record.reason or "unknown", ""]
        if any(s.stage == "mart_gate" for s in record.steps if s.status == "failure"):
            lines.append("The mart gate blocked publication: see `mart_gate.md` in this folder.")
    if record.notes:
        lines += ["", "## Hinweise / notes", ""]
        lines += [f"- {note}" for note in record.notes]
    lines += ["", "| Schritt / step | stage | status | s |", "|---|---|---|---|"]
    lines += [
        f"| `{s.step}` | {s.stage} | {s.status} | "
        f"{'' if s.duration_s is None else f'{s.duration_s:.1f}'} |"
        for s in record.steps
    ]
    path = folder / f"{REPORT_NAME}.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / f"{REPORT_NAME}.json").write_text(
        json.dumps(record.as_json(), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return path
