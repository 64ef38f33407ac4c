"""The benchmark's own logic (`bench/`): fast, on hand-made records and the `tiny` data set."""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest

from bench import data as bench_data
from bench import run as bench_run
from bench.dbt_nodes import node_times, read_node_times
from bench.disclosure_parts import gate_figures, pattern_figures, text
from bench.floor import read_floor
from bench.measure import attribute, cpu_in, failed_stages, read_records, run_sampled
from bench.report import GB, markdown, targets
from contract.spec import EXTRACTS
from core.resources import DEFAULT_MEMORY_LIMIT
from ingest.readers import parse_columns, parse_file_name, read_table

STAND = date(2026, 6, 30)
T0 = datetime.fromisoformat("2026-11-25T01:00:00+00:00")


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def _step(step: str, stage: str, start: float, end: float, status: str = "success") -> dict:
    return {
        "step": step,
        "stage": stage,
        "started_at": _at(start),
        "finished_at": _at(end),
        "duration_s": end - start,
        "status": status,
    }


RECORD = {
    "run_id": "r1",
    "started_at": _at(2),
    "finished_at": _at(40),
    "duration_s": 38.0,
    "result": "success",
    "failed_steps": [],
    "reason": None,
    "log": "logs/build_x.log",
    "trigger": "cli",
    "steps": [
        _step("raw_extracts", "ingest", 2, 10),
        _step("warehouse_dbt", "dbt", 10, 20),
        _step("warehouse_dbt_docs", "dbt", 25, 30),  # a second dbt window after a gap
        _step("mart_gate", "mart_gate", 30, 35),
        _step("published_indicators", "publish", 35, 40),
        {
            "step": "exports",
            "stage": "other",
            "started_at": None,
            "finished_at": None,
            "duration_s": None,
            "status": "skipped",
        },  # skipped: no window, no stage
    ],
}
# (seconds after T0, RSS): one sample per line, with the window(s) each one falls into
SAMPLES = [
    (0.5, 900),  # start-up, before any step: in no stage, but in the whole
    (3, 100),  # ingest
    (9, 400),  # ingest (its peak)
    (10, 300),  # the boundary of ingest and dbt: counts for both
    (15, 700),  # dbt
    (22, 800),  # the gap between the two dbt steps: in no stage
    (27, 650),  # dbt (second window)
    (31, 200),  # mart gate
    (36, 250),  # publish
    (39, 240),  # publish
]


def _samples() -> list[tuple[float, int]]:
    return [((T0 + timedelta(seconds=s)).timestamp(), rss) for s, rss in SAMPLES]


def test_stage_peaks_and_walls_from_a_hand_made_record():
    stages = attribute(_samples(), RECORD)
    assert {s: f.peak_rss for s, f in stages.items()} == {
        "ingest": 400,
        "dbt": 700,
        "mart_gate": 200,
        "publish": 250,
    }
    assert {s: f.samples for s, f in stages.items()} == {
        "ingest": 3,
        "dbt": 3,
        "mart_gate": 1,
        "publish": 2,
    }
    assert stages["dbt"].wall_s == pytest.approx(15.0)  # 10 s + 5 s, not the 20 s span
    assert stages["dbt"].steps == ["warehouse_dbt", "warehouse_dbt_docs"]
    assert stages["ingest"].wall_s == pytest.approx(8.0)
    assert max(rss for _, rss in _samples()) == 900  # the whole: start-up is its peak


# (seconds after T0, CPU seconds the tree has used so far), sampled with the memory
CPU = [
    (0, 0.0),
    (2, 1.0),  # start-up: 0.5 cores
    (10, 13.0),  # ingest 2–10 s: 12 CPU s in 8 s, 1.5 cores
    (20, 33.0),  # dbt 10–20 s: both cores busy, 20 CPU s
    (25, 38.0),  # the gap between the dbt steps: 1 core
    (30, 48.0),  # dbt 25–30 s: 10 CPU s
    (40, 53.0),  # mart gate 30–35 s and publish 35–40 s: 5 CPU s between them
]


def _cpu() -> list[tuple[float, float]]:
    return [((T0 + timedelta(seconds=s)).timestamp(), c) for s, c in CPU]


