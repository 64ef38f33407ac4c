"""The dbt nodes a build spent its time on, from dbt's `run_results.json` (#16: "the top 10
models and tests by time"). dbt writes one per invocation into the build's target folder
(`<home>/warehouse/dbt-target/`), so the bench reads it right after each build."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

KINDS = {"model": "models", "seed": "models", "snapshot": "models", "test": "tests"}
"""unique_id prefix → group; unit tests (`unit_test.`) count with the tests."""


def _group(unique_id: str) -> str:
    prefix = unique_id.split(".", 1)[0]
    return "tests" if prefix == "unit_test" else KINDS.get(prefix, "other")


def node_times(run_results: Mapping, top: int = 10) -> dict[str, object]:
    """Per group (models — seeds included —, tests): node count, summed execution time and the
    `top` slowest nodes (name, seconds, status); and dbt's own elapsed time."""
    results = run_results.get("results", [])
    out: dict[str, object] = {"elapsed_s": round(float(run_results.get("elapsed_time", 0.0)), 2)}
    for group in ("models", "tests"):
        nodes = [r for r in results if _group(r["unique_id"]) == group]
        ranked = sorted(nodes, key=lambda r: (-float(r["execution_time"]), r["unique_id"]))
        out[group] = {
            "nodes": len(nodes),
            "seconds": round(sum(float(r["execution_time"]) for r in nodes), 2),
            "top": [
                {
                    "node": r["unique_id"].split(".", 2)[-1],
                    "seconds": round(float(r["execution_time"]), 2),
                    "status": r["status"],
                }
                for r in ranked[:top]
            ],
        }
    return out


def read_node_times(target: Path, top: int = 10) -> dict[str, object] | None:
    """`node_times` of `target/run_results.json`, or None when dbt wrote none."""
    path = Path(target) / "run_results.json"
    if not path.exists():
        return None
    return node_times(json.loads(path.read_text(encoding="utf-8")), top)
