"""Benchmark of the nightly build (`make bench`; not part of `make test`).

    .venv/bin/python -m bench.run [--seed 1] [--scale bw|federal|demo|tiny]
                                  [--stand 2026-06-30] [--out bench/results] [--keep]
                                  [--[no-]incremental] [--memory-limit 1GB] [--threads N]
                                  [--repeat N]

1. Generates the data set once per (scale, seed, stand) into `bench/.cache/` (`bench.data`), in
   a sampled subprocess: the generator's wall time and peak go into the cache's manifest.
2. The floor: plain DuckDB reading the same files into tables, in one subprocess (`bench.floor`).
3. A full `imw build` from an empty home (landing hard-linked from the cache), as a subprocess.
4. Two incremental `imw build`s on the same home (not for `federal` unless `--incremental`: its
   targets are the generator and a full build): one provider corrects all its extracts under the
   same stand (R stays), then re-delivers them a day later (R moves into a new quarter).
5. Steps 2–4 are one round; `--repeat` rounds (3, for `federal` 1), each on an empty home of its
   own, and the figures reported are the median round's of each (#16: medians of 3), with every
   round's in `repeats`; peak memory is the largest of all rounds.

Builds and floor are timed and their process trees' RSS sampled (`bench.measure`); the build
record (`$IMW_HOME/logs/builds.jsonl`) splits both by stage. Results go to
`<out>/<UTC time>.json`, `<out>/latest.json` and `<out>/latest.md`; the Markdown is printed.
Exit 1, without a results table, when a build fails or a check of the run does not hold.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import get_args

import duckdb

from bench import data as bench_data
from bench.dbt_nodes import read_node_times
from bench.disclosure_parts import gate_figures, pattern_figures
from bench.measure import (
    STAGE_LABELS,
    ProcessRun,
    attribute,
    cpu_in,
    failed_stages,
    read_records,
    run_sampled,
    step_windows,
    union_length,
)
from bench.report import load_average, machine, markdown, targets
from core.resources import MEMORY_LIMIT_ENV, THREADS_ENV, resources_env
from core.settings import KEY_ENV, PROJECT_ROOT, Settings
from ingest.readers import parse_file_name
from reports.pdf import CHROMIUM_ENV
from synthetic.params import Scale

BENCH_DIR = PROJECT_ROOT / "bench"
CACHE_DIR = BENCH_DIR / ".cache"
BENCH_KEY = "bench-key-not-secret-0123"
SAMPLE_INTERVAL_S = 0.2


class BenchFailure(RuntimeError):
    """A build failed or a check of the benchmark run did not hold."""


def build_env(
    environ: Mapping[str, str] | None = None, resources: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The caller's environment without any IMW_* setting (the home is passed) plus the key,
    the memory limit and threads (`core.resources`: the defaults unless `resources` names them,
    as `--memory-limit` and `--threads` do), and no clerk PDFs: the bench measures the data
    path; printing costs about 1 s per provider that delivered (README, "Operators"), 300 on a
    first `bw` build."""
    env = {
        k: v
        for k, v in (os.environ if environ is None else environ).items()
        if not k.startswith("IMW_")
    }
    return {**env, **resources_env(resources or {}), KEY_ENV: BENCH_KEY, CHROMIUM_ENV: "off"}


def imw_command(home: Path) -> list[str]:
    return [str(Path(sys.executable).parent / "imw"), "build", "--home", str(home)]


