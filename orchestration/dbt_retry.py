"""A dbt build that ran out of DuckDB's memory is built again where it failed, one node at a time.

dbt runs two nodes side by side (`profiles.yml`: 2 threads), and both share one DuckDB database
and its one memory limit (`IMW_MEMORY_LIMIT`). DuckDB spills what it can to the home's temp folder,
but a join's or an aggregate's working set can still exceed what the other query leaves it, and
then DuckDB stops the query with "Out of Memory Error". At ten times the `bw` data and 5GB, this
happened in 3 of 14 builds, always to two large models that dbt happened to start side by side
(`int_contrib_cm07` and `int_contrib_cm03`). Their queries, repeated on a failed home as the
build runs them, passed 4 of 4 times: they spill and usually fit, and what else DuckDB holds at
that moment decides (README, Operators). With the retry, the next build at 5GB that ran into
it (2026-12-07 11:09) built the two models alone in 4.3 and 10.0 s and published; at 2GB the
retry failed on a model that needs more than 2GB even alone (README, "Latest `federal` runs").

So when every node that failed did so because DuckDB ran out of memory (`out_of_memory_failures`)
and no data test failed, the dbt step runs `dbt retry` once with one dbt thread
(`RETRY_ARGS`). This rebuilds the failed nodes and those skipped after them, nothing that
succeeded. What a failed node may have left is built over: a table model replaces its table
only once the new one is built, and a model built by provider deletes and inserts the rows of
the providers and periods that the record of the last complete build says changed
(`dbt_project/macros/incremental_by_provider.sql`), a record `imw build` writes only after dbt
succeeded, so the retry deletes and inserts the same rows once more. If the retry fails too,
the step fails with the retry's error, which names the memory setting
(`cli.main.out_of_memory_message`).

Only a run of every dbt asset (the nightly build) is retried: for a run of some of them (the
UI's subset) dagster-dbt may select them in a copy of the project, which a retry started in the
project would not find.

`dbt retry` accepts no node selection (`--select`), and dagster-dbt adds the step's selection to
every command it runs with the step's context. So the retry runs without the context, and its
events (`AssetMaterialization`, `AssetCheckEvaluation`) are turned into the step's own
(`as_step_event`), as dagster-dbt would have made them with the context.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from core.resources import says_out_of_memory

RETRY_ARGS = ("retry", "--threads", "1")
"""dbt's retry of the failed and skipped nodes of its last run (its `run_results.json` in the
target folder), with its arguments, but one node at a time."""

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
"""dbt's statuses of a node that did not succeed: `error` (the node's SQL raised), `fail` (a data
test found rows), `runtime error` (older dbt's word for `error`). `skipped` nodes come after a
failed one, and `warn` is a test's warning, which fails nothing."""


def out_of_memory_failures(run_results: Mapping[str, Any]) -> list[str]:
    """The unique ids of the nodes of a dbt run (`run_results.json`) that failed, when each of
    them failed because DuckDB ran out of memory; none when the run failed otherwise too (a data
    test found rows, a model's SQL is wrong), when nothing failed, or when the run has no results.
    """
    failed = [r for r in run_results.get("results", []) if r.get("status") in FAILED_STATUSES]
    if not failed:
        return []
    if all(r["status"] == "error" and says_out_of_memory(r.get("message") or "") for r in failed):
        return [r["unique_id"] for r in failed]
    return []


def read_run_results(target: Path, since: float) -> dict[str, Any]:
    """dbt's `run_results.json` in the target folder, if a command written since `since` (a
    `time.time()`) wrote it; else empty. The target folder is the home's and outlives a build: a
    command that failed before its first node (a project that does not parse) leaves the last
    build's results there, and a retry of those would rebuild what that build failed on."""
    path = target / "run_results.json"
    if not path.exists() or path.stat().st_mtime < since:
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def not_run(event: Any) -> bool:
    """Whether a step event is the result of a dbt test that could not run (dbt's status
    `error`: its SQL raised, e.g. out of memory), as opposed to one that ran and passed, warned
    or found rows. A retry runs such a test again."""
    if not isinstance(event, dg.AssetCheckResult) or event.passed:
        return False
    status = event.metadata.get("status")
    return getattr(status, "value", status) == "error"


def as_step_event(event: Any, assets_def: dg.AssetsDefinition) -> Any:
    """An event of a dbt command run without the step's context, as the step yields it: a
    model's or seed's materialisation as its output, a test's evaluation as its check's result;
    anything else as it is."""
    if isinstance(event, dg.AssetMaterialization):
        return dg.Output(
            None,
            output_name=assets_def.get_output_name_for_asset_key(event.asset_key),
            metadata=dict(event.metadata),
        )
    if isinstance(event, dg.AssetCheckEvaluation):
        return dg.AssetCheckResult(
            asset_key=event.asset_key,
            check_name=event.check_name,
            passed=event.passed,
            metadata=dict(event.metadata),
            severity=event.severity,
            description=event.description,
        )
    return event


def retry_note(failed: list[str], memory_limit: str) -> str:
    """The progress line of a retry: how many nodes, which (the first few), and the limit."""
    names = [unique_id.split(".")[2] for unique_id in failed]  # resource.package.name[.hash]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    return (
        f"DuckDB ran out of memory ({memory_limit}) in {len(failed)} node(s) run side by side "
        f"({shown}): dbt builds them and the nodes after them again, one at a time"
    )
