"""The benchmark's results: the machine they came from, the Markdown table, the targets."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import psutil

from bench import disclosure_parts
from bench.measure import STAGE_LABELS, STAGES

GB = 1024**3
TARGETS = (
    ("full_wall_s", "full `bw` build ≤ 75 s (2 cores)", 75.0),
    ("peak_rss", "peak memory ≤ 2.5 GB", 2.5 * GB),
    ("correction_wall_s", "incremental build ≤ 25 s: a correction (same stand, R stays)", 25.0),
    ("incremental_wall_s", "incremental build ≤ 25 s: a day later (R moves)", 25.0),
    ("ratio", "full build / floor ≤ 10", 10.0),
)
"""Issue #16's targets (medians of 3 on an idle 2-core machine)."""
FEDERAL_TARGETS = (
    ("generate_peak_rss", "`federal` generate: peak memory ≤ 6 GB, streamed to disk", 6.0 * GB),
    ("full_wall_s", "`federal` full build ≤ 15 min", 15 * 60.0),
    ("peak_rss", "`federal` full build: peak memory ≤ 8 GB", 8.0 * GB),
)
"""Issue #16's targets for ten times `bw`."""


def load_average() -> dict[str, object]:
    """`uptime` and the load averages now (other jobs may share the machine)."""
    try:
        uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    except OSError:
        uptime = ""
    return {"uptime": uptime.strip(), "loadavg": [round(x, 2) for x in os.getloadavg()]}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit(root: Path) -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine(root: Path) -> dict[str, object]:
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "ram_gb": round(psutil.virtual_memory().total / GB, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "duckdb": _version("duckdb"),
        "dbt_core": _version("dbt-core"),
        "dbt_duckdb": _version("dbt-duckdb"),
        "dagster": _version("dagster"),
        "polars": _version("polars"),
        "git_commit": _git_commit(root),
    }


def targets(result: Mapping) -> list[dict[str, object]]:
    """The issue's targets for the scale (`federal`'s, else `bw`'s) with the measured values;
    a target whose figure was not measured in this run (the incremental build of a run
    without one, the generator of a cache made before it was measured) is left out."""
    full, incremental = result["full"], result.get("incremental")
    correction = result.get("correction")
    generation = result.get("generation") or {}
    peaks = [run["whole"]["peak_rss"] for run in (full, correction, incremental) if run]
    # with rounds repeated, the largest peak of any round's build (not the median round's)
    repeated = result.get("repeats") or {}
    peaks += [r["peak_rss"] for label in BUILDS for r in repeated.get(label, ())]
    values = {
        "full_wall_s": full["whole"]["wall_s"],
        "peak_rss": max(peaks),
        "correction_wall_s": correction["whole"]["wall_s"] if correction else None,
        "incremental_wall_s": incremental["whole"]["wall_s"] if incremental else None,
        "ratio": result["ratio_full_to_floor"],
        "generate_peak_rss": generation.get("peak_rss"),
    }
    chosen = FEDERAL_TARGETS if result.get("scale") == "federal" else TARGETS
    return [
        {"target": text, "limit": limit, "value": values[key], "met": values[key] <= limit}
        for key, text, limit in chosen
        if values[key] is not None
    ]


def _s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def _gb(value: int | None) -> str:
    return "–" if not value else f"{value / GB:.2f}"


def _target_value(t: Mapping) -> str:
    value = t["value"]
    if "memory" in t["target"]:
        return f"{value / GB:.2f} GB"
    if "/" in t["target"]:
        return f"{value:.1f}×"
    if "min" in t["target"]:
        return f"{value:,.1f} s ({value / 60:.1f} min)"
    return f"{value:,.1f} s"


def _resources_line(result: Mapping) -> list[str]:
    """The memory limit and threads both builds ran with (`core.resources`); older results
    have none."""
    chosen = result.get("resources")
    if not chosen:
        return []
    return [
        f"DuckDB memory limit {chosen['IMW_MEMORY_LIMIT']} per database, "
        f"{chosen['IMW_THREADS']} threads (`IMW_MEMORY_LIMIT`, `IMW_THREADS`).",
        "",
    ]


def _generation_line(result: Mapping) -> list[str]:
    """How long the generator ran and its peak, as measured when the cache was made."""
    g = result.get("generation") or {}
    if not g.get("wall_s"):
        return []
    how = "this run" if not g.get("cached") else f"when the cache was made ({g['measured_at']})"
    return [
        f"Generated {how}: {_s(g['wall_s'])} s, peak {_gb(g['peak_rss'])} GB "
        f"(process tree; mean 1-min load {g.get('mean_load_1min') or 0:.1f}).",
        "",
    ]