def test_stage_cpu_time_and_busy_cores_from_hand_made_samples():
    stages = attribute(_samples(), RECORD, _cpu())
    assert stages["ingest"].cpu_s == pytest.approx(12.0)  # 13 − 1
    assert stages["ingest"].busy_cores == pytest.approx(1.5)  # 12 CPU s in 8 s
    assert stages["dbt"].cpu_s == pytest.approx(30.0)  # 20 + 10: the gap's 5 not counted
    assert stages["dbt"].busy_cores == pytest.approx(2.0)  # 30 CPU s in 15 s
    # between samples the CPU time is taken as linear: 5 CPU s over 30–40 s, half in each
    assert stages["mart_gate"].cpu_s == pytest.approx(2.5)
    assert stages["publish"].cpu_s == pytest.approx(2.5)
    # windows overlapping within a stage count each moment once
    assert cpu_in(_cpu(), [(_epoch(2), _epoch(10)), (_epoch(5), _epoch(10))]) == pytest.approx(12)
    # outside the samples: flat
    assert cpu_in(_cpu(), [(_epoch(40), _epoch(50))]) == 0
    assert attribute(_samples(), RECORD)["dbt"].cpu_s is None  # no CPU samples: not measured


def _epoch(seconds: float) -> float:
    return (T0 + timedelta(seconds=seconds)).timestamp()


def test_the_cpu_time_of_a_tree_counts_a_child_that_ended():
    # the child burns CPU for ≈ 0.6 s and ends before the parent; its time stays counted
    burn = "import time; t = time.process_time()\nwhile time.process_time() - t < 0.6: pass"
    script = (
        "import subprocess, sys, time\n"
        f"subprocess.run([sys.executable, '-c', {burn!r}], check=True)\n"
        "time.sleep(0.5)"
    )
    run = run_sampled([sys.executable, "-c", script], interval=0.05)
    assert run.returncode == 0
    cpu = [c for _, c in run.cpu]
    assert cpu == sorted(cpu)  # it only grows
    # the child's 0.6 s (its last 0.05 s may fall after its last sample) and the parent's start
    assert run.cpu_s >= 0.5
    assert run.cpu_s <= run.wall_s * (os.cpu_count() or 1)


def test_overlapping_steps_of_one_stage_count_once():
    record = {
        "steps": [
            _step("a", "ingest", 0, 10),
            _step("b", "ingest", 5, 12),
            _step("c", "weird", 12, 13),
        ]
    }
    stages = attribute([], record)
    assert stages["ingest"].wall_s == pytest.approx(12.0)
    assert stages["other"].wall_s == pytest.approx(1.0)  # unknown stages count as "other"
    assert stages["ingest"].peak_rss == 0


def test_failed_stage_is_named_from_the_record():
    failed = {
        **RECORD,
        "result": "failed",
        "failed_steps": ["warehouse_dbt"],
        "reason": "dbt test failed",
    }
    assert failed_stages(failed) == ["dbt"]
    by_status = {
        **RECORD,
        "failed_steps": [],
        "steps": [*RECORD["steps"][:3], _step("mart_gate", "mart_gate", 30, 35, "failure")],
    }
    assert failed_stages(by_status) == ["mart_gate"]


