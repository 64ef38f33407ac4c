"""Dagster definitions of the warehouse (loaded lazily: no work at import time)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import (
    build_dbt_assets,
    build_publish_asset,
    build_report_asset,
    raw_extracts,
)
from orchestration.automation import (
    build_record_sensors,
    freshness_schedule,
    landing_sensor,
    nightly_schedule,
)
from orchestration.checks import build_mart_gate_check, published_freshness
from orchestration.export_job import build_export_job
from orchestration.forecast_assets import (
    FORECAST_KEYS,
    FUNDING_KEY,
    funding_scenarios,
    needs_forecast,
)
from orchestration.outcome_job import build_outcome_job
from orchestration.resources import BuildLockResource, WarehouseResource, dbt_resource

NIGHTLY_BUILD = "nightly_build"
FRESHNESS_CHECK = "freshness_check"


def build_definitions(warehouse: WarehouseResource | None = None) -> dg.Definitions:
    warehouse = warehouse or WarehouseResource()
    dbt_defs = build_dbt_assets()
    publish_asset = build_publish_asset(dbt_defs, (*FORECAST_KEYS, FUNDING_KEY))
    report_asset = build_report_asset(publish_asset)
    nightly_build = dg.define_asset_job(
        NIGHTLY_BUILD,
        selection=dg.AssetSelection.all(),
        description="Ingest the landing folder, build all dbt models and tests, forecast and "
        "simulate funding, publish, report.",
        executor_def=dg.in_process_executor,
    )
    freshness_check = dg.define_asset_job(
        FRESHNESS_CHECK,
        selection=dg.AssetSelection.checks(published_freshness),
        description="Only the freshness check of the published indicators.",
        executor_def=dg.in_process_executor,
    )
    return dg.Definitions(
        assets=[
            raw_extracts,
            dbt_defs,
            needs_forecast,
            funding_scenarios,
            publish_asset,
            report_asset,
        ],
        asset_checks=[build_mart_gate_check(dbt_defs), published_freshness],
        jobs=[nightly_build, freshness_check, build_export_job(), build_outcome_job()],
        schedules=[nightly_schedule(nightly_build), freshness_schedule(freshness_check)],
        sensors=[landing_sensor(nightly_build), *build_record_sensors(nightly_build)],
        resources={
            "warehouse": warehouse,
            "build_lock": BuildLockResource(home=warehouse.home),
            "dbt": dbt_resource(),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
