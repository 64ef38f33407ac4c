"""dagster-dbt without dbt Core in the orchestration's process (`orchestration.dagster_dbt_api`):
the definitions load and resolve the job without importing dbt, dbt stays importable after, and
the dbt assets are made from the manifest without the fixture-only tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from core.project_vars import FIXTURE_ONLY_TAG
from core.settings import PROJECT_ROOT
from orchestration.assets import nightly_manifest

# A fresh interpreter: the test process may have imported dbt already (the dbt fixture builds).
_LOAD_DEFINITIONS = """
import json, sys
from orchestration.definitions import NIGHTLY_BUILD, build_definitions
job = build_definitions().get_job_def(NIGHTLY_BUILD)
loaded = sorted(m for m in sys.modules if m == "dbt" or m.startswith("dbt."))
import dagster_dbt.compat
import dbt.version  # still importable: only dagster-dbt's import hid it
print(json.dumps({"dbt_modules": loaded, "steps": len(job.graph.node_defs),
                  "compat_sees_dbt": dagster_dbt.compat.DBT_PYTHON_VERSION is not None,
                  "dbt_version": dbt.version.__version__}))
"""


def test_definitions_load_without_importing_dbt_core():
    out = subprocess.run(
        [sys.executable, "-c", _LOAD_DEFINITIONS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["dbt_modules"] == []  # not one dbt module before the job was resolved
    assert found["steps"] > 0  # the job was built (its dbt assets included)
    assert found["compat_sees_dbt"] is False  # dagster-dbt took dbt as an outside executable
    assert found["dbt_version"].startswith("1.")  # and dbt Core imports afterwards


def _manifest(tmp_path: Path) -> Path:
    """A manifest of one model, one nightly test and one fixture-only test on it."""
    nodes = {
        "model.p.m": {"resource_type": "model", "tags": []},
        "test.p.nightly": {"resource_type": "test", "tags": []},
        "test.p.fixture": {"resource_type": "test", "tags": [FIXTURE_ONLY_TAG]},
        # a model with the tag is kept: the tag leaves out tests only
        "model.p.tagged": {"resource_type": "model", "tags": [FIXTURE_ONLY_TAG]},
    }
    manifest = {
        "nodes": nodes,
        "child_map": {"model.p.m": ["test.p.nightly", "test.p.fixture"], "test.p.fixture": []},
        "parent_map": {"test.p.nightly": ["model.p.m"], "test.p.fixture": ["model.p.m"]},
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_nightly_manifest_leaves_out_the_fixture_only_tests_and_their_links(tmp_path):
    nightly = nightly_manifest(_manifest(tmp_path))
    assert set(nightly["nodes"]) == {"model.p.m", "test.p.nightly", "model.p.tagged"}
    assert nightly["child_map"] == {"model.p.m": ["test.p.nightly"]}
    assert nightly["parent_map"] == {"test.p.nightly": ["model.p.m"]}
    # a manifest without the maps keeps none (dagster-dbt makes them from the nodes then)
    bare = json.loads(_manifest(tmp_path).read_text())
    del bare["child_map"], bare["parent_map"]
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    assert set(nightly_manifest(tmp_path / "bare.json")) == {"nodes"}
