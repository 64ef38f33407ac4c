"""Wall time and memory of a subprocess tree, and their split by the build's stages.

`run_sampled` starts a command and samples the summed RSS of it and all its descendants (the
build process and its dbt subprocess) every `interval` seconds from a thread. `attribute` splits
the samples by the step windows of the build record (`$IMW_HOME/logs/builds.jsonl`).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psutil

STAGES = ("ingest", "dbt", "mart_gate", "publish", "other")
STAGE_LABELS = {
    "ingest": "ingest + extract gate",
    "dbt": "dbt",
    "mart_gate": "mart gate",
    "publish": "publish",
    "other": "other steps",
}
RECORD_FILE = Path("logs") / "builds.jsonl"

Sample = tuple[float, int]
"""(epoch seconds, summed RSS in bytes)."""


@dataclass
class ProcessRun:
    returncode: int
    wall_s: float
    started: float
    """Epoch seconds."""
    samples: list[Sample]
    max_single_rss: int
    """The largest peak of any single process of the tree (wait4's ru_maxrss), in bytes."""
    stdout: str = ""
    stderr: str = ""
    loads: list[float] = field(default_factory=list)
    """The machine's 1-minute load average at each sample (other jobs share the machine)."""

    @property
    def peak_rss(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    @property
    def mean_load(self) -> float | None:
        return round(sum(self.loads) / len(self.loads), 2) if self.loads else None


def tree_rss(proc: psutil.Process) -> int:
    """Summed RSS of a process and its descendants; processes that just ended count as 0."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


def run_sampled(
    cmd: Sequence[str],
    env: Mapping[str, str] | None = None,
    interval: float = 0.2,
    cwd: Path | None = None,
    echo: str | None = None,
) -> ProcessRun:
    """Run `cmd` to its end, sampling the RSS of its process tree; output is captured.

    `echo`: also print each line of its stdout and stderr as it comes, behind this prefix (the
    build's own progress lines, so a bench run of several minutes is not silent)."""
    samples: list[Sample] = []
    loads: list[float] = []
    done = threading.Event()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        t0 = time.perf_counter()
        pipe = subprocess.PIPE if echo is not None else None
        popen = subprocess.Popen(
            list(cmd),
            env=dict(env) if env else None,
            cwd=cwd,
            stdout=pipe or out,
            stderr=pipe or err,
        )
        proc = psutil.Process(popen.pid)
        tees = [
            threading.Thread(target=_tee, args=(stream, sink, echo), daemon=True)
            for stream, sink in ((popen.stdout, out), (popen.stderr, err))
            if stream is not None
        ]
        for tee in tees:
            tee.start()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.time(), tree_rss(proc)))
                loads.append(os.getloadavg()[0])
                done.wait(interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        _, status, usage = os.wait4(popen.pid, 0)
        wall = time.perf_counter() - t0
        popen.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        thread.join()
        for tee in tees:
            tee.join()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    return ProcessRun(
        popen.returncode, wall, started, samples, usage.ru_maxrss * 1024, stdout, stderr, loads
    )


def _tee(stream, sink, prefix: str) -> None:
    """Copy `stream` into `sink` line by line, printing each line behind `prefix`."""
    for line in iter(stream.readline, b""):
        sink.write(line)
        print(f"{prefix}{line.decode('utf-8', 'replace').rstrip()}", flush=True)
    stream.close()


# --------------------------------------------------------------------------------------------
# The build record
# --------------------------------------------------------------------------------------------
def read_records(home: Path) -> list[dict]:
    """All build records of a home, oldest first (empty when the build wrote none)."""
    path = home / RECORD_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


@dataclass
class StageFigures:
    wall_s: float = 0.0
    """Length of the union of the stage's step windows."""
    peak_rss: int = 0
    samples: int = 0
    steps: list[str] = field(default_factory=list)


def step_windows(record: Mapping) -> dict[str, list[tuple[float, float]]]:
    """Per stage, the (start, end) epoch windows of its steps."""
    windows: dict[str, list[tuple[float, float]]] = {}
    for step in record.get("steps", []):
        if step.get("started_at") and step.get("finished_at"):  # a skipped step has neither
            windows.setdefault(_stage(step), []).append(
                (epoch(step["started_at"]), epoch(step["finished_at"]))
            )
    return windows


def union_length(windows: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(windows):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def attribute(samples: Sequence[Sample], record: Mapping) -> dict[str, StageFigures]:
    """Wall time and peak RSS per stage: a sample belongs to each stage whose window holds it."""
    windows = step_windows(record)
    figures: dict[str, StageFigures] = {}
    for stage in STAGES:
        if stage not in windows:
            continue
        spans = windows[stage]
        inside = [rss for t, rss in samples if any(a <= t <= b for a, b in spans)]
        figures[stage] = StageFigures(
            wall_s=union_length(spans),
            peak_rss=max(inside, default=0),
            samples=len(inside),
            steps=[
                s["step"] for s in record["steps"] if _stage(s) == stage and s.get("started_at")
            ],
        )
    return figures


def _stage(step: Mapping) -> str:
    return step["stage"] if step["stage"] in STAGES else "other"


def failed_stages(record: Mapping) -> list[str]:
    """Stages of the record's failed steps (or of steps whose status is not a success)."""
    by_step = {s["step"]: _stage(s) for s in record.get("steps", [])}
    failed = list(record.get("failed_steps") or [])
    if not failed:
        failed = [s["step"] for s in record.get("steps", []) if s.get("status") == "failure"]
    stages = [by_step.get(step, "other") for step in failed]
    return list(dict.fromkeys(stages))
