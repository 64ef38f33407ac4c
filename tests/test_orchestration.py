"""The Dagster definitions load, and the nightly job covers ingest, every dbt model and publish."""

from __future__ import annotations

import dagster as dg

from contract.spec import EXTRACTS
from orchestration.definitions import NIGHTLY_BUILD, build_definitions, defs


def test_definitions_load_and_validate():
    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    assert loaded.resolve_job_def(NIGHTLY_BUILD) is not None


def test_nightly_build_selects_ingest_dbt_and_publish():
    loaded = build_definitions()
    job = loaded.resolve_job_def(NIGHTLY_BUILD)
    keys = {k.to_user_string() for k in job.asset_layer.asset_graph.get_all_asset_keys()}
    assert {f"raw/{name}" for name in EXTRACTS} <= keys
    assert {
        "staging/stg_cases",
        "marts/indicator_values",
        "published/pub_indicator_values",
        "published_indicators",
    } <= keys


def test_dbt_sources_are_the_raw_assets():
    loaded = build_definitions()
    graph = loaded.resolve_asset_graph()
    parents = {
        k.to_user_string() for k in graph.get(dg.AssetKey(["staging", "stg_cases"])).parent_keys
    }
    assert parents == {"raw/faelle"}
