"""The nightly job run as far as a test looks: ingest and the dbt models upstream of some tables.

The defective world (test_extract_gate_build.py) needs ingest and `marts.indicator_values`; the
outcome worlds (test_outcome_truth.py) need ingest and the export models. Disclosure control,
forecast, simulation, mart gate, publishing and the report change nothing they read — the shared
tiny world runs the whole job — and at `demo` scale disclosure control alone takes minutes.
It is the job the UI and `imw build` run (`orchestration.definitions`), with an asset selection
as an operator would make in the UI: the raw tables' extract-gate checks run, dbt's data tests
do not (some test a model outside the selection).
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from core.settings import KEY_ENV, Settings, applied_environment
from orchestration.definitions import NIGHTLY_BUILD, build_definitions
from orchestration.resources import WarehouseResource


def build_until(settings: Settings, key: str, targets: Iterable[dg.AssetKey]) -> None:
    """Ingest `settings.landing` and build every dbt model upstream of `targets`."""
    settings.ensure_dirs()
    with (
        applied_environment({**settings.env(), KEY_ENV: key}),
        dg.DagsterInstance.from_config(str(settings.ensure_dagster_home())) as instance,
    ):
        defs = build_definitions(
            WarehouseResource(home=str(settings.home), landing=str(settings.landing))
        )
        graph = defs.resolve_asset_graph()
        upstream = dg.AssetSelection.assets(*targets).upstream()
        # the ingest asset is one op: all its outputs (raw tables, provider issues) or none
        raw = [k for k in graph.get_all_asset_keys() if k.path[0] == "raw"]
        selected = (upstream | dg.AssetSelection.assets(*raw)).resolve(graph)
        gates = {k for k in graph.asset_check_keys if k.asset_key.path[0] == "raw"}
        job = defs.resolve_job_def(NIGHTLY_BUILD).get_subset(
            asset_selection=selected, asset_check_selection=gates
        )
        run = job.execute_in_process(instance=instance, raise_on_error=False)
    assert run.success, [e.message for e in run.all_events if e.is_failure]
