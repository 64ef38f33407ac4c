"""The needs forecast and the funding simulator against the build database: read their inputs
from the dbt models, write their tables into schema `published` (which `publish.analyst_db`
copies to the analysts) in one transaction, and record the assumptions file's sha256 in
`meta.published_inputs` (publish puts it into `build_info`).

**The build keeps a forecast whose inputs did not change.** The forecast is a function of what
`read_inputs` reads (the cases' Kreis, type, first contact and closure; R; the positions; the
grants), the assumptions file, this code and the versions of the libraries it computes with —
nothing else: every random draw comes from the assumptions' seed, and the backtest's threads
give the same tables as one thread. `inputs_digest` hashes all of it; `write_published` records
the digest beside the forecast tables, in the same transaction; `kept_forecast` returns the
published tables when the digest is the one recorded. A correction of contacts, goals or
payouts, which the forecast does not read, re-uses it; a changed case, position, grant,
assumption or line of code computes it anew. The digest is of unsuppressed inputs: it is as
confidential as the build database it sits in, and nothing publishes it.

**Of R and the cases, the forecast reads only what was known at its origin**: the last month
end on or before R (`needs.forecast_origin`), and the cases as known then (`needs.cut_at`:
started by the origin, a later closure not yet known). The simulation cuts the cases there, the
backtest's origins and targets lie on or before it, and the caseload target is taken from the
cases cut there. So the digest hashes the origin and the cases cut at it, not R and every case.
A delivery that moves R within the month, or closes or opens cases after the origin, keeps the
forecast: its tables are those a computation would give, with R in `reference_date`
(`restamped`). A new month's origin, or a change to a case before it, computes it anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from core.database import connect
from core.digests import code_digest, frame_digest
from core.resources import threads
from forecast import needs
from forecast.backtest import SCHEMA as BACKTEST_SCHEMA
from forecast.backtest import BacktestSettings, backtest
from forecast.disclosure import protect_forecasts
from forecast.scenarios import Assumptions

META_SCHEMA = "meta"
INPUTS_TABLE = "published_inputs"
DIGEST_TABLE = "forecast_inputs"
"""`meta.forecast_inputs`: the digest of the inputs the published forecast was computed from."""
CASELOAD_TABLE, BACKTEST_TABLE, ASSUMPTIONS_TABLE = (
    "forecast_caseload",
    "forecast_backtest",
    "forecast_assumptions",
)
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


POSITIONS_SCHEMA = {"fte": pl.Float64, "start_date": pl.Date, "end_date": pl.Date}
GRANTS_SCHEMA = {
    "period_from": pl.Date,
    "period_to": pl.Date,
    "amount_eur": pl.Float64,
    "fte_granted": pl.Float64,
}


def read_positions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return (
        con.sql(
            "SELECT CAST(fte AS DOUBLE) AS fte, start_date, end_date FROM staging.stg_positions"
        )
        .pl()
        .cast(POSITIONS_SCHEMA)
    )


def read_grants(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return (
        con.sql(
            "SELECT period_from, period_to, CAST(amount_eur AS DOUBLE) AS amount_eur, "
            "CAST(fte_granted AS DOUBLE) AS fte_granted FROM staging.stg_grants "
            "WHERE period_from IS NOT NULL AND period_to IS NOT NULL"
        )
        .pl()
        .cast(GRANTS_SCHEMA)
    )


@dataclass(frozen=True)
class ForecastInputs:
    """Everything `run_forecast` reads from the warehouse."""

    cases: pl.DataFrame
    positions: pl.DataFrame
    grants: pl.DataFrame
    reference_date: date | None
    """R; None without an accepted provider snapshot."""


def read_inputs(con: duckdb.DuckDBPyConnection) -> ForecastInputs:
    has_snapshot = con.execute(
        "SELECT count(*) FROM staging.stg_current_batches WHERE provider <> ?",
        [PROVIDER_EXTRACTS_EXCLUDED],
    ).fetchall()[0][0]
    if not has_snapshot:  # no R, nothing to forecast (`forecast_from`)
        return ForecastInputs(
            pl.DataFrame(schema=needs.CASES_SCHEMA),
            pl.DataFrame(schema=POSITIONS_SCHEMA),
            pl.DataFrame(schema=GRANTS_SCHEMA),
            None,
        )
    return ForecastInputs(
        read_cases(con), read_positions(con), read_grants(con), reference_date(con)
    )


_FORECAST_PACKAGE = Path(__file__).parent
_CODE_VERSION = code_digest(
    [
        *sorted(_FORECAST_PACKAGE.glob("*.py")),
        *sorted((_FORECAST_PACKAGE.parent / "disclosure").glob("*.py")),
        *sorted((_FORECAST_PACKAGE.parent / "contract").glob("*.py")),
    ],
    ("highspy", "numpy", "polars", "scipy", "statsmodels"),
)
"""The forecast's code (this package, the disclosure control it protects its tables with, the
contract's code lists) and the libraries it computes with."""


def inputs_digest(inputs: ForecastInputs, assumptions: Assumptions) -> str:
    """Hex SHA-256 of everything the build's forecast is computed from (module docstring)."""
    digest = hashlib.sha256(_CODE_VERSION)
    digest.update(assumptions.sha256.encode())
    # R and the cases only as far as the forecast reads them (module docstring)
    r = inputs.reference_date
    origin = needs.forecast_origin(r) if r is not None else None
    known = needs.cut_at(inputs.cases, origin) if origin is not None else inputs.cases
    digest.update(str(origin).encode())
    for frame in (known, inputs.positions, inputs.grants):
        # in any row order (DuckDB returns them in any)
        digest.update(frame_digest(frame.sort(frame.columns, nulls_last=True)))
    return digest.hexdigest()


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
    return forecast_from(
        read_inputs(con),
        assumptions,
        caseload_target=caseload_target,
        rate_eur_per_fte=rate_eur_per_fte,
        with_backtest=with_backtest,
    )


