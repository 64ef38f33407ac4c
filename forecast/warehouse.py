"""The needs forecast and the funding simulator against the build database: read their inputs
from the dbt models, write their tables into schema `published` (which `publish.analyst_db`
copies to the analysts) in one transaction, and record the assumptions file's sha256 in
`meta.published_inputs` (publish puts it into `build_info`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from core.database import connect
from core.resources import threads
from forecast import needs
from forecast.backtest import SCHEMA as BACKTEST_SCHEMA
from forecast.backtest import BacktestSettings, backtest
from forecast.disclosure import protect_forecasts
from forecast.scenarios import Assumptions

META_SCHEMA = "meta"
INPUTS_TABLE = "published_inputs"
PROVIDER_EXTRACTS_EXCLUDED = "08"  # the funding authority: its stand is not R (docs/indicators.md)


def reference_date(con: duckdb.DuckDBPyConnection) -> date:
    """R: the newest stand among the providers' accepted current snapshots."""
    r = con.execute(
        "SELECT max(stand) FROM staging.stg_current_batches WHERE provider <> ?",
        [PROVIDER_EXTRACTS_EXCLUDED],
    ).fetchall()[0][0]
    if r is None:
        raise ValueError("no accepted provider snapshot: no reference date, nothing to forecast")
    return r


def read_cases(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return (
        con.sql(
            """
        SELECT left(provider, 5) AS kreis, case_type, first_contact_date AS first_contact,
               closure_date AS closure
        FROM intermediate.int_cases
        WHERE first_contact_date IS NOT NULL AND case_type IN ('CM', 'KB')
        """
        )
        .pl()
        .cast(needs.CASES_SCHEMA)
    )


def read_positions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT CAST(fte AS DOUBLE) AS fte, start_date, end_date FROM staging.stg_positions"
    ).pl()


def read_grants(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return con.sql(
        "SELECT period_from, period_to, CAST(amount_eur AS DOUBLE) AS amount_eur, "
        "CAST(fte_granted AS DOUBLE) AS fte_granted FROM staging.stg_grants "
        "WHERE period_from IS NOT NULL AND period_to IS NOT NULL"
    ).pl()


CASELOAD_SCHEMA = {
    "level": pl.String,
    "unit_code": pl.String,
    "reference_date": pl.Date,
    "origin": pl.Date,
    "month": pl.Date,
    "horizon_months": pl.Int64,
    "scenario": pl.String,
    "case_type": pl.String,
    "open_p10": pl.Float64,
    "open_p50": pl.Float64,
    "open_p90": pl.Float64,
    "new_cases": pl.Float64,
    "open_at_origin": pl.Float64,
    "fte_needed": pl.Float64,
    "funding_needed_eur_per_year": pl.Float64,
    "caseload_target": pl.Float64,
    "rate_eur_per_fte": pl.Float64,
    "model": pl.String,
    "suppressed": pl.Boolean,
}


@dataclass(frozen=True)
class ForecastResult:
    origin: date | None
    reference_date: date | None
    caseload_target: float | None
    rate_eur_per_fte: float | None
    caseload: pl.DataFrame
    backtest: pl.DataFrame
    assumptions: pl.DataFrame
    reason: str | None = None
    """Why the tables are empty (no provider snapshot, no cases); None when forecast."""


def run_forecast(
    con: duckdb.DuckDBPyConnection,
    assumptions: Assumptions,
    *,
    caseload_target: float | None = None,
    rate_eur_per_fte: float | None = None,
    with_backtest: bool = True,
) -> ForecastResult:
    """Everything the three forecast tables hold; raises on any gap (no half forecast)."""
    f = assumptions.forecast
    has_snapshot = con.execute(
        "SELECT count(*) FROM staging.stg_current_batches WHERE provider <> ?",
        [PROVIDER_EXTRACTS_EXCLUDED],
    ).fetchall()[0][0]
    cases = read_cases(con) if has_snapshot else pl.DataFrame(schema=needs.CASES_SCHEMA)
    if cases.is_empty():
        # like the indicators without R: empty tables that say why, not a failed build
        return ForecastResult(
            None,
            None,
            None,
            None,
            pl.DataFrame(schema=CASELOAD_SCHEMA),
            pl.DataFrame(schema=BACKTEST_SCHEMA),
            assumptions.table(),
            reason="no accepted provider snapshot with cases: nothing to forecast",
        )
    r = reference_date(con)
    origin = needs.forecast_origin(r)
    target = (
        caseload_target
        or f.caseload_target
        or needs.caseload_target_from(needs.cut_at(cases, origin), read_positions(con), origin)
    )
    rate = (
        rate_eur_per_fte or f.rate_eur_per_fte or needs.current_rate_from(read_grants(con), origin)
    )
    sim = needs.simulate(
        cases,
        origin,
        horizon=f.horizon_months,
        replicates=f.simulations,
        history_months=f.history_months,
        min_events_per_region=f.survival_min_events_per_region,
        rng=np.random.default_rng(f.seed),
    )
    table = needs.caseload_frame(sim, assumptions.scenarios, f.quantiles, target, rate)
    table = protect_forecasts(table)
    bt = (
        backtest(
            cases,
            origin,
            sim,
            BacktestSettings(
                origins=f.backtest_origins_months,
                horizons=f.backtest_horizons,
                replicates=f.backtest_simulations,
                history_months=f.history_months,
                min_events_per_region=f.survival_min_events_per_region,
                quantiles=f.quantiles,
            ),
            seed=f.seed,
            workers=threads(),
        )
        if with_backtest
        else pl.DataFrame(schema=BACKTEST_SCHEMA)
    )
    return ForecastResult(
        origin=origin,
        reference_date=r,
        caseload_target=float(target),
        rate_eur_per_fte=float(rate),
        caseload=table.with_columns(
            pl.lit(origin).alias("origin"), pl.lit(r).alias("reference_date")
        )
        .select(list(CASELOAD_SCHEMA))
        .cast(CASELOAD_SCHEMA),
        backtest=bt,
        assumptions=assumptions.table(),
    )


def write_published(
    build_db: Path, tables: dict[str, pl.DataFrame], input_file: str, input_sha256: str
) -> dict[str, int]:
    """Replace `published.<name>` for every table and record their input file, atomically."""
    counts = {}
    with connect(build_db) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS published")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {META_SCHEMA}")
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_SCHEMA}.{INPUTS_TABLE} ("
                "table_name VARCHAR PRIMARY KEY, input_file VARCHAR NOT NULL, "
                "input_sha256 VARCHAR NOT NULL)"
            )
            for name, frame in tables.items():
                con.register("_frame", frame.to_arrow())
                con.execute(f'CREATE OR REPLACE TABLE published."{name}" AS SELECT * FROM _frame')
                con.unregister("_frame")
                counts[name] = frame.height
                con.execute(
                    f"INSERT OR REPLACE INTO {META_SCHEMA}.{INPUTS_TABLE} VALUES (?, ?, ?)",
                    [name, input_file, input_sha256],
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return counts