def summarise_build(run: ProcessRun, record: Mapping) -> dict[str, object]:
    """Stage figures, whole-process figures and the record's own times for one build."""
    stages = attribute(run.samples, record, run.cpu)
    windows = [w for spans in step_windows(record).values() for w in spans]
    outside = [rss for t, rss in run.samples if not any(a <= t <= b for a, b in windows)]
    in_steps = union_length(windows)
    return {
        "run_id": record.get("run_id"),
        "result": record.get("result"),
        "record_started_at": record.get("started_at"),
        "record_finished_at": record.get("finished_at"),
        "record_duration_s": record.get("duration_s"),
        # what went wrong in a step and was mended, e.g. dbt's retry after running out of memory
        "notes": list(record.get("notes") or []),
        "stages": {
            stage: {
                "wall_s": round(f.wall_s, 2),
                "peak_rss": f.peak_rss,
                "samples": f.samples,
                "steps": f.steps,
                "cpu_s": _rounded(f.cpu_s),
            }
            for stage, f in stages.items()
        },
        "stages_wall_s": round(sum(f.wall_s for f in stages.values()), 2),
        "whole": {
            "wall_s": round(run.wall_s, 2),
            "peak_rss": run.peak_rss,
            "max_single_process_rss": run.max_single_rss,
            "outside_steps_wall_s": round(run.wall_s - in_steps, 2),
            "outside_steps_peak_rss": max(outside, default=0),
            "samples": len(run.samples),
            "mean_load_1min": run.mean_load,
            "cpu_s": _rounded(run.cpu_s),
            "outside_steps_cpu_s": _rounded(
                run.cpu_s - cpu_in(run.cpu, windows) if run.cpu_s is not None else None
            ),
        },
        "samples": [[round(t - run.started, 2), rss // 2**20] for t, rss in run.samples],
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def timed_build(label: str, home: Path, env: Mapping[str, str]) -> tuple[ProcessRun, dict]:
    """Run `imw build` as a subprocess; return it with its new build record, or fail."""
    before = len(read_records(home))
    print(f"[bench] {label} build …", flush=True)
    run = run_sampled(
        imw_command(home), env, SAMPLE_INTERVAL_S, cwd=PROJECT_ROOT, echo=f"[bench {label}] "
    )
    records = read_records(home)
    if len(records) <= before:
        raise BenchFailure(
            f"{label} build wrote no build record to {home}/logs/builds.jsonl "
            f"(exit {run.returncode}); stderr:\n{run.stderr[-3000:]}"
        )
    record = records[-1]
    if record.get("result") != "success" or run.returncode != 0:
        # what was measured up to the failure (the stages that ran, their wall and peak) is
        # kept beside the home, which the bench keeps for inspection
        measured = home.parent / f"{label}-failed.json"
        measured.write_text(
            json.dumps(summarise_build(run, record), indent=1) + "\n", encoding="utf-8"
        )
        stages = ", ".join(STAGE_LABELS.get(s, s) for s in failed_stages(record)) or "unknown"
        raise BenchFailure(
            f"{label} build FAILED (exit {run.returncode}, result {record.get('result')!r}) "
            f"in stage(s): {stages}; steps: {', '.join(record.get('failed_steps') or [])}; "
            f"reason: {record.get('reason')}; log: {record.get('log')}; what was measured "
            f"until then: {measured}\n{run.stderr[-2000:]}"
        )
    print(
        f"[bench] {label} build: {run.wall_s:.1f} s, peak {run.peak_rss / 2**30:.2f} GB", flush=True
    )
    return run, record


def deliveries(build_db: Path, names: list[str] | None = None) -> list[tuple]:
    """(file_name, verdict, rows_delivered, rows_loaded, rows_quarantined) from raw.deliveries."""
    with duckdb.connect(str(build_db), read_only=True) as con:
        return con.execute(
            "SELECT file_name, verdict, rows_delivered, rows_loaded, rows_quarantined "
            "FROM raw.deliveries WHERE ? IS NULL OR list_contains(?, file_name) "
            "ORDER BY delivery_id",
            [names, names],
        ).fetchall()


def redelivery_build(
    label: str,
    days: int,
    dataset: bench_data.Dataset,
    provider: str,
    home: Path,
    env: Mapping[str, str],
    load: dict[str, object],
    tag: str = "",
) -> dict[str, object]:
    """`provider` re-delivers all its extracts with stand + `days` (0: a correction under the
    same stand, which the contract allows), then an `imw build`, measured (`tag`: the round's,
    for the load readings)."""
    files = bench_data.redeliver(dataset, provider, home / "landing", days=days)
    rows = sum(bench_data.describe_file(f).rows for f in files)
    print(
        f"[bench] provider {provider} re-delivers {len(files)} files, {rows:,} rows "
        f"(stand {parse_file_name(files[0]).stand})",
        flush=True,
    )
    load[f"before_{label}{tag}"] = load_average()
    run, record = timed_build(label + tag.replace("_", "-"), home, env)
    measured = summarise_build(run, record)
    measured["dbt_nodes"] = read_node_times(Settings.from_env(home=home, environ={}).dbt_target_dir)
    measured["disclosure"] = disclosure_kept(record, home)
    measured.update(
        provider=provider,
        stand=parse_file_name(files[0]).stand.isoformat(),
        files=check_redelivery(home / "warehouse" / "build.duckdb", files),
        rows=rows,
        dbt_by_provider=dbt_by_provider(run.stderr),
    )
    return measured


_BY_PROVIDER = re.compile(
    r"rows of (\d+) of (\d+) providers rebuilt[^\n;]*"
    r"(?:; of (\d+) in the models built by their own inputs"
    r"(?:, and of the periods (.+?) in those built by period)?)?$",
    re.MULTILINE,
)


def dbt_by_provider(output: str) -> dict[str, object] | None:
    """How many providers' rows dbt's models built by provider rebuilt, from the build's
    progress line (None when it has none): `rebuilt` of `providers`, and where the line says so
    `own` (of the models built by their own inputs or by provider and period) and `periods` (the
    periods the latter rebuilt of every provider)."""
    found = _BY_PROVIDER.findall(output)
    if not found:
        return None
    rebuilt, providers, own, periods = found[-1]
    counts: dict[str, object] = {"rebuilt": int(rebuilt), "providers": int(providers)}
    if own:
        counts["own"] = int(own)
        counts["periods"] = periods.split(", ") if periods else []
    return counts


def disclosure_kept(record: Mapping, home: Path) -> dict[str, object]:
    """What the build's disclosure control took from the memos (`bench.disclosure_parts`)."""
    log = record.get("log")
    return {
        "pattern": pattern_figures(Path(log) if log else None),
        "gate": gate_figures(Settings.from_env(home=home, environ={}).reports_dir),
    }


def check_redelivery(build_db: Path, files: list[Path]) -> dict[str, str]:
    """Every re-delivered file was accepted whole, no row quarantined; verdict per file."""
    names = [f.name for f in files]
    rows = {r[0]: r for r in deliveries(build_db, names)}
    verdicts = {name: rows[name][1] if name in rows else "MISSING" for name in names}
    bad = {n: v for n, v in verdicts.items() if v != "ACCEPTED" or rows[n][4]}
    if bad:
        raise BenchFailure(f"re-delivered files not accepted cleanly: {bad}")
    return verdicts


def verdict_counts(build_db: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in deliveries(build_db):
        counts[row[1]] = counts.get(row[1], 0) + 1
    return counts


def run_floor(dataset: bench_data.Dataset, db: Path) -> dict[str, object]:
    print("[bench] floor: plain DuckDB reading the landing files …", flush=True)
    cmd = [sys.executable, "-m", "bench.floor", str(dataset.folder), str(db)]
    run = run_sampled(cmd, None, SAMPLE_INTERVAL_S, cwd=PROJECT_ROOT)
    if run.returncode != 0:
        raise BenchFailure(f"floor failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    floor = json.loads(run.stdout.strip().splitlines()[-1])
    if floor["rows_by_extract"] != dataset.rows_by_extract():
        raise BenchFailure(
            f"floor read {floor['rows_by_extract']} rows, the files hold "
            f"{dataset.rows_by_extract()}"
        )
    floor.update(
        wall_s=round(run.wall_s, 2),
        mean_load_1min=run.mean_load,
        peak_rss=max(run.peak_rss, floor["peak_rss_self"]),
        rows_match_files=True,
    )
    print(f"[bench] floor: {run.wall_s:.1f} s, {floor['rows']:,} rows", flush=True)
    return floor


def with_incremental(args: argparse.Namespace) -> bool:
    """`--incremental`/`--no-incremental`; by default every scale but `federal`, whose targets
    are a generator that streams and a full build that completes (issue #16)."""
    return args.incremental if args.incremental is not None else args.scale != "federal"


def ratios_to_floor(
    full: Mapping, incremental: Mapping | None, floor: Mapping, correction: Mapping | None = None
) -> dict[str, float | None]:
    """Every build figure over the floor's: wall time over the floor's wall time, peak memory
    over the floor's peak (#16: "the ratio to the floor for each figure")."""

    def ratio(value: float, base: float) -> float | None:
        return round(value / base, 2) if base else None

    return {
        f"{label}_{figure}": ratio(run["whole"][key], floor[key])
        for label, run in (("full", full), ("correction", correction), ("incremental", incremental))
        if run is not None
        for figure, key in (("wall", "wall_s"), ("peak", "peak_rss"))
    }


def measured_generator(scale: str, seed: int, stand: date) -> bench_data.Generator:
    """Generate in a subprocess (`python -m bench.data`) whose process tree is sampled: the
    generator's own wall time and peak, not the bench's."""

    def run(folder: Path) -> dict[str, object]:
        print(f"[bench] generating {scale} (seed {seed}, stand {stand}) …", flush=True)
        cmd = [sys.executable, "-m", "bench.data", str(folder), scale, str(seed), str(stand)]
        load = load_average()
        sampled = run_sampled(cmd, None, SAMPLE_INTERVAL_S, cwd=PROJECT_ROOT, echo="[generate] ")
        if sampled.returncode != 0:
            raise BenchFailure(
                f"generating {scale} failed (exit {sampled.returncode}):\n{sampled.stderr[-3000:]}"
            )
        written = folder / bench_data.GENERATED
        ran = json.loads(written.read_text(encoding="utf-8"))
        written.unlink()
        print(
            f"[bench] generated in {sampled.wall_s:.1f} s, peak {sampled.peak_rss / 2**30:.2f} GB",
            flush=True,
        )
        return {
            **ran,
            "wall_s": round(sampled.wall_s, 2),
            "peak_rss": sampled.peak_rss,
            "max_single_process_rss": sampled.max_single_rss,
            "mean_load_1min": sampled.mean_load,
            "load_before": load,
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": machine(PROJECT_ROOT)["git_commit"],
        }

    return run


def benchmark(args: argparse.Namespace, run_dir: Path) -> dict[str, object]:
    t0 = time.perf_counter()
    dataset, cached = bench_data.cached_dataset(
        CACHE_DIR,
        args.scale,
        args.seed,
        args.stand,
        measured_generator(args.scale, args.seed, args.stand),
    )
    print(
        f"[bench] data {dataset.folder.name}: {'cached' if cached else 'generated'} "
        f"({time.perf_counter() - t0:.1f} s), {len(dataset.files):,} files, "
        f"{dataset.rows:,} rows",
        flush=True,
    )
    if dataset.rows_by_extract() != dataset.generator_rows:
        raise BenchFailure("the cached files do not hold the rows the generator reported")
    chosen = {MEMORY_LIMIT_ENV: args.memory_limit or "", THREADS_ENV: args.threads or ""}
    env = build_env(resources=chosen)
    load: dict[str, object] = {}
    rounds = [
        bench_round(args, dataset, env, run_dir, n, load) for n in range(1, repeats(args) + 1)
    ]
    load["after"] = load_average()
    floor, full = median_of(r["floor"] for r in rounds), median_of(r["full"] for r in rounds)
    correction = median_of(r["correction"] for r in rounds)
    incremental = median_of(r["incremental"] for r in rounds)

    result: dict[str, object] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": args.scale,
        "sample_interval_s": SAMPLE_INTERVAL_S,
        "resources": {k: env[k] for k in (MEMORY_LIMIT_ENV, THREADS_ENV)},
        "machine": machine(PROJECT_ROOT),
        "load": load,
        "data": dataset.summary(),
        "generation": {**(dataset.generation or {}), "cached": cached},
        "floor": floor,
        "full": full,
        "correction": correction,
        "incremental": incremental,
        "ratio_full_to_floor": round(full["whole"]["wall_s"] / floor["wall_s"], 2),
        "ratio_full_record_to_floor_read": round(full["record_duration_s"] / floor["read_s"], 2),
        "ratios_to_floor": ratios_to_floor(full, incremental, floor, correction),
        "repeats": {
            label: [figures_of(r[label]) for r in rounds]
            for label in ("floor", "full", "correction", "incremental")
            if all(r[label] is not None for r in rounds)
        },
    }
    result["targets"] = targets(result)
    return result


def repeats(args: argparse.Namespace) -> int:
    """`--repeat`; by default 3 rounds (#16: medians of 3), one for `federal` (35 minutes a
    full build)."""
    return args.repeat if args.repeat is not None else (1 if args.scale == "federal" else 3)


def bench_round(
    args: argparse.Namespace,
    dataset: bench_data.Dataset,
    env: Mapping[str, str],
    run_dir: Path,
    n: int,
    load: dict[str, object],
) -> dict[str, dict | None]:
    """Round `n`: the floor, a full build in an empty home, then (`with_incremental`) the
    correction and the next day's delivery on that home. The homes of later rounds are removed
    unless kept (`--keep`)."""
    suffix = "" if n == 1 else f"-{n}"
    home = run_dir / f"home{suffix}"
    tag = "" if n == 1 else f"_{n}"
    load[f"before_floor{tag}"] = load_average()
    floor_db = run_dir / f"floor{suffix}.duckdb"
    floor = run_floor(dataset, floor_db)
    if n > 1:
        floor_db.unlink()
    bench_data.link_files([dataset.landing / f.name for f in dataset.files], home / "landing")
    load[f"before_full{tag}"] = load_average()
    full_run, full_record = timed_build(f"full{suffix}", home, env)
    full = summarise_build(full_run, full_record)
    full["verdicts"] = verdict_counts(home / "warehouse" / "build.duckdb")
    dbt_target = Settings.from_env(home=home, environ={}).dbt_target_dir
    full["dbt_nodes"] = read_node_times(dbt_target)
    full["disclosure"] = disclosure_kept(full_record, home)
    correction = incremental = None
    if with_incremental(args):
        provider = bench_data.medium_provider(dataset)
        # first a correction under the same stand (R stays: dbt rebuilds that provider's rows),
        # then the next day's delivery (R moves into a new quarter: every provider's rows)
        correction, incremental = (
            redelivery_build(label, days, dataset, provider, home, env, load, tag)
            for label, days in (("correction", 0), ("incremental", 1))
        )
    if n > 1 and not args.keep:
        shutil.rmtree(home)
    return {"floor": floor, "full": full, "correction": correction, "incremental": incremental}


def _wall(run: Mapping) -> float:
    return run["whole"]["wall_s"] if "whole" in run else run["wall_s"]


def median_of(runs: Iterable[dict | None]) -> dict | None:
    """The run of median wall time (of an odd number; the lower middle of an even one), or
    None when a round did not measure it."""
    found = list(runs)
    if not found or any(r is None for r in found):
        return None
    return sorted(found, key=_wall)[(len(found) - 1) // 2]


def figures_of(run: Mapping) -> dict[str, object]:
    """A repeated run's wall time, peak and load, for the results' `repeats`."""
    if "whole" in run:
        whole = run["whole"]
        return {k: whole[k] for k in ("wall_s", "peak_rss", "mean_load_1min")}
    return {k: run[k] for k in ("wall_s", "peak_rss", "mean_load_1min")}


def write_results(result: Mapping, out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(str(result["timestamp"])).strftime("%Y%m%dT%H%M%SZ")
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    (out / f"{stamp}.json").write_text(text, encoding="utf-8")
    (out / "latest.json").write_text(text, encoding="utf-8")
    md = markdown(result)
    if result["scale"] not in ("bw", "federal"):
        md += f"\n(The targets are for `bw`; this was a `{result['scale']}` run.)\n"
    (out / "latest.md").write_text(md, encoding="utf-8")
    return md


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--scale", choices=get_args(Scale), default="bw")
    p.add_argument(
        "--incremental",
        action=argparse.BooleanOptionalAction,
        help="also measure an incremental build after one provider re-delivers "
        "(default: yes, except for federal)",
    )
    p.add_argument("--stand", type=date.fromisoformat, default=date(2026, 6, 30))
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--keep", action="store_true", help="keep the build home and floor database")
    p.add_argument(
        "--memory-limit",
        help=f"{MEMORY_LIMIT_ENV} for both builds (default: the warehouse's, core/resources.py)",
    )
    p.add_argument("--threads", help=f"{THREADS_ENV} for both builds (default: the CPUs)")
    p.add_argument(
        "--repeat",
        type=int,
        help="rounds (floor, full build, re-deliveries), the median of each reported "
        "(default: 3, for federal 1)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run_dir = CACHE_DIR / "run" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True)
    try:
        result = benchmark(args, run_dir)
    except BenchFailure as failure:
        print(f"[bench] FAILED: {failure}", file=sys.stderr)
        print(f"[bench] kept for inspection: {run_dir}", file=sys.stderr)
        return 1
    md = write_results(result, args.out)
    print()
    print(md, end="")
    if args.keep:
        print(f"\n[bench] kept: {run_dir}")
    else:
        shutil.rmtree(run_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
