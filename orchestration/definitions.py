"""Dagster definitions of the warehouse (loaded lazily: no work at import time)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets import build_dbt_assets, build_publish_asset, raw_extracts
from orchestration.checks import build_mart_gate_check
from orchestration.resources import WarehouseResource, dbt_resource

NIGHTLY_BUILD = "nightly_build"


def build_definitions(warehouse: WarehouseResource | None = None) -> dg.Definitions:
    dbt_defs = build_dbt_assets()
    publish_asset = build_publish_asset(dbt_defs)
    nightly_build = dg.define_asset_job(
        NIGHTLY_BUILD,
        selection=dg.AssetSelection.all(),
        description="Ingest the landing folder, build all dbt models and tests, publish.",
        executor_def=dg.in_process_executor,
    )
    return dg.Definitions(
        assets=[raw_extracts, dbt_defs, publish_asset],
        asset_checks=[build_mart_gate_check(dbt_defs)],
        jobs=[nightly_build],
        resources={"warehouse": warehouse or WarehouseResource(), "dbt": dbt_resource()},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
