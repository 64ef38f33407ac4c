"""The forecast/simulator tables reach the analysts with the assumptions file's sha256 in
build_info, and are written all together or not at all."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from forecast.warehouse import write_published
from publish.analyst_db import publish


def _build_db(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA published")
        con.execute("CREATE TABLE published.indicator_values AS SELECT 1 AS v")


def test_build_info_names_the_scenario_file_and_its_hash(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "pub" / "indicators.duckdb"
    _build_db(build)
    frames = {
        "forecast_caseload": pl.DataFrame({"open_p50": [1.0, 2.0]}),
        "funding_scenarios": pl.DataFrame({"paid_eur": [3.0]}),
    }
    counts = write_published(build, frames, "forecast/scenarios.yaml", "ab" * 32)
    assert counts == {"forecast_caseload": 2, "funding_scenarios": 1}
    publish(build, pub)
    with duckdb.connect(str(pub), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, row_count, input_file, input_sha256 FROM build_info ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("forecast_caseload", 2, "forecast/scenarios.yaml", "ab" * 32),
        ("funding_scenarios", 1, "forecast/scenarios.yaml", "ab" * 32),
        ("indicator_values", 1, None, None),  # a dbt table rests on no assumptions file
    ]


def test_a_failing_table_leaves_the_previous_set_in_place(tmp_path):
    build = tmp_path / "build.duckdb"
    _build_db(build)
    write_published(build, {"forecast_caseload": pl.DataFrame({"x": [1]})}, "f.yaml", "old")
    # the second table cannot be written: its (deliberately broken) name ends the SQL identifier
    with pytest.raises(duckdb.Error):
        write_published(
            build,
            {"forecast_caseload": pl.DataFrame({"x": [2, 3]}), 'forecast"backtest': pl.DataFrame()},
            "f.yaml",
            "new",
        )
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("SELECT x FROM published.forecast_caseload").fetchall() == [(1,)]
        assert con.execute("SELECT input_sha256 FROM meta.published_inputs").fetchall() == [
            ("old",)
        ]
        tables = {r[0] for r in con.execute("SHOW ALL TABLES").fetchall()}
    assert not any("backtest" in t for t in tables)


def test_a_build_without_cases_publishes_empty_forecast_tables(tmp_path):
    from forecast import scenarios
    from forecast.warehouse import CASELOAD_SCHEMA, run_forecast

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE SCHEMA intermediate")
        # only the funding authority delivered: no provider snapshot, so no R and no cases
        con.execute("CREATE TABLE staging.stg_current_batches AS SELECT '08' AS provider, "
                    "DATE '2026-06-30' AS stand")  # fmt: skip
        con.execute(
            "CREATE TABLE intermediate.int_cases (provider VARCHAR, case_type VARCHAR, "
            "first_contact_date DATE, closure_date DATE)"
        )
    with duckdb.connect(str(build), read_only=True) as con:
        result = run_forecast(con, scenarios.load())
    assert result.reason and "nothing to forecast" in result.reason
    assert result.caseload.is_empty() and result.backtest.is_empty()
    assert result.caseload.schema == pl.Schema(CASELOAD_SCHEMA)
    assert not result.assumptions.is_empty()  # the assumptions are published all the same
