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
    ("incremental_wall_s", "incremental build ≤ 25 s", 25.0),
    ("ratio", "full build / floor ≤ 10", 10.0),
)
"""Issue #16's targets (medians of 3 on an idle 2-core machine)."""


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
    full, incremental = result["full"], result["incremental"]
    values = {
        "full_wall_s": full["whole"]["wall_s"],
        "peak_rss": max(full["whole"]["peak_rss"], incremental["whole"]["peak_rss"]),
        "incremental_wall_s": incremental["whole"]["wall_s"],
        "ratio": result["ratio_full_to_floor"],
    }
    return [
        {"target": text, "limit": limit, "value": values[key], "met": values[key] <= limit}
        for key, text, limit in TARGETS
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


def markdown(result: Mapping) -> str:
    full, incremental, floor = result["full"], result["incremental"], result["floor"]
    data, m = result["data"], result["machine"]
    lines = [
        f"### `imw build` on `{data['scale']}` (seed {data['seed']}, stand {data['stand']}): "
        f"{data['files']:,} files, {data['rows']:,} rows, {data['bytes'] / 1e6:,.1f} MB",
        "",
        *_resources_line(result),
        "| stage | full build wall s | full peak GB | incremental wall s | incremental peak GB |",
        "|---|---:|---:|---:|---:|",
    ]
    for stage in STAGES:
        f, i = full["stages"].get(stage), incremental["stages"].get(stage)
        if f is None and i is None:
            continue
        lines.append(
            f"| {STAGE_LABELS[stage]} | {_s(f and f['wall_s'])} | {_gb(f and f['peak_rss'])} "
            f"| {_s(i and i['wall_s'])} | {_gb(i and i['peak_rss'])} |"
        )
    lines += [
        f"| outside the steps (Python/Dagster start-up, record, summary) "
        f"| {_s(full['whole']['outside_steps_wall_s'])} "
        f"| {_gb(full['whole']['outside_steps_peak_rss'])} "
        f"| {_s(incremental['whole']['outside_steps_wall_s'])} "
        f"| {_gb(incremental['whole']['outside_steps_peak_rss'])} |",
        f"| sum of stages | {_s(full['stages_wall_s'])} | | {_s(incremental['stages_wall_s'])} | |",
        f"| whole `imw build` process (incl. start-up) | {_s(full['whole']['wall_s'])} "
        f"| {_gb(full['whole']['peak_rss'])} | {_s(incremental['whole']['wall_s'])} "
        f"| {_gb(incremental['whole']['peak_rss'])} |",
        "",
        f"Incremental: provider {incremental['provider']} re-delivered all "
        f"{len(incremental['files'])} extracts (stand {incremental['stand']}), all accepted.",
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
        for label, run in (("full", full), ("incremental", incremental))
        if run.get("disclosure")
    ]
    if any(kept):
        lines += ["", *(line for line in kept if line)]
    lines += _node_tables(full.get("dbt_nodes"), incremental.get("dbt_nodes"))
    load = result["load"]
    lines += [
        "",
        f"Machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['usable_cores']} usable), "
        f"{m['ram_gb']} GB RAM, {m['os']}; Python {m['python']}, duckdb {m['duckdb']}, "
        f"dbt-core {m['dbt_core']}, dagster {m['dagster']}; commit {m['git_commit']}; "
        f"{result['timestamp']}.",
        f"Load average (1/5/15 min) before the full build {_load(load['before_full'])}, "
        f"before the incremental {_load(load['before_incremental'])}, "
        f"after {_load(load['after'])}{_mean_loads(full, incremental)}. "
        f"Peak = summed RSS of the build's process tree (build process + dbt), sampled every "
        f"{result['sample_interval_s']} s; the largest single process peaked at "
        f"{_gb(full['whole'].get('max_single_process_rss'))} GB (full) and "
        f"{_gb(incremental['whole'].get('max_single_process_rss'))} GB (incremental). "
        "GB = 2³⁰ bytes.",
    ]
    return "\n".join(lines) + "\n"


def _ratio_line(ratios: Mapping | None) -> str:
    if not ratios:
        return ""

    def r(key: str) -> str:
        return "–" if ratios.get(key) is None else f"{ratios[key]:.1f}×"

    return (
        f"Each figure over the floor's: full build wall {r('full_wall')}, peak {r('full_peak')}; "
        f"incremental wall {r('incremental_wall')}, peak {r('incremental_peak')}."
    )


def _node_tables(full: Mapping | None, incremental: Mapping | None) -> list[str]:
    """The slowest dbt models and tests of each build (`bench.dbt_nodes`)."""
    lines: list[str] = []
    for label, nodes in (("full", full), ("incremental", incremental)):
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


def _mean_loads(full: Mapping, incremental: Mapping) -> str:
    means = [run["whole"].get("mean_load_1min") for run in (full, incremental)]
    if None in means:
        return ""
    return f"; mean 1-min load during the full build {means[0]:.1f}, incremental {means[1]:.1f}"


def _load(load: Mapping) -> str:
    return " / ".join(f"{x:.2f}" for x in load["loadavg"])