def markdown(result: Mapping) -> str:
    full, floor = result["full"], result["floor"]
    incremental = result.get("incremental")
    redeliveries = [
        (label, run)
        for label, run in (("correction", result.get("correction")), ("incremental", incremental))
        if run
    ]
    runs = [("full", full), *redeliveries]
    data, m = result["data"], result["machine"]
    head = " | ".join(f"{label} build wall s | {label} peak GB" for label, _ in runs)
    lines = [
        f"### `imw build` on `{data['scale']}` (seed {data['seed']}, stand {data['stand']}): "
        f"{data['files']:,} files, {data['rows']:,} rows, {data['bytes'] / 1e6:,.1f} MB",
        "",
        *_generation_line(result),
        *_resources_line(result),
        f"| stage | {head} |",
        "|---|" + "---:|---:|" * len(runs),
    ]

    def cells(values: list[tuple[float | None, int | None]]) -> str:
        return " | ".join(f"{_s(w)} | {_gb(p)}" for w, p in values)

    for stage in STAGES:
        found = [run["stages"].get(stage) for _, run in runs]
        if all(f is None for f in found):
            continue
        figures = [(f and f["wall_s"], f and f["peak_rss"]) for f in found]
        lines.append(f"| {STAGE_LABELS[stage]} | {cells(figures)} |")
    outside = [
        (r["whole"]["outside_steps_wall_s"], r["whole"]["outside_steps_peak_rss"]) for _, r in runs
    ]
    summed = " | ".join(f"{_s(r['stages_wall_s'])} | " for _, r in runs)
    whole = [(r["whole"]["wall_s"], r["whole"]["peak_rss"]) for _, r in runs]
    lines += [
        f"| outside the steps (Python/Dagster start-up, record, summary) | {cells(outside)} |",
        f"| sum of stages | {summed} |",
        f"| whole `imw build` process (incl. start-up) | {cells(whole)} |",
        "",
    ]
    lines += _cpu_lines(runs, m.get("usable_cores"))
    for label, run in redeliveries:
        lines.append(_redelivery_line(label, run))
    if not redeliveries:
        lines.append(
            "No incremental build in this run (`--no-incremental`, the default for `federal`)."
        )
    lines += _repeats_lines(result.get("repeats"))
    lines += [
        f"Floor (plain DuckDB reading the same {floor['files']:,} files into tables, one "
        f"process): {_s(floor['wall_s'])} s, {_gb(floor['peak_rss'])} GB, "
        f"{floor['rows']:,} rows. **Full build / floor: {result['ratio_full_to_floor']:.1f}×**.",
        "",
        _ratio_line(result.get("ratios_to_floor")),
        "",
        "| target | measured | |",
        "|---|---:|---|",
    ]
    lines += [
        f"| {t['target']} | {_target_value(t)} | {'✓' if t['met'] else '✗'} |"
        for t in result["targets"]
    ]
    kept = [
        disclosure_parts.text(label, **run["disclosure"])
        for label, run in runs
        if run.get("disclosure")
    ]
    if any(kept):
        lines += ["", *(line for line in kept if line)]
    # what went wrong in a build and was mended (the build record's notes: dbt's retry, …)
    notes = [(label, note) for label, run in runs for note in run.get("notes") or []]
    if notes:
        lines += ["", "Notes of the build records:", ""]
        lines += [f"- {label} build: {note}" for label, note in notes]
    lines += _node_tables([(label, run.get("dbt_nodes")) for label, run in runs])
    load = result["load"]
    before = [f"before the full build {_load(load['before_full'])}"]
    for label, _ in redeliveries:
        if f"before_{label}" in load:
            before.append(f"before the {label} {_load(load[f'before_{label}'])}")
    singles = " and ".join(
        f"{_gb(run['whole'].get('max_single_process_rss'))} GB ({label})" for label, run in runs
    )
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
        f"{m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, duckdb {m['duckdb']}, "
        f"dbt-core {m['dbt_core']}, dagster {m['dagster']}; commit {m['git_commit']}; "
        f"{result['timestamp']}.",
        f"Load average (1/5/15 min) {', '.join(before)}, "
        f"after {_load(load['after'])}{_mean_loads(runs)}. "
        f"Peak = summed RSS of the build's process tree (the build process, its dbt child and "
        f"their workers: the disclosure engine's, the chart renderer's), sampled every "
        f"{result['sample_interval_s']} s; the largest single process peaked at {singles}. "
        "GB = 2³⁰ bytes.",
    ]
    return "\n".join(lines) + "\n"


