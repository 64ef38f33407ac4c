"""The Dagster definitions: they load, and their shape — every asset with its dependencies, every
asset check, job, schedule and sensor — equals the committed snapshot
(`tests/snapshots/dagster_definitions.json`). A change to the wiring shows as a diff of that file;
after a deliberate change, regenerate it with `IMW_UPDATE_SNAPSHOTS=1 .venv/bin/pytest
tests/test_orchestration.py` and review the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import NIGHTLY_BUILD, build_definitions, defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "dagster_definitions.json"


def definitions_shape(loaded: dg.Definitions) -> dict:
    graph = loaded.resolve_asset_graph()
    assets = {
        key.to_user_string(): sorted(p.to_user_string() for p in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    checks = sorted(f"{c.asset_key.to_user_string()}:{c.name}" for c in graph.asset_check_keys)
    jobs = {}
    for job in loaded.resolve_all_job_defs():
        if job.name.startswith("__"):
            continue  # Dagster's implicit asset job
        selected = sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys)
        jobs[job.name] = {"assets": selected, "ops": sorted(job.graph.node_dict)}
    schedules = {
        s.name: {"cron": s.cron_schedule, "timezone": s.execution_timezone, "job": s.job_name}
        for s in loaded.schedules or []
    }
    sensors = {
        s.name: {
            "type": type(s).__name__,
            "min_interval_seconds": s.minimum_interval_seconds,
            "default_status": str(s.default_status),
        }
        for s in loaded.sensors or []
    }
    return {
        "assets": assets,
        "asset_checks": checks,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
    }


def test_definitions_load_and_validate():
    loaded = defs()
    dg.Definitions.validate_loadable(loaded)
    assert loaded.resolve_job_def(NIGHTLY_BUILD) is not None


def test_definitions_match_the_snapshot():
    shape = definitions_shape(build_definitions())
    text = json.dumps(shape, indent=2, sort_keys=True) + "\n"
    if os.environ.get("IMW_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text, encoding="utf-8")
    assert SNAPSHOT.exists(), "no snapshot yet: run with IMW_UPDATE_SNAPSHOTS=1 and commit it"
    assert json.loads(SNAPSHOT.read_text(encoding="utf-8")) == shape, (
        "the Dagster definitions changed; if deliberate, regenerate the snapshot "
        "(IMW_UPDATE_SNAPSHOTS=1) and review its diff"
    )
