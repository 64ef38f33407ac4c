"""Assets of the needs forecast and the funding simulator: after the dbt models they read, before
the publish step. Wiring only; the work is in `forecast` and `funding_sim`."""

from __future__ import annotations

import dagster as dg
import polars as pl

from core import progress
from core.database import connect
from core.settings import PROJECT_ROOT
from forecast import scenarios
from forecast.warehouse import DIGEST_TABLE as FORECAST_DIGEST_TABLE
from forecast.warehouse import build_forecast, write_published
from funding_sim.warehouse import DIGEST_TABLE as FUNDING_DIGEST_TABLE
from funding_sim.warehouse import build_simulation
from orchestration.resources import WarehouseResource

FORECAST_TABLES = ("forecast_caseload", "forecast_backtest", "forecast_assumptions")
FUNDING_TABLE = "funding_scenarios"
FORECAST_KEYS = [dg.AssetKey(["published", t]) for t in FORECAST_TABLES]
FUNDING_KEY = dg.AssetKey(["published", FUNDING_TABLE])
FORECAST_INPUTS = [
    dg.AssetKey(["intermediate", "int_cases"]),
    dg.AssetKey(["staging", "stg_current_batches"]),
    dg.AssetKey(["staging", "stg_positions"]),
    dg.AssetKey(["staging", "stg_grants"]),
]
FUNDING_INPUTS = [
    dg.AssetKey(["intermediate", "int_grant_years"]),
    dg.AssetKey(["intermediate", "int_payout_requests"]),
    dg.AssetKey(["intermediate", "int_cases"]),
    dg.AssetKey(["staging", "stg_proofs_of_use"]),
    dg.AssetKey(["staging", "stg_budget"]),
    dg.AssetKey(["staging", "stg_current_batches"]),
]


def _input_file(assumptions: scenarios.Assumptions) -> str:
    path = assumptions.path.resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=FORECAST_INPUTS,
            group_name="forecast",
            description=f"Needs forecast (Bedarfsprognose): `{key.path[-1]}`.",
        )
        for key in FORECAST_KEYS
    ],
    can_subset=False,
)
def needs_forecast(warehouse: WarehouseResource):
    """Forecast, backtest and the assumptions they rest on, written together or not at all;
    the published ones again when nothing they are computed from changed (`forecast.warehouse`:
    kept, not computed)."""
    settings = warehouse.settings()
    assumptions = scenarios.load()
    with connect(settings.build_db, read_only=True) as con:
        built = build_forecast(con, assumptions, anew=warehouse.full_refresh)
    result = built.result
    tables = {
        "forecast_caseload": result.caseload,
        "forecast_backtest": result.backtest,
        "forecast_assumptions": result.assumptions,
    }
    if built.kept:  # published as they are, with their input file and digest
        counts = {name: frame.height for name, frame in tables.items()}
        progress.report("forecast", "inputs unchanged since the last build: forecast kept")
    else:
        counts = write_published(
            settings.build_db,
            tables,
            _input_file(assumptions),
            assumptions.sha256,
            digests={FORECAST_DIGEST_TABLE: built.digest},
        )
        if built.restamped:
            progress.report(
                "forecast",
                f"R moved to {result.reference_date}, the cases known at the origin "
                f"{result.origin} did not change: forecast kept, with the new R",
            )
    beats = result.backtest.filter(
        (pl.col("metric") == "beats_naive") & (pl.col("level") == "LAND")
    )
    for key in FORECAST_KEYS:
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows": counts[key.path[-1]],
                "origin": str(result.origin),
                "kept": built.kept or built.restamped,
                "empty_because": result.reason or "",
                "caseload_target": result.caseload_target or 0.0,
                "rate_eur_per_fte": result.rate_eur_per_fte or 0.0,
                "scenarios_sha256": assumptions.sha256,
                "land_beats_naive": dg.MetadataValue.json(
                    {
                        f"{h} months": bool(v)
                        for h, v in beats.select("horizon_months", "value").rows()
                    }
                ),
            },
        )


@dg.asset(
    key=FUNDING_KEY,
    deps=FUNDING_INPUTS,
    group_name="forecast",
    description="Funding-rate simulator (Fördersatz-Simulator): every rule of the assumptions "
    "file's grid, per grant-year and unit, and the budget view.",
)
def funding_scenarios(warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings()
    assumptions = scenarios.load()
    with connect(settings.build_db, read_only=True) as con:
        built = build_simulation(
            con, assumptions.funding, assumptions.sha256, FUNDING_TABLE, anew=warehouse.full_refresh
        )
    if built.table is None:  # published as it is, with its input file and digest
        progress.report("simulator", "inputs unchanged since the last build: simulation kept")
    else:
        write_published(
            settings.build_db,
            {FUNDING_TABLE: built.table},
            _input_file(assumptions),
            assumptions.sha256,
            digests={FUNDING_DIGEST_TABLE: built.digest},
        )
    return dg.MaterializeResult(
        metadata={
            "rows": built.rows,
            "kept": built.kept,
            "scenarios_sha256": assumptions.sha256,
        }
    )