def _cpu_lines(runs: list[tuple[str, Mapping]], cores: int | None) -> list[str]:
    """CPU time per stage and the cores it kept busy (CPU s / wall s), and the least wall time
    the full build's CPU time allows on these cores; nothing for results measured before CPU
    time was (no `cpu_s`)."""
    if any(run["whole"].get("cpu_s") is None for _, run in runs):
        return []
    head = " | ".join(f"{label} CPU s | {label} busy cores" for label, _ in runs)

    def cells(figures: list[tuple[float | None, float | None]]) -> str:
        return " | ".join(
            f"{_s(cpu)} | {'' if cpu is None or not wall else f'{cpu / wall:.2f}'}"
            for cpu, wall in figures
        )

    lines = [
        "CPU time of the build's process tree (user + system, every process's own, sampled with "
        "the memory; `bench/measure.py`, `TreeCpu`) and the cores it kept busy on average "
        "(CPU s / wall s):",
        "",
        f"| stage | {head} |",
        "|---|" + "---:|---:|" * len(runs),
    ]
    for stage in STAGES:
        found = [run["stages"].get(stage) for _, run in runs]
        if all(f is None for f in found):
            continue
        figures = [(f.get("cpu_s"), f["wall_s"]) if f else (None, None) for f in found]
        lines.append(f"| {STAGE_LABELS[stage]} | {cells(figures)} |")
    wholes = [r["whole"] for _, r in runs]
    outside = [(w.get("outside_steps_cpu_s"), w["outside_steps_wall_s"]) for w in wholes]
    lines += [
        f"| outside the steps | {cells(outside)} |",
        f"| whole `imw build` process | {cells([(w['cpu_s'], w['wall_s']) for w in wholes])} |",
        "",
    ]
    if cores:
        cpu_s = wholes[0]["cpu_s"]
        lines += [
            f"The full build's work took {_s(cpu_s)} CPU-seconds: on {cores} cores no schedule "
            f"of that work ends in less than {_s(cpu_s / cores)} s, so a wall time below that "
            "needs less work, not more overlap.",
            "",
        ]
    return lines


BUILDS = ("full", "correction", "incremental")
_REPEATED = {
    "floor": "floor",
    "full": "full build",
    "correction": "correction",
    "incremental": "next day's delivery",
}


def _repeats_lines(repeats: Mapping | None) -> list[str]:
    """Every round's wall time (and peak) when rounds were repeated: the tables show the median
    round's run of each."""
    if not repeats or all(len(runs) < 2 for runs in repeats.values()):
        return []
    parts = [
        f"{_REPEATED.get(label, label)} "
        + " / ".join(f"{r['wall_s']:,.1f}" for r in runs)
        + " s (peak "
        + " / ".join(_gb(r["peak_rss"]) for r in runs)
        + " GB)"
        for label, runs in repeats.items()
    ]
    rounds = max(len(runs) for runs in repeats.values())
    return [
        f"Median of {rounds} rounds (each: the floor, a full build on an empty home, then the "
        "re-deliveries on that home); the tables show each figure's median run, the peak "
        "target the largest of all rounds. Every round, in order: " + "; ".join(parts) + ".",
        "",
    ]


def _ratio_line(ratios: Mapping | None) -> str:
    if not ratios:
        return ""

    def r(key: str) -> str:
        return "–" if ratios.get(key) is None else f"{ratios[key]:.1f}×"

    text = f"Each figure over the floor's: full build wall {r('full_wall')}, peak {r('full_peak')}"
    if "correction_wall" in ratios:
        text += f"; correction wall {r('correction_wall')}, peak {r('correction_peak')}"
    if "incremental_wall" in ratios:
        text += f"; incremental wall {r('incremental_wall')}, peak {r('incremental_peak')}"
    return text + "."


def _redelivery_line(label: str, run: Mapping) -> str:
    what = "Correction" if label == "correction" else "Incremental"
    line = (
        f"{what}: provider {run['provider']} re-delivered all {len(run['files'])} extracts "
        f"(stand {run['stand']}), all accepted"
    )
    by = run.get("dbt_by_provider")
    if by:
        line += f"; dbt rebuilt the rows of {by['rebuilt']} of {by['providers']} providers"
        if "own" in by:
            line += f", of {by['own']} in the models built by their own inputs"
            if by["periods"]:
                line += f" and of every provider those of {', '.join(by['periods'])} in the models"
                line += " built by provider and period"
    return line + "."


def _node_tables(builds: list[tuple[str, Mapping | None]]) -> list[str]:
    """The slowest dbt models and tests of each build (`bench.dbt_nodes`)."""
    lines: list[str] = []
    for label, nodes in builds:
        if not nodes:
            continue
        lines += [
            "",
            f"dbt in the {label} build: {nodes['elapsed_s']:,.1f} s elapsed; "
            f"{nodes['models']['nodes']} models and seeds ({nodes['models']['seconds']:,.1f} s "
            f"summed), {nodes['tests']['nodes']} tests ({nodes['tests']['seconds']:,.1f} s).",
            "",
            "| slowest models | s | slowest tests | s |",
            "|---|---:|---|---:|",
        ]
        models, tests = nodes["models"]["top"], nodes["tests"]["top"]
        for i in range(max(len(models), len(tests))):
            m = models[i] if i < len(models) else None
            t = tests[i] if i < len(tests) else None
            lines.append(
                f"| {m['node'] if m else ''} | {_s(m and m['seconds'])} "
                f"| {t['node'] if t else ''} | {_s(t and t['seconds'])} |"
            )
    return lines


def _mean_loads(runs: list[tuple[str, Mapping]]) -> str:
    means = [(label, run["whole"].get("mean_load_1min")) for label, run in runs]
    if any(m is None for _, m in means):
        return ""
    return "; mean 1-min load during the " + ", ".join(
        f"{label} build {m:.1f}" for label, m in means
    )


def _load(load: Mapping) -> str:
    return " / ".join(f"{x:.2f}" for x in load["loadavg"])