def test_records_are_read_one_per_line(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    assert read_records(tmp_path) == []
    second = {**RECORD, "run_id": "r2"}
    (logs / "builds.jsonl").write_text(json.dumps(RECORD) + "\n" + json.dumps(second) + "\n")
    assert [r["run_id"] for r in read_records(tmp_path)] == ["r1", "r2"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> bench_data.Dataset:
    root = tmp_path_factory.mktemp("bench-cache")
    dataset, cached = bench_data.cached_dataset(root, "tiny", 1, STAND)
    assert not cached
    return dataset


def test_cache_is_reused_when_complete_and_regenerated_when_half_written(tiny, tmp_path):
    again, cached = bench_data.cached_dataset(tiny.folder.parent, "tiny", 1, STAND)
    assert cached and again.files == tiny.files
    assert (tiny.folder / "ground_truth.json").is_file()  # beside, not in, the landing copy
    assert not list(tiny.landing.glob("*.json"))
    half = tmp_path / bench_data.cache_name("tiny", 1, STAND)
    (half / "landing").mkdir(parents=True)  # an interrupted run left no marker
    redone, cached = bench_data.cached_dataset(tmp_path, "tiny", 1, STAND)
    assert not cached and (half / bench_data.MARKER).is_file()
    assert redone.rows_by_extract() == tiny.rows_by_extract() == tiny.generator_rows


def test_the_measured_generator_runs_apart_and_its_figures_stay_in_the_cache(tiny, tmp_path):
    dataset, cached = bench_data.cached_dataset(
        tmp_path, "tiny", 1, STAND, bench_run.measured_generator("tiny", 1, STAND)
    )
    assert not cached
    g = dataset.generation
    assert g is not None and g["wall_s"] > 0  # the subprocess's own wall time
    assert 50 * 2**20 < g["peak_rss"] < 4 * GB  # a Python process with polars: > 50 MiB
    assert "rows" not in g  # the rows are the manifest's generator_rows, not kept twice
    assert dataset.generator_rows == tiny.generator_rows  # the same files as in-process
    assert [f.name for f in dataset.files] == [f.name for f in tiny.files]
    assert not (dataset.folder / bench_data.GENERATED).exists()  # read and removed
    again, cached = bench_data.cached_dataset(tmp_path, "tiny", 1, STAND)
    assert cached and again.generation == g  # a cached run still reports them
    assert tiny.generation is None  # generated in-process: nothing measured


def test_federal_runs_without_incremental_unless_asked():
    args = bench_run.parser().parse_args(["--scale", "federal"])
    assert not bench_run.with_incremental(args)
    assert bench_run.with_incremental(bench_run.parser().parse_args([]))  # bw: with
    asked = bench_run.parser().parse_args(["--scale", "federal", "--incremental"])
    assert bench_run.with_incremental(asked)
    assert not bench_run.with_incremental(bench_run.parser().parse_args(["--no-incremental"]))


def _parsed(path, stand: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    extract = parse_file_name(path).extract
    parsed = parse_columns(read_table(path, extract), extract, stand)
    return parsed.frame, parsed.errors


@pytest.mark.parametrize("pick", ["medium", "08317061"])  # a CSV and an XLSX provider
def test_redelivery_has_new_names_new_bytes_and_valid_rows(tiny, tmp_path, pick):
    provider = bench_data.medium_provider(tiny) if pick == "medium" else pick
    files = bench_data.redeliver(tiny, provider, tmp_path)
    originals = {f.extract: f for f in tiny.files if f.provider == provider}
    assert len(files) == len(originals) == 8
    new_stand = STAND + timedelta(days=1)
    for path in files:
        name = parse_file_name(path)
        assert (name.provider, name.stand) == (provider, new_stand)
        original = originals[name.extract]
        assert path.suffix.lstrip(".") == parse_file_name(original.name).suffix
        assert path.read_bytes() != (tiny.landing / original.name).read_bytes()
        frame, errors = _parsed(path, new_stand)
        assert errors.is_empty(), (path.name, errors)
        expected = original.rows - (name.extract == bench_data.CONTACTS)
        assert frame.height == expected
        dates = [c.raw_name for c in EXTRACTS[name.extract].columns if c.not_after_stand]
        latest = frame.select(pl.max_horizontal(pl.col(dates).max())).item() if dates else None
        assert latest is None or latest <= STAND
        assert bench_data.describe_file(path).encoding == original.encoding


def test_medium_provider_is_deterministic_and_not_the_authority(tiny):
    assert bench_data.medium_provider(tiny) == bench_data.medium_provider(tiny) != "08"


def test_floor_reads_every_row_of_every_file(tiny, tmp_path):
    floor = read_floor(tiny, tmp_path / "floor.duckdb")
    assert floor["rows_by_extract"] == tiny.rows_by_extract() == tiny.generator_rows
    assert floor["files"] == len(tiny.files) and floor["xlsx_files"] > 0
    assert not (tmp_path / "floor-utf8").exists()  # the transcoded copies are gone


def test_markdown_marks_targets_and_shows_the_machine():
    whole = {
        "wall_s": 200.0,
        "peak_rss": 3 * GB,
        "outside_steps_wall_s": 100.0,
        "outside_steps_peak_rss": GB,
    }
    stage = {"wall_s": 50.0, "peak_rss": GB}
    result = {
        "timestamp": "2026-11-25T01:00:00+00:00",
        "sample_interval_s": 0.2,
        "data": {
            "scale": "bw",
            "seed": 1,
            "stand": "2026-06-30",
            "files": 2,
            "rows": 10,
            "bytes": 1e6,
        },
        "machine": {
            "cpu": "CPU X",
            "logical_cores": 2,
            "usable_cores": 2,
            "ram_gb": 24,
            "os": "Linux",
            "python": "3.11",
            "duckdb": "2",
            "dbt_core": "1.11",
            "dagster": "1.13",
            "git_commit": "abc",
        },
        "load": {
            k: {"loadavg": [1.0, 2.0, 3.0]} for k in ("before_full", "before_incremental", "after")
        },
        "full": {"stages": {"ingest": stage, "dbt": stage}, "stages_wall_s": 100.0, "whole": whole},
        "incremental": {
            "stages": {"ingest": stage},
            "stages_wall_s": 20.0,
            "whole": {**whole, "wall_s": 25.0, "peak_rss": GB},
            "provider": "08115",
            "files": {"a": "ACCEPTED"},
            "stand": "2026-07-01",
        },
        "floor": {"files": 2, "wall_s": 50.0, "peak_rss": GB, "rows": 10},
        "ratio_full_to_floor": 4.0,
    }
    result["ratios_to_floor"] = bench_run.ratios_to_floor(
        result["full"], result["incremental"], result["floor"]
    )
    # full: 200 s / 50 s = 4.0, 3 GB / 1 GB = 3.0; incremental: 25 s / 50 s = 0.5, 1 GB / 1 GB
    assert result["ratios_to_floor"] == {
        "full_wall": 4.0,
        "full_peak": 3.0,
        "incremental_wall": 0.5,
        "incremental_peak": 1.0,
    }
    result["full"]["dbt_nodes"] = node_times(RUN_RESULTS, top=2)
    result["targets"] = targets(result)
    # 200 s > 75 s; 3 GB > 2.5 GB; incremental 25 s <= 25 s; 4.0× <= 10×
    assert [t["met"] for t in result["targets"]] == [False, False, True, True]
    result["incremental"]["disclosure"] = {
        "pattern": {"parts": 237, "parts_kept": 212, "seconds": 11.0, "engine_seconds": 4.4},
        "gate": {
            "parts": 237,
            "parts_audited_before": 212,
            "parts_from_pattern": 25,
            "seconds": 8.9,
        },
    }
    md = markdown(result)
    assert (
        "Disclosure control in the incremental build: pattern 212 of 237 parts kept (11.0 s, of "
        "which the engine 4.4 s); mart gate 212 of 237 parts from the audit before, 25 from the "
        "pattern's final audit (8.9 s)."
    ) in md
    assert "Disclosure control in the full build" not in md  # the full build reported none
    assert "Notes of the build records" not in md  # no build had any
    result["full"]["notes"] = ["DuckDB ran out of memory (5GB) in 2 node(s) …"]
    assert "- full build: DuckDB ran out of memory (5GB) in 2 node(s) …" in markdown(result)
    del result["full"]["notes"]
    assert "| dbt | 50.0 | 1.00 | – | – |" in md
    assert "| full build / floor ≤ 10 | 4.0× | ✓ |" in md
    assert "full build wall 4.0×, peak 3.0×; incremental wall 0.5×, peak 1.0×" in md
    assert "| int_contact_status | 8.0 | not_null_cases_case_key | 1.5 |" in md
    assert "CPU X, 2 logical cores" in md
    assert "CPU time of the build's process tree" not in md  # results from before CPU time

    # with CPU time: its own table per stage, and the least wall time it makes on 2 cores
    result["full"]["whole"] = {**whole, "cpu_s": 300.0}  # in 200 s: 1.5 cores
    result["full"]["whole"]["outside_steps_cpu_s"] = 50.0  # in 100 s: 0.5 cores
    result["full"]["stages"] = {
        "ingest": {**stage, "cpu_s": 75.0},  # 75 CPU s in 50 s: 1.5 cores
        "dbt": {**stage, "cpu_s": 100.0},  # in 50 s: both cores busy
    }
    result["incremental"]["whole"] = {
        **result["incremental"]["whole"],
        "cpu_s": 30.0,  # in 25 s: 1.2 cores
        "outside_steps_cpu_s": 5.0,  # in 100 s: 0.05 cores
    }
    result["incremental"]["stages"] = {"ingest": {**stage, "cpu_s": 20.0}}  # in 50 s: 0.4
    md = markdown(result)
    assert "| stage | full CPU s | full busy cores | incremental CPU s | incremental busy" in md
    assert "| ingest + extract gate | 75.0 | 1.50 | 20.0 | 0.40 |" in md
    assert "| dbt | 100.0 | 2.00 | – |  |" in md  # no dbt in the incremental build
    assert "| outside the steps | 50.0 | 0.50 | 5.0 | 0.05 |" in md
    assert "| whole `imw build` process | 300.0 | 1.50 | 30.0 | 1.20 |" in md
    assert (
        "The full build's work took 300.0 CPU-seconds: on 2 cores no schedule of that work ends "
        "in less than 150.0 s"  # 300 / 2
    ) in md

    # with the correction under the same stand before it: its own columns, target and line
    result["correction"] = {
        "stages": {"ingest": stage},
        "stages_wall_s": 10.0,
        "whole": {**whole, "wall_s": 20.0, "peak_rss": 2 * GB},
        "provider": "08115",
        "files": {"a": "ACCEPTED", "b": "ACCEPTED"},
        "stand": "2026-06-30",
        "dbt_by_provider": bench_run.dbt_by_provider(
            "[  40.1 s] dbt        rows of 1 of 1101 providers rebuilt (their deliveries …)\n"
        ),
    }
    result["load"]["before_correction"] = {"loadavg": [0.5, 0.5, 0.5]}
    result["ratios_to_floor"] = bench_run.ratios_to_floor(
        result["full"], result["incremental"], result["floor"], result["correction"]
    )
    assert result["ratios_to_floor"]["correction_wall"] == 0.4  # 20 s / 50 s
    result["targets"] = targets(result)
    # 200 s > 75 s; 3 GB > 2.5 GB; correction 20 s <= 25 s; incremental 25 s <= 25 s; 4.0×
    assert [t["met"] for t in result["targets"]] == [False, False, True, True, True]
    md = markdown(result)
    assert "| full build wall s | full peak GB | correction build wall s |" in md
    assert "| incremental build ≤ 25 s: a correction (same stand, R stays) | 20.0 s | ✓ |" in md
    assert (
        "Correction: provider 08115 re-delivered all 2 extracts (stand 2026-06-30), all "
        "accepted; dbt rebuilt the rows of 1 of 1101 providers."
    ) in md
    assert "before the correction 0.50 / 0.50 / 0.50" in md
    # the day after: R moved, so every provider's rows in the models that read what all share,
    # one provider's in those built by their own inputs, and every provider's of the two periods
    # R moved in those built by provider and period
    result["correction"]["dbt_by_provider"] = bench_run.dbt_by_provider(
        "[  40.1 s] dbt        rows of 1101 of 1101 providers rebuilt (their deliveries or shared"
        " inputs changed); of 1 in the models built by their own inputs, and of the periods 2026,"
        " 2026Q3 in those built by period\n[  41.0 s] mart gate  checking\n"
    )
    assert result["correction"]["dbt_by_provider"] == {
        "rebuilt": 1101,
        "providers": 1101,
        "own": 1,
        "periods": ["2026", "2026Q3"],
    }
    assert (
        "dbt rebuilt the rows of 1101 of 1101 providers, of 1 in the models built by their own "
        "inputs and of every provider those of 2026, 2026Q3 in the models built by provider and "
        "period."
    ) in markdown(result)
    assert "Median of" not in md  # one round: no line of rounds
    result["repeats"] = {
        "full": [{"wall_s": w, "peak_rss": GB, "mean_load_1min": 1.0} for w in (200.0, 190.0)],
    }
    assert (
        "Median of 2 rounds (each: the floor, a full build on an empty home, then the "
        "re-deliveries on that home); the tables show each figure's median run, the peak target "
        "the largest of all rounds. Every round, in order: full build 200.0 / 190.0 s (peak "
        "1.00 / 1.00 GB)."
    ) in markdown(result)
    assert bench_run.dbt_by_provider("no such line") is None


def _run(wall: float, peak: int) -> dict:
    return {"whole": {"wall_s": wall, "peak_rss": peak, "mean_load_1min": 1.0}}


def test_three_rounds_report_the_median_run_and_the_largest_peak():
    args = bench_run.parser().parse_args([])
    assert bench_run.repeats(args) == 3  # bw: medians of 3 (#16)
    assert bench_run.repeats(bench_run.parser().parse_args(["--scale", "federal"])) == 1
    assert bench_run.repeats(bench_run.parser().parse_args(["--repeat", "5"])) == 5
    # walls 160, 150, 170 s: the median run is the 160 s one, whatever its peak
    fulls = [_run(160.0, 2 * GB), _run(150.0, 3 * GB), _run(170.0, GB)]
    assert bench_run.median_of(fulls) is fulls[0]
    assert bench_run.median_of([fulls[1], fulls[2]]) is fulls[1]  # even: the lower middle
    assert bench_run.median_of([fulls[0], None]) is None  # a round without it: no figure
    floors = [{"wall_s": w, "peak_rss": GB, "mean_load_1min": 0.5} for w in (8.0, 7.0, 9.0)]
    assert bench_run.median_of(floors) is floors[0]  # 8 s of 7, 8, 9
    assert bench_run.figures_of(fulls[1]) == {
        "wall_s": 150.0,
        "peak_rss": 3 * GB,
        "mean_load_1min": 1.0,
    }
    result = {
        "scale": "bw",
        "full": fulls[0],
        "correction": None,
        "incremental": None,
        "ratio_full_to_floor": 20.0,
        "repeats": {"full": [bench_run.figures_of(r) for r in fulls]},
    }
    found = {t["target"]: t["value"] for t in targets(result)}
    assert found["full `bw` build ≤ 75 s (2 cores)"] == 160.0  # the median's wall
    assert found["peak memory ≤ 2.5 GB"] == 3 * GB  # the largest peak of any round (150 s's)


def test_markdown_of_a_federal_run_without_incremental():
    whole = {
        "wall_s": 1_200.0,
        "peak_rss": 5 * GB,
        "outside_steps_wall_s": 30.0,
        "outside_steps_peak_rss": GB,
    }
    result = {
        "timestamp": "2026-12-04T13:00:00+00:00",
        "scale": "federal",
        "sample_interval_s": 0.2,
        "data": {"scale": "federal", "seed": 1, "stand": "2026-06-30", "files": 9, "rows": 99,
                 "bytes": 5e9},
        "generation": {"wall_s": 175.0, "peak_rss": 2 * GB, "mean_load_1min": 1.0,
                       "measured_at": "2026-12-04T12:00:00+00:00", "cached": True},
        "machine": {"cpu": "CPU X", "logical_cores": 2, "usable_cores": 2, "ram_gb": 24,
                    "os": "Linux", "python": "3.11", "duckdb": "2", "dbt_core": "1.11",
                    "dagster": "1.13", "git_commit": "abc"},
        "load": {k: {"loadavg": [1.0, 2.0, 3.0]} for k in ("before_full", "after")},
        "full": {"stages": {"ingest": {"wall_s": 600.0, "peak_rss": 3 * GB}},
                 "stages_wall_s": 1_170.0, "whole": whole},
        "incremental": None,
        "floor": {"files": 9, "wall_s": 100.0, "peak_rss": GB, "rows": 99},
        "ratio_full_to_floor": 12.0,
    }  # fmt: skip
    result["ratios_to_floor"] = bench_run.ratios_to_floor(result["full"], None, result["floor"])
    assert result["ratios_to_floor"] == {"full_wall": 12.0, "full_peak": 5.0}  # 1200/100, 5/1
    result["targets"] = targets(result)
    # generator 2 GB <= 6 GB; 1,200 s > 900 s (15 min); build 5 GB <= 8 GB
    assert [(t["target"][:30], t["met"]) for t in result["targets"]] == [
        ("`federal` generate: peak memor", True),
        ("`federal` full build ≤ 15 min", False),
        ("`federal` full build: peak mem", True),
    ]
    md = markdown(result)
    assert "| stage | full build wall s | full peak GB |" in md  # no incremental columns
    assert "| ingest + extract gate | 600.0 | 3.00 |" in md
    assert "No incremental build in this run" in md
    assert "| `federal` full build ≤ 15 min | 1,200.0 s (20.0 min) | ✗ |" in md
    assert "Generated when the cache was made (2026-12-04T12:00:00+00:00): 175.0 s, peak 2.00" in md
    assert "full build wall 12.0×, peak 5.0×; incremental" not in md


RUN_RESULTS = {
    "elapsed_time": 20.25,
    "results": [
        # three models (a seed counts with them) and three tests, one of them a unit test
        {"unique_id": "model.imw.int_contact_status", "execution_time": 8.0, "status": "success"},
        {"unique_id": "seed.imw.districts", "execution_time": 0.5, "status": "success"},
        {"unique_id": "model.imw.mart_x", "execution_time": 5.0, "status": "success"},
        {"unique_id": "test.imw.not_null_cases_case_key", "execution_time": 1.5, "status": "pass"},
        {"unique_id": "unit_test.imw.mart_x.t", "execution_time": 0.25, "status": "pass"},
        {"unique_id": "test.imw.unique_x", "execution_time": 0.75, "status": "fail"},
    ],
}


def test_dbt_node_times_rank_models_and_tests():
    nodes = node_times(RUN_RESULTS, top=2)
    assert nodes["elapsed_s"] == 20.25
    # models: 8.0 + 0.5 + 5.0 = 13.5 s over 3 nodes; the two slowest 8.0 and 5.0
    assert nodes["models"] == {
        "nodes": 3,
        "seconds": 13.5,
        "top": [
            {"node": "int_contact_status", "seconds": 8.0, "status": "success"},
            {"node": "mart_x", "seconds": 5.0, "status": "success"},
        ],
    }
    # tests: 1.5 + 0.25 + 0.75 = 2.5 s over 3 nodes (the unit test among them)
    assert nodes["tests"]["nodes"] == 3 and nodes["tests"]["seconds"] == 2.5
    assert [t["node"] for t in nodes["tests"]["top"]] == ["not_null_cases_case_key", "unique_x"]


def test_dbt_node_times_of_a_build_without_dbt_is_none(tmp_path):
    assert read_node_times(tmp_path) is None


def _fake_build(home, record: dict, exit_code: int) -> list[str]:
    """A stand-in for `imw build` that appends `record` to the home's build record and exits."""
    script = (
        "import json, pathlib, sys; p = pathlib.Path(sys.argv[1]) / 'logs' / 'builds.jsonl'; "
        "p.parent.mkdir(parents=True, exist_ok=True); "
        "p.open('a').write(sys.argv[2] + '\\n'); sys.exit(int(sys.argv[3]))"
    )
    return [sys.executable, "-c", script, str(home), json.dumps(record), str(exit_code)]


def test_a_failed_build_names_its_stage_and_fails_the_bench(tmp_path, monkeypatch):
    failed = {
        **RECORD,
        "result": "failed",
        "failed_steps": ["warehouse_dbt"],
        "reason": "warehouse_dbt: 3 tests failed",
    }
    monkeypatch.setattr(bench_run, "imw_command", lambda home: _fake_build(home, failed, 1))
    home = tmp_path / "home"
    home.mkdir()
    with pytest.raises(bench_run.BenchFailure, match=r"FAILED .* stage\(s\): dbt;.*3 tests"):
        bench_run.timed_build("full", home, bench_run.build_env({}))
    # what was measured until the failure is kept beside the home: the stages that ran
    measured = json.loads((tmp_path / "full-failed.json").read_text(encoding="utf-8"))
    assert measured["result"] == "failed"
    assert {"ingest", "dbt"} <= set(measured["stages"])  # RECORD's steps, sampled
    assert measured["whole"]["wall_s"] > 0
    ok = _fake_build(tmp_path, RECORD, 0)
    monkeypatch.setattr(bench_run, "imw_command", lambda home: ok)
    run, record = bench_run.timed_build("incremental", tmp_path, bench_run.build_env({}))
    assert record["run_id"] == "r1" and run.returncode == 0 and run.samples


def test_a_redelivered_file_not_accepted_fails_the_bench(tmp_path):
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.deliveries AS SELECT * FROM (VALUES "
            "(1, 'a.csv', 'ACCEPTED', 3, 3, 0), (2, 'b.csv', 'REJECTED', 2, 0, 0)) "
            "t(delivery_id, file_name, verdict, rows_delivered, rows_loaded, rows_quarantined)"
        )
    assert bench_run.check_redelivery(db, [tmp_path / "a.csv"]) == {"a.csv": "ACCEPTED"}
    with pytest.raises(bench_run.BenchFailure, match=r"b\.csv.*REJECTED"):
        bench_run.check_redelivery(db, [tmp_path / "a.csv", tmp_path / "b.csv"])
    assert bench_run.verdict_counts(db) == {"ACCEPTED": 1, "REJECTED": 1}


def test_a_sampled_run_echoes_its_output_as_it_comes(capsys):
    # `make bench` shows the build's progress lines live: each line of the child's stdout and
    # stderr is printed behind the prefix, and still captured whole for the results
    script = "import sys; print('ingest 3/3 files', flush=True); print('dbt 2/2', file=sys.stderr)"
    run = run_sampled([sys.executable, "-c", script], interval=0.05, echo="[bench full] ")
    shown = capsys.readouterr().out.splitlines()
    assert "[bench full] ingest 3/3 files" in shown
    assert "[bench full] dbt 2/2" in shown
    assert run.returncode == 0
    assert run.stdout == "ingest 3/3 files\n"
    assert run.stderr == "dbt 2/2\n"


def test_what_disclosure_control_kept_is_read_from_the_build(tmp_path):
    log = tmp_path / "build.log"
    # two builds' lines in one log: the last one counts; a line of another model is ignored
    log.write_text(
        "10:00 dbt started\n"
        "disclosure_pattern: no memo at /x/disclosure_memo.parquet; {'cells': 10, 'parts': 3, "
        "'parts_kept': 0, 'solved_anew': {'pattern_seconds': 2.5}, 'seconds': 2.6}\n"
        # the model's line since 2026-12-06: what it did with DuckDB's cache before the figures
        "disclosure_pattern: memo /x/disclosure_memo.parquet: 3 parts; DuckDB's cache given back; "
        "{'cells': 10, 'parts': 3, 'parts_kept': 3, 'solved_anew': None, 'seconds': 0.2}\n"
        "other_model: {'parts': 99}\n"
    )
    # every part kept: the engine solved nothing (0.0 s)
    assert pattern_figures(log) == {
        "parts": 3,
        "parts_kept": 3,
        "seconds": 0.2,
        "engine_seconds": 0.0,
    }
    assert pattern_figures(tmp_path / "missing.log") is None
    assert pattern_figures(None) is None
    reports = tmp_path / "reports"
    assert gate_figures(reports) is None  # no gate ran
    (reports / "_betrieb").mkdir(parents=True)
    gate = reports / "_betrieb" / "mart_gate.json"
    gate.write_text(json.dumps({"disclosure": {"cells": 10}}))  # a gate before the memos
    assert gate_figures(reports) is None
    gate.write_text(
        json.dumps({"disclosure": {"parts": 3, "parts_audited_before": 2, "seconds": 1.25}})
    )  # a gate before the pattern's audit was handed on: none from it
    assert gate_figures(reports) == {
        "parts": 3,
        "parts_audited_before": 2,
        "parts_from_pattern": 0,
        "years_audited_before": 0,
        "years_from_pattern": 0,
        "seconds": 1.25,
    }
    gate.write_text(
        json.dumps(
            {"disclosure": {"parts": 3, "parts_audited_before": 2, "parts_from_pattern": 1,
                            "seconds": 0.5}}
        )
    )  # fmt: skip
    assert gate_figures(reports)["parts_from_pattern"] == 1
    # a gate that took whole years: 1 from its own last audit, 2 from the pattern's
    gate.write_text(
        json.dumps(
            {"disclosure": {"parts": 3, "parts_audited_before": 1, "parts_from_pattern": 2,
                            "years_audited_before": 1, "years_from_pattern": 2, "seconds": 0.5}}
        )
    )  # fmt: skip
    figures = gate_figures(reports)
    assert (figures["years_audited_before"], figures["years_from_pattern"]) == (1, 2)
    assert text("full", None, figures) == (
        "Disclosure control in the full build: mart gate 1 of 3 parts from the audit before, "
        "2 from the pattern's final audit; whole years, not set up: 1 from the audit before, "
        "2 from the pattern's (0.5 s)."
    )


def test_builds_get_the_chosen_memory_limit_and_threads_or_the_defaults():
    caller = {"IMW_MEMORY_LIMIT": "9GB", "IMW_THREADS": "7", "PATH": "/bin"}
    env = bench_run.build_env(caller, {"IMW_MEMORY_LIMIT": "1GB", "IMW_THREADS": "1"})
    assert (env["IMW_MEMORY_LIMIT"], env["IMW_THREADS"]) == ("1GB", "1")  # --memory-limit 1GB
    env = bench_run.build_env(caller)
    # the caller's IMW_* never reach the builds: the warehouse's defaults, the CPUs
    assert env["IMW_MEMORY_LIMIT"] == DEFAULT_MEMORY_LIMIT
    assert env["IMW_THREADS"] == str(len(os.sched_getaffinity(0)))
