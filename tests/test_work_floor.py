"""`bench.work_floor`: the build's work at its libraries' own speed (#16's measured floor).

The measurement must run the same work as the build (the same SQL, the same linear programs, the
same draws) and count only what it times: checked on hand-made SQL, on the shared `tiny` build's
dbt run, on a small disclosure problem and on a seeded generator."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import date

import duckdb
import numpy as np
import pytest

from bench import data as bench_data
from bench import work_floor
from bench.disclosure_ab import marts_cells
from bench.work_floor import (
    Clock,
    beside,
    delivered_files,
    measure_forecast,
    measure_gx,
    measure_ingest,
    measure_read,
    measure_solver,
    measure_sql,
    solver_timed,
    sql_statements,
)
from core.database import connect
from disclosure import engine
from disclosure.chunks import protect_by_year
from disclosure.engine import audit, primary_cells
from expectations import extract_gate, gx_runtime
from forecast import inflow, needs, scenarios
from forecast.warehouse import build_forecast
from tests.test_disclosure import _many_providers, hierarchy_problem
from tests.tiny_world import REJECTED_FILE, TinyWorld


def test_a_models_sql_writes_beside_its_own_relation():
    relation = '"build"."marts"."mart_x"'
    # dbt's table materialisation writes a __dbt_tmp relation and renames it afterwards
    sql = 'create table "build"."marts"."mart_x__dbt_tmp" as (select * from "build"."marts"."y")'
    moved, written = beside(sql, relation)
    assert written == '"build"."marts"."mart_x__floor"'
    assert moved == f'create table {written} as (select * from "build"."marts"."y")'
    # a full refresh of a model built by provider creates the relation itself
    moved, _ = beside(f"create table {relation} as (select 1 as a)", relation)
    assert moved == f"create table {written} as (select 1 as a)"
    # a relation whose name only begins like this one's is another relation: left alone
    other = 'select * from "build"."marts"."mart_x_wide"'
    assert beside(other, relation)[0] == other


def test_the_sql_of_the_tiny_builds_dbt_run_runs_alone_in_duckdb(tiny_world: TinyWorld, tmp_path):
    home = tiny_world.settings.home
    database = home / "warehouse" / "build.duckdb"
    before = database.stat().st_mtime_ns, database.stat().st_size
    target = home / "warehouse" / "dbt-target"
    manifest = json.loads((target / "manifest.json").read_text())
    ran = [r["unique_id"] for r in json.loads((target / "run_results.json").read_text())["results"]]
    sql_models = [
        u for u in ran if u.startswith("model.") and manifest["nodes"][u].get("language") == "sql"
    ]
    tests = [u for u in ran if u.startswith("test.")]
    assert sql_models and tests  # the shared build ran both
    statements = sql_statements(home)
    # every SQL model and test of the run, in the order it finished; the Python model left out
    assert [s["unique_id"] for s in statements] == [u for u in ran if u in {*sql_models, *tests}]
    assert "model.imw.disclosure_pattern" not in {s["unique_id"] for s in statements}

    figures = measure_sql(home, threads=1, memory_limit="1GB", scratch=tmp_path)
    assert figures["models"]["nodes"] == len(sql_models)
    assert figures["tests"]["nodes"] == len(tests)
    assert figures["models"]["wall_s"] > 0 and figures["tests"]["wall_s"] > 0
    assert figures["models"]["cpu_s"] >= 0
    # the home's database was only read (its copy was written), and the copy is gone
    assert (database.stat().st_mtime_ns, database.stat().st_size) == before
    assert not list(tmp_path.iterdir())


def _home_with_one_model(root, sql: str):
    """A home whose last dbt run built one SQL model, `model.imw.m`, with `sql`."""
    target = root / "warehouse" / "dbt-target"
    (target / "run" / "imw" / "models").mkdir(parents=True)
    (target / "run" / "imw" / "models" / "m.sql").write_text(sql)
    node = {
        "resource_type": "model",
        "language": "sql",
        "config": {"materialized": "incremental"},
        "compiled_path": str(target / "compiled" / "imw" / "models" / "m.sql"),
        "relation_name": '"build"."main"."m"',
    }
    (target / "manifest.json").write_text(json.dumps({"nodes": {"model.imw.m": node}}))
    results = {"results": [{"unique_id": "model.imw.m", "execution_time": 0.5}]}
    (target / "run_results.json").write_text(json.dumps(results))
    return root


def test_only_a_full_builds_sql_is_measured(tmp_path):
    # a model built by provider in a full build: the table made anew
    made = 'create  table\n  "build"."main"."m" as (select 1)'
    full = _home_with_one_model(tmp_path / "full", made)
    assert [s["unique_id"] for s in sql_statements(full)] == ["model.imw.m"]
    # the same model in an incremental run: dbt's SQL only inserts the new rows
    added = _home_with_one_model(
        tmp_path / "added", 'insert into "build"."main"."m" ("a") (select "a" from "m__dbt_tmp1")'
    )
    with pytest.raises(ValueError, match=r"incrementally .* --full-refresh"):
        sql_statements(added)


def test_a_models_sql_that_names_a_missing_table_fails_the_measurement(tmp_path, monkeypatch):
    # a statement the copy cannot run is an error, not a fast zero
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    duckdb.connect(str(home / "warehouse" / "build.duckdb")).close()
    monkeypatch.setattr(
        work_floor,
        "sql_statements",
        lambda _: [
            {
                "unique_id": "model.imw.broken",
                "kind": "model",
                "materialized": "table",
                "sql": 'create table "build"."main"."broken" as from "build"."main"."gone"',
                "relation": '"build"."main"."broken"',
                "dbt_s": 0.0,
            }
        ],
    )
    with pytest.raises(duckdb.CatalogException, match="gone"):
        measure_sql(home, threads=1, memory_limit="1GB", scratch=tmp_path)


def test_timing_the_solver_keeps_the_ranges_and_counts_every_program(monkeypatch):
    monkeypatch.setenv(engine.WORKERS_ENV, "1")
    p, names = hierarchy_problem(_many_providers())
    hidden = np.zeros(p.n_cells, dtype=bool)
    hidden[primary_cells(p)] = True
    # and the three RB rows: with the published LAND and Kreise they make a component of several
    # sums, which takes linear programs (a component of one sum is solved in closed form)
    hidden[[names.index(rb) for rb in ("R0", "R1", "R2")]] = True
    plain = audit(p, hidden)
    runs: list[int] = []
    minimise = engine._Program.minimise
    monkeypatch.setattr(
        engine._Program, "minimise", lambda self, c: runs.append(1) or minimise(self, c)
    )
    simplex, other, setup = Clock(), Clock(), Clock()
    original = engine._Program.__init__
    with solver_timed(simplex, other, setup):
        timed = audit(p, hidden)
    assert engine._Program.__init__ is original  # put back after the scope
    assert timed.ranges.equals(plain.ranges)  # the same programs, the same ranges
    assert len(runs) == plain.linear_programs > 0
    assert simplex.calls >= len(runs)  # one run per program (two where a stalled one restarts)
    assert other.calls >= 2 * len(runs)  # a new cost and a status per program at least
    assert setup.calls >= 1 and simplex.seconds > 0


def test_the_solver_part_protects_the_years_asked_and_times_their_programs(
    tiny_world: TinyWorld, monkeypatch
):
    home = tiny_world.settings.home
    monkeypatch.delenv(engine.WORKERS_ENV, raising=False)
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        years, cells_of = marts_cells(con)
        year = years[-1]  # the newest year: the build's largest (the most providers)
        untimed = protect_by_year([year], cells_of, None)
    figures = measure_solver(home, frozenset({year}))
    assert figures["years"] == [year]
    assert figures["suppressed"] == untimed.pattern.height > 0  # the same pattern's size
    # its programs were timed: at least those of the final audit the engine counts itself
    final = untimed.figures["solved_anew"]["linear_programs"]
    assert figures["programs"] >= final > 0 and figures["setups"] > 0
    assert engine.WORKERS_ENV not in os.environ  # one process for the measurement only
    with pytest.raises(ValueError, match="none of the years"):
        measure_solver(home, frozenset({"1999"}))
    # were the engine's programs no longer made where the measurement times them, it says so
    monkeypatch.setattr(work_floor, "solver_timed", lambda *clocks: contextlib.nullcontext())
    with pytest.raises(RuntimeError, match="were not seen"):
        measure_solver(home, frozenset({year}))


def test_the_gx_part_ingests_every_delivered_file_again_and_times_gx(
    tiny_world: TinyWorld, tmp_path
):
    home = tiny_world.settings.home
    files = delivered_files(home)
    # every file the build was given: accepted (archive) or refused (quarantine, the bad one)
    assert len(files) == tiny_world.files
    assert REJECTED_FILE in {f.name for f in files}
    figures = measure_gx(home, scratch=tmp_path)
    assert figures["verdicts"] == len(files)
    assert figures["gx_validations"] > 0
    # validation is part of the extract gate, which is part of the ingest
    assert 0 < figures["gx_validate_cpu_s"] <= figures["extract_gate_cpu_s"]
    assert figures["extract_gate_cpu_s"] <= figures["ingest_cpu_s"]
    assert extract_gate.validate is gx_runtime.validate  # put back
    assert not list(tmp_path.iterdir())  # the fresh home removed


def test_the_ingest_part_ingests_as_the_build_does_and_then_its_halves_one_after_the_other(
    tiny_world: TinyWorld, tmp_path, monkeypatch
):
    import ingest.load as load

    home = tiny_world.settings.home
    files = delivered_files(home)
    read_ahead = load.read_ahead
    figures = measure_ingest(home, scratch=tmp_path)
    # every delivered file got its verdict, the same in both ingests (else the part fails)
    assert figures["verdicts"] == len(files) == tiny_world.files
    assert figures["chunks"] >= 1
    # the halves and the rest make up the ingest without overlap, to the rounding of each
    # figure to 0.1 s (four figures: at most 0.2 s apart)
    halves = figures["reading_wall_s"] + figures["loading_wall_s"] + figures["rest_wall_s"]
    assert abs(halves - figures["serial_wall_s"]) <= 0.2
    # the least wall time at a perfect overlap: both halves' CPU shared by 2 cores, plus the
    # rest as it ran (three figures rounded to 0.1 s: at most 0.15 s apart after halving two)
    perfect = (figures["reading_cpu_s"] + figures["loading_cpu_s"]) / 2 + figures["rest_wall_s"]
    assert abs(figures["perfect_overlap_wall_s"] - perfect) <= 0.15
    assert load.read_ahead is read_ahead  # put back
    assert not list(tmp_path.iterdir())  # both fresh homes removed
    table = work_floor.ingest_markdown(figures).splitlines()
    assert table[0].startswith(
        f"| the ingest of {len(files):,} files in {figures['chunks']} chunks"
    )
    assert len(table) == 2 + 5 + 1  # header, rule, five measured rows, the perfect overlap
    # were the chunks no longer read where the measurement replaces the read-ahead, it says so
    monkeypatch.setattr(work_floor, "ingest_in_halves", lambda *halves: contextlib.nullcontext())
    with pytest.raises(RuntimeError, match="were not seen"):
        measure_ingest(home, scratch=tmp_path)


def test_the_forecast_part_computes_the_builds_forecast_and_times_its_draws(
    tiny_world: TinyWorld,
):
    home = tiny_world.settings.home
    fit, bootstrap = inflow._fit, needs.bootstrap_curves
    figures = measure_forecast(home)
    with connect(tiny_world.settings.build_db, read_only=True) as con:
        plain = build_forecast(con, scenarios.load(), anew=True).result
    # the same forecast: as many rows as without the timing
    assert figures["rows"] == plain.caseload.height + plain.backtest.height > 0
    assert figures["multinomial_calls"] > 0 and figures["multinomial_cpu_s"] >= 0
    assert (inflow._fit, needs.bootstrap_curves) == (fit, bootstrap)  # put back


def test_the_floor_adds_up_its_rows():
    figures = {
        "read": {"files": 3, "rows": 10, "wall_s": 1.0, "cpu_s": 1.5},
        "forecast": {
            "forecast_wall_s": 2.0,
            "forecast_cpu_s": 3.0,
            "ets_cpu_s": 0.5,
            "multinomial_cpu_s": 0.25,
        },
    }
    rows = work_floor.floor_rows(figures)
    # the read's CPU as measured; the forecast's fits (0.5) and draws (0.25) together: 0.75
    assert [(name.split(":")[0], cpu) for name, cpu, _ in rows] == [
        ("DuckDB", 1.5),
        ("statsmodels and numpy", 0.8),  # 0.75 to one decimal (round half to even: 0.8)
    ]
    # 1.5 + 0.8 = 2.3 CPU-s in all; on 2 cores 1.15 s, printed 1.1 (the float is just under)
    assert work_floor.markdown(figures).splitlines()[-1] == (
        "| **in all** | **2.3** | on 2 cores at least 1.1 s of wall |"
    )


def test_the_read_part_is_the_benchs_floor_on_the_same_files(tmp_path):
    data, _ = bench_data.cached_dataset(tmp_path / "cache", "tiny", 1, date(2026, 6, 30))
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    figures = measure_read(data.folder, scratch)
    # every file of the data set read, every row the generator wrote counted
    assert figures["files"] == len(data.files)
    assert figures["rows"] == sum(data.generator_rows.values()) > 0
    assert figures["wall_s"] >= 0 and figures["cpu_s"] >= 0
    assert not list(scratch.iterdir())  # its database removed


def test_timed_draws_are_the_generators_own_draws():
    clock = Clock()
    counts = np.array([5, 0, 3, 12])
    plain = np.random.default_rng(7).multinomial(20, counts / counts.sum(), size=4)
    timed = work_floor._TimedDraws(np.random.default_rng(7), clock).multinomial(
        20, counts / counts.sum(), size=4
    )
    assert np.array_equal(plain, timed)
    assert clock.calls == 1


def test_a_clock_adds_the_cpu_time_of_each_timed_call():
    clock = Clock()

    def busy(n: int) -> int:
        return sum(i * i for i in range(n))

    timed = clock.wrap(busy)
    assert timed(10) == busy(10)  # the result passes through
    timed(200_000)
    assert clock.calls == 2 and clock.seconds > 0
    with pytest.raises(ZeroDivisionError):
        clock.wrap(lambda: 1 / 0)()
    assert clock.calls == 3  # a call that raised is counted too