def forecast_from(
    inputs: ForecastInputs,
    assumptions: Assumptions,
    *,
    caseload_target: float | None = None,
    rate_eur_per_fte: float | None = None,
    with_backtest: bool = True,
) -> ForecastResult:
    """`run_forecast` of inputs already read."""
    f = assumptions.forecast
    cases = inputs.cases
    if cases.is_empty() or inputs.reference_date is None:
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
    r = inputs.reference_date
    origin = needs.forecast_origin(r)
    target = (
        caseload_target
        or f.caseload_target
        or needs.caseload_target_from(needs.cut_at(cases, origin), inputs.positions, origin)
    )
    rate = rate_eur_per_fte or f.rate_eur_per_fte or needs.current_rate_from(inputs.grants, origin)
    kreise = needs.kreise_at(cases, origin)
    models = needs.choose_models(cases, origin, history_months=f.history_months)

    def final() -> pl.DataFrame:
        sim = needs.simulate(
            cases,
            origin,
            horizon=f.horizon_months,
            replicates=f.simulations,
            history_months=f.history_months,
            min_events_per_region=f.survival_min_events_per_region,
            rng=np.random.default_rng(f.seed),
            kreise=kreise,
            chosen=models,
        )
        table = needs.caseload_frame(sim, assumptions.scenarios, f.quantiles, target, rate)
        return protect_forecasts(table)

    # The final forecast on a thread of its own, beside the backtest's origins on theirs: each
    # draws from its own generator, so the numbers are those of one after the other. On `bw`
    # the final simulation took 2.1 s on one core before the backtest's 5.5 s on two (2026-12-07).
    with ThreadPoolExecutor(1, thread_name_prefix="forecast-final") as pool:
        caseload = pool.submit(final)
        bt = (
            backtest(
                cases,
                origin,
                kreise,
                models,
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
        table = caseload.result()
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


def recorded_digest(con: duckdb.DuckDBPyConnection, digest_table: str) -> str | None:
    """The digest `write_published` recorded in `meta.<digest_table>`; None when there is none."""
    try:
        recorded = con.execute(f"SELECT digest FROM {META_SCHEMA}.{digest_table}").fetchall()
    except duckdb.CatalogException:
        return None
    return recorded[0][0] if len(recorded) == 1 else None


def kept_forecast(con: duckdb.DuckDBPyConnection, digest: str) -> ForecastResult | None:
    """The published forecast when it was computed from inputs with `digest` (written by
    `write_published` in the same transaction as its tables); else None."""
    if recorded_digest(con, DIGEST_TABLE) != digest:
        return None
    try:
        caseload, backtest_table, assumptions = (
            con.sql(f'SELECT * FROM published."{name}"').pl()
            for name in (CASELOAD_TABLE, BACKTEST_TABLE, ASSUMPTIONS_TABLE)
        )
    except duckdb.CatalogException:  # a table gone since its digest was recorded
        return None
    if caseload.is_empty():
        return None
    first = caseload.row(0, named=True)
    return ForecastResult(
        origin=first["origin"],
        reference_date=first["reference_date"],
        caseload_target=first["caseload_target"],
        rate_eur_per_fte=first["rate_eur_per_fte"],
        caseload=caseload.cast(CASELOAD_SCHEMA),
        backtest=backtest_table.cast(BACKTEST_SCHEMA),
        assumptions=assumptions,
    )


@dataclass(frozen=True)
class BuildForecast:
    """The build's forecast: `result`, the digest of its inputs, whether it is the one published
    before (`kept`: nothing to write), and whether it is that one with R moved within its origin's
    month (`restamped`: its tables written again, with the new R)."""

    result: ForecastResult
    digest: str
    kept: bool
    restamped: bool = False


def restamped(result: ForecastResult, reference_date: date) -> ForecastResult:
    """A forecast with R set to `reference_date`: in the result and in every caseload row."""
    return replace(
        result,
        reference_date=reference_date,
        caseload=result.caseload.with_columns(
            pl.lit(reference_date, pl.Date).alias("reference_date")
        ),
    )


def build_forecast(
    con: duckdb.DuckDBPyConnection, assumptions: Assumptions, *, anew: bool = False
) -> BuildForecast:
    """The nightly build's forecast: the published one when its inputs did not change (module
    docstring), with R restamped when only R moved within the month; else computed; `anew`
    (`imw build --full-refresh`): computed in any case."""
    inputs = read_inputs(con)
    digest = inputs_digest(inputs, assumptions)
    kept = None if anew else kept_forecast(con, digest)
    if kept is None:
        return BuildForecast(forecast_from(inputs, assumptions), digest, kept=False)
    if kept.reference_date == inputs.reference_date:
        return BuildForecast(kept, digest, kept=True)
    return BuildForecast(restamped(kept, inputs.reference_date), digest, kept=False, restamped=True)


def write_published(
    build_db: Path,
    tables: dict[str, pl.DataFrame],
    input_file: str,
    input_sha256: str,
    *,
    digests: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Replace `published.<name>` for every table and record their input file, atomically; with
    `digests` ({`meta` table: digest}, e.g. {DIGEST_TABLE: …} for the forecast's tables), record
    the digest of the inputs they were computed from as well."""
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
            for digest_table, digest in (digests or {}).items():
                con.execute(
                    f"CREATE OR REPLACE TABLE {META_SCHEMA}.{digest_table} AS SELECT ? AS digest",
                    [digest],
                )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return counts
