"""Wall time, memory and CPU time of a subprocess tree, and their split by the build's stages.

`run_sampled` starts a command and samples the summed RSS of it and all its descendants (the
build process, its dbt subprocess and their workers) every `interval` seconds from a thread, and
the CPU time they have used (`TreeCpu`). `attribute` splits the samples by the step windows of
the build record (`$IMW_HOME/logs/builds.jsonl`).

**Why CPU time.** On a machine of few cores a build's wall time cannot fall below the CPU time
its work needs divided by the cores: a stage that keeps both cores busy (`busy cores` ≈ 2) is
short of cores, not of overlap; one at 1 has a core to spare. The bench reports both, so the
floor of a target is measured, not estimated.
"""

from __future__ import annotations

import contextlib
import itertools
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
CpuSample = tuple[float, float]
"""(epoch seconds, CPU seconds the process tree has used so far)."""


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
    cpu: list[CpuSample] = field(default_factory=list)
    """The tree's CPU time so far at each sample (`TreeCpu`)."""

    @property
    def cpu_s(self) -> float | None:
        return self.cpu[-1][1] if self.cpu else None

    @property
    def peak_rss(self) -> int:
        return max((rss for _, rss in self.samples), default=0)

    @property
    def mean_load(self) -> float | None:
        return round(sum(self.loads) / len(self.loads), 2) if self.loads else None


def tree_members(proc: psutil.Process) -> list[psutil.Process]:
    """A process and its descendants (none when it has ended)."""
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(proc: psutil.Process, members: list[psutil.Process] | None = None) -> int:
    """Summed RSS of a process and its descendants; processes that just ended count as 0."""
    total = 0
    for member in tree_members(proc) if members is None else members:
        with contextlib.suppress(psutil.Error):
            total += member.memory_info().rss
    return total


class TreeCpu:
    """CPU time (user + system) a process tree has used, counted from its members' own times.

    Each process seen is remembered by pid and start time with the last CPU time read of it, and
    the total is the sum over every process ever seen — so the time of one that has ended stays
    counted. A process's own times only, not those of its waited-for children: those children
    are members themselves, and the disclosure engine's workers (children of a fork server that
    nobody waits for) would otherwise be lost when they end. What a process uses after its last
    sample (at most one interval), and a process that lives less than one, is missed."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, float], float] = {}

    def update(self, members: list[psutil.Process]) -> float:
        for member in members:
            with contextlib.suppress(psutil.Error):
                times = member.cpu_times()
                self._seen[(member.pid, member.create_time())] = times.user + times.system
        return sum(self._seen.values())


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
    cpu: list[CpuSample] = []
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

        cpu_tracker = TreeCpu()

        def sample() -> None:
            while not done.is_set():
                members = tree_members(proc)
                now = time.time()
                samples.append((now, tree_rss(proc, members)))
                cpu.append((now, cpu_tracker.update(members)))
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
        popen.returncode,
        wall,
        started,
        samples,
        usage.ru_maxrss * 1024,
        stdout,
        stderr,
        loads,
        cpu,
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
    cpu_s: float | None = None
    """CPU time the tree used in the stage's windows (None without CPU samples)."""

    @property
    def busy_cores(self) -> float | None:
        """Cores busy on average in the stage: its CPU time over its wall time."""
        return self.cpu_s / self.wall_s if self.cpu_s is not None and self.wall_s > 0 else None


def step_windows(record: Mapping) -> dict[str, list[tuple[float, float]]]:
    """Per stage, the (start, end) epoch windows of its steps."""
    windows: dict[str, list[tuple[float, float]]] = {}
    for step in record.get("steps", []):
        if step.get("started_at") and step.get("finished_at"):  # a skipped step has neither
            windows.setdefault(_stage(step), []).append(
                (epoch(step["started_at"]), epoch(step["finished_at"]))
            )
    return windows


def union(windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The windows merged where they overlap, in order."""
    merged: list[tuple[float, float]] = []
    for start, stop in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def union_length(windows: list[tuple[float, float]]) -> float:
    return sum(stop - start for start, stop in union(windows))


def cpu_at(cpu: Sequence[CpuSample], t: float) -> float:
    """The tree's CPU time at `t`, linear between the samples around it (flat outside them)."""
    if not cpu or t <= cpu[0][0]:
        return cpu[0][1] if cpu else 0.0
    for (t0, c0), (t1, c1) in itertools.pairwise(cpu):
        if t <= t1:
            return c0 + (c1 - c0) * (t - t0) / (t1 - t0) if t1 > t0 else c1
    return cpu[-1][1]


def cpu_in(cpu: Sequence[CpuSample], windows: list[tuple[float, float]]) -> float:
    """CPU time the tree used within the windows (each moment counted once)."""
    return sum(cpu_at(cpu, stop) - cpu_at(cpu, start) for start, stop in union(windows))


def attribute(
    samples: Sequence[Sample], record: Mapping, cpu: Sequence[CpuSample] = ()
) -> dict[str, StageFigures]:
    """Wall time, peak RSS and CPU time per stage: a sample belongs to each stage whose window
    holds it; the CPU time is the tree's within the windows (`cpu_in`)."""
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
            cpu_s=cpu_in(cpu, spans) if cpu else None,
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
