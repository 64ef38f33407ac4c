"""Assets of the nightly build: ingest → dbt → publish. Wiring only; the work is in the layers."""

import json
import os
import time
from collections.abc import Iterator, Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from contract.spec import EXTRACTS
from core import progress
from core.project_vars import FIXTURE_ONLY_TAG, REFERENCE_DATE_ENV, is_fixture_only_test
from core.resources import memory_limit, release_memory
from core.settings import applied_environment
from expectations.extract_gate import GateResult, write_data_docs
from indicator_report.render import build_report, report_dir
from indicator_report.render import start_workers as start_report_workers
from ingest.load import ACCEPTED, REJECTED, FileVerdict, Folders, ingest_landing
from orchestration import dbt_prestart
from orchestration.dagster_dbt_api import (
    DagsterDbtTranslator,
    DbtCliInvocation,
    DbtCliResource,
    dbt_assets,
)
from orchestration.dbt_project import (
    dbt_project,
    needs_full_refresh,
    project_digest,
    record_built_inputs,
)
from orchestration.dbt_retry import (
    RETRY_ARGS,
    as_step_event,
    not_run,
    out_of_memory_failures,
    read_run_results,
    retry_note,
)
from orchestration.resources import BuildLockResource, WarehouseResource
from publish.analyst_db import publish
from publish.publish_gate import require_gate
from reports.build_record import add_note
from reports.data_quality import write_data_quality_report
from reports.delivery import write_delivery_reports
from reports.intake import write_intake_report
from reports.open_issues import write_open_issues
from reports.status import FRESHNESS_LIMIT

RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in EXTRACTS}
EXTRACT_GATE = "extract_gate"
NIGHTLY_UNIT_TESTS_EXCLUDED = ("--exclude-resource-type", "unit_test")
"""dbt arguments that leave the unit tests out of the nightly `dbt build` (they run in `make
test`)."""
NIGHTLY_FIXTURE_ONLY_EXCLUDED = ("--exclude", f"tag:{FIXTURE_ONLY_TAG}")
"""The data tests that restate their model's construction or a gate rule (docs/data_rules.md):
left out of the nightly `dbt build` and of the dbt assets (`nightly_manifest`), so they are no
asset checks; they run on the fixtures in `make test` (tests/dbt_fixture.py)."""
NIGHTLY_KEPT_DEFINITIONS_EXCLUDED = (
    "--exclude",
    "resource_type:seed config.materialized:view",
    "--indirect-selection",
    "empty",
)
"""dbt arguments that leave the seeds and views out of a nightly `dbt build` that is no full
refresh (`KeptDefinitions`): a view is its SQL, and a seed its CSV, and both change only with the
dbt project, whose change makes the build a full refresh (`needs_full_refresh`; the first build
that records a project is one). Re-creating them changed nothing, yet each cost dbt its Python
and DuckDB its catalogue changes: leaving the 30 out took the dbt step of a `bw` correction from
11.5 and 12.5 s to 9.1–10.4 s (A/B on one kept home, 2 cores, 2026-12-05). Their data tests
stay: with indirect selection `empty`, the tests selected directly (dagster-dbt's `fqn:*`) run
whether or not their models do, and excluding a model no longer excludes its tests with it."""
BOOKKEEPING_KEYS = {
    "deliveries": "Every processed file with its verdict.",
    "current_batches": "The newest accepted snapshot per provider and extract.",
    "provider_issues": "Open problems per provider: rejections and quarantines not yet replaced "
    "by a later accepted delivery of the same extract.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(key, group_name="raw", description=f"Current snapshots of `{name}`.")
        for name, key in RAW_KEYS.items()
    ]
    + [
        dg.AssetSpec(["raw", name], group_name="raw", description=description)
        for name, description in BOOKKEEPING_KEYS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            EXTRACT_GATE,
            asset=key,
            description=f"Great Expectations suite of `{name}` (generated from the contract): "
            "fails (as a warning: the build goes on) when a file was rejected or rows were "
            "quarantined.",
        )
        for name, key in RAW_KEYS.items()
    ],
    can_subset=False,
)
def raw_extracts(
    context: AssetExecutionContext, warehouse: WarehouseResource, build_lock: BuildLockResource
) -> Iterator[dg.MaterializeResult]:
    """Load the landing folder into the raw layer and write a report per provider."""
    settings = warehouse.settings()
    settings.ensure_dirs()
    result = ingest_landing(settings.build_db, Folders.of(settings), warehouse.key())
    reports = write_delivery_reports(result, settings.build_db, settings.reports_dir)
    write_intake_report(result, settings.reports_dir)
    issues = write_open_issues(settings.build_db, settings.reports_dir)
    context.log.info(f"open problems: {issues.height}")
    for entry in result.ignored:
        context.log.warning(f"left alone in landing: {entry}")
    for s in result.shrunk:
        context.log.warning(
            f"snapshot shrank: {s.file_name} has {s.rows} rows, {s.previous_file} had "
            f"{s.previous_rows}"
        )
    if result.gate_results:
        docs = write_data_docs(result.gate_results, settings.reports_dir / "data_docs" / "extracts")
        context.log.info(f"extract gate Data Docs: {docs}")
    for v in result.by_verdict(REJECTED):
        context.log.warning(f"rejected {v.file_name}: {v.message_en}")
    context.log.info(f"{len(result.verdicts)} files processed, {len(reports)} reports written")
    gates = {g.extract: g for g in result.gate_results}
    for name, key in RAW_KEYS.items():
        mine = [v for v in result.verdicts if v.extract == name]
        yield extract_gate_result(key, mine, gates.get(name))
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "files_accepted": sum(v.verdict == ACCEPTED for v in mine),
                "files_rejected": sum(v.verdict == REJECTED for v in mine),
                "rows_loaded": sum(v.rows_loaded for v in mine),
                "rows_quarantined": sum(v.rows_quarantined for v in mine),
                "rows_quarantined_by_provider": dg.MetadataValue.json(
                    {v.provider: v.rows_quarantined for v in mine if v.rows_quarantined}
                ),
                "files_rejected_names": dg.MetadataValue.json(
                    [v.file_name for v in mine if v.verdict == REJECTED]
                ),
            },
        )
    yield dg.MaterializeResult(
        asset_key=["raw", "deliveries"], metadata={"files_processed": len(result.verdicts)}
    )
    yield dg.MaterializeResult(asset_key=["raw", "current_batches"])
    yield dg.MaterializeResult(
        asset_key=["raw", "provider_issues"], metadata={"open_problems": issues.height}
    )
    del result, reports, issues, gates
    release_memory()  # before dbt runs beside this process


def extract_gate_result(
    key: dg.AssetKey, verdicts: list[FileVerdict], gate: GateResult | None
) -> dg.AssetCheckResult:
    """The extract gate's verdict on one extract in this run, per provider."""
    by_provider = {
        v.provider or "?": {
            "rows_loaded": v.rows_loaded,
            "rows_quarantined": v.rows_quarantined,
            "file": v.file_name,
            "verdict": v.verdict,
        }
        for v in verdicts
    }
    failed = (
        gate.summary.filter(pl.col("unexpected_count") > 0)
        .select("rule", "column", "expectation", "unexpected_count")
        .to_dicts()
        if gate is not None
        else []
    )
    rejected = [v.file_name for v in verdicts if v.verdict == REJECTED]
    quarantined = sum(v.rows_quarantined for v in verdicts)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=EXTRACT_GATE,
        passed=not rejected and not quarantined,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(verdicts)} files, {len(rejected)} rejected, {quarantined} rows "
        "quarantined",
        metadata={
            "rows_validated": gate.rows if gate is not None else 0,
            "rows_quarantined": quarantined,
            "files_rejected": dg.MetadataValue.json(rejected),
            "by_provider": dg.MetadataValue.json(by_provider),
            "failed_expectations": dg.MetadataValue.json(failed),
        },
    )


def dbt_build_args(*, full_refresh: bool = False, keep_definitions: bool = False) -> list[str]:
    """The nightly `dbt build` arguments; `keep_definitions` leaves the seeds and views out
    (`NIGHTLY_KEPT_DEFINITIONS_EXCLUDED`; never in a full refresh)."""
    if full_refresh:
        kept: tuple[str, ...] = ("--full-refresh",)
    else:
        kept = NIGHTLY_KEPT_DEFINITIONS_EXCLUDED if keep_definitions else ()
    return ["build", *NIGHTLY_UNIT_TESTS_EXCLUDED, *NIGHTLY_FIXTURE_ONLY_EXCLUDED, *kept]


class KeptDefinitions:
    """The seeds and views of a dbt manifest: what a nightly build that is no full refresh does
    not re-create (`NIGHTLY_KEPT_DEFINITIONS_EXCLUDED`), though they are outputs of its step.

    A multi-asset must yield its assets in their order (Dagster refuses an asset yielded after
    one made from it), and a view can be made from a table dbt builds and feed another: each
    kept asset is therefore due once every dbt asset it is made from has been yielded (`due`)."""

    def __init__(self, manifest: dict[str, Any], translator: DagsterDbtTranslator):
        nodes = {
            unique_id: node
            for unique_id, node in manifest["nodes"].items()
            if node["resource_type"] in ("model", "seed")
        }
        key = {unique_id: translator.get_asset_key(node) for unique_id, node in nodes.items()}
        kept = [
            unique_id
            for unique_id, node in nodes.items()
            if node["resource_type"] == "seed" or node["config"]["materialized"] == "view"
        ]
        parents = {
            unique_id: [up for up in nodes[unique_id]["depends_on"].get("nodes", []) if up in nodes]
            for unique_id in kept
        }
        order = TopologicalSorter(
            {unique_id: [up for up in ups if up in parents] for unique_id, ups in parents.items()}
        ).static_order()
        self.keys: list[dg.AssetKey] = [key[unique_id] for unique_id in order]
        """The kept assets, each after the kept ones it is made from."""
        self.parents: dict[dg.AssetKey, frozenset[dg.AssetKey]] = {
            key[unique_id]: frozenset(key[up] for up in ups) for unique_id, ups in parents.items()
        }
        """Per kept asset, the dbt assets (models and seeds) it is made from."""

    def due(self, yielded: set[dg.AssetKey], pending: list[dg.AssetKey]) -> list[dg.AssetKey]:
        """The assets of `pending` (in the order of `keys`) whose dbt inputs are all `yielded`,
        taken out of `pending` and added to `yielded` — a kept one made from another is due with
        it."""
        due = []
        for key in list(pending):
            if self.parents[key] <= yielded:
                due.append(key)
                yielded.add(key)
                pending.remove(key)
        return due


KEPT_DEFINITION_NOTE = (
    "kept, not re-created: its definition (a view's SQL, a seed's rows) changes only with the "
    "dbt project, and a changed project makes the build a full refresh; a view's rows are read "
    "from its inputs, as built in this run"
)


DBT_FILE_LOG_ENV = "DBT_LOG_LEVEL_FILE"
NIGHTLY_FILE_LOG_LEVEL = "info"
"""The level of dbt's own log file (`warehouse/dbt-target/dbt.log`) in a build, unless the
operator's environment names one (`DBT_LOG_LEVEL_FILE=debug imw build` for dbt's every query).

dbt's default is `debug`: each node's every statement, twice with its whole SQL, and every
connection event — ≈ 3,000 JSON lines for the 55 models and 34 tests of a `bw` correction, and
of the 18.9 s that dbt's two threads were busy, 4.0 s went to its events (py-spy), the file's
and those on standard output, which dagster-dbt reads.
At `info` the file keeps each node's start and result, every warning and error, and the run's
summary (195 lines), and the SQL of every node stays in `dbt-target/run/`. Measured on one kept
`bw` home, a correction each, alternating (2 cores, 2026-12-06): dbt's elapsed time 12.88, 13.19,
13.35 s at `debug` against 12.78, 11.44, 11.98 s at `info`. The level changes no parse: dbt
parses nothing again for it (the same runs)."""


def dbt_build_env(
    reference_date: str | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment dbt builds with: an explicit reference date R (YYYY-MM-DD) for the model
    int_reference_date, or empty — dbt takes R from the data — also when the operator's shell has
    the variable set (core.project_vars.REFERENCE_DATE_ENV); and the level of dbt's log file,
    `NIGHTLY_FILE_LOG_LEVEL` unless `environ` (the process's environment) names one."""
    environ = os.environ if environ is None else environ
    return {
        REFERENCE_DATE_ENV: reference_date or "",
        DBT_FILE_LOG_ENV: environ.get(DBT_FILE_LOG_ENV) or NIGHTLY_FILE_LOG_LEVEL,
    }


class DbtCounter:
    """Counts dbt's streamed events — one per model/seed materialised and per test evaluated —
    and reports `models n/N · tests n/N` as they finish (at most every 2 s)."""

    def __init__(self, nodes: int, tests: int):
        self.nodes, self.tests = nodes, tests
        self.nodes_done = self.tests_done = self.tests_failed = 0
        self.throttle = progress.Throttle(2.0)

    def count(self, event: object) -> None:
        if isinstance(event, dg.AssetCheckResult | dg.AssetCheckEvaluation):
            self.tests_done += 1
            self.tests_failed += not event.passed
        elif isinstance(event, dg.Output | dg.AssetMaterialization | dg.MaterializeResult):
            self.nodes_done += 1
        else:
            return
        if self.throttle.due():
            progress.report("dbt", self.text())

    def flush(self, kept: int = 0) -> None:
        note = f" · {kept} views and seeds kept" if kept else ""
        progress.report("dbt", self.text() + " · done" + note)

    def text(self) -> str:
        failed = f" ({self.tests_failed} failed)" if self.tests_failed else ""
        return (
            f"models {self.nodes_done}/{self.nodes} · tests {self.tests_done}/{self.tests}{failed}"
        )


class Translator(DagsterDbtTranslator):
    """dbt models keep their names as asset keys; sources map to the raw assets (via meta)."""

    def get_group_name(self, dbt_resource_props):
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


def nightly_manifest(path: Path) -> dict[str, Any]:
    """The dbt manifest at `path` without the fixture-only data tests: what the dbt assets are
    made from (their checks are the nightly tests).

    Left out here rather than by dagster-dbt's `exclude=` selection, which evaluates the
    selection with dbt Core's Python package, and this process does not import dbt Core
    (`orchestration.dagster_dbt_api`). The `dbt build` command leaves them out by the same tag
    (`NIGHTLY_FIXTURE_ONLY_EXCLUDED`)."""
    manifest = json.loads(path.read_bytes())
    dropped = {
        unique_id for unique_id, node in manifest["nodes"].items() if is_fixture_only_test(node)
    }
    manifest["nodes"] = {k: v for k, v in manifest["nodes"].items() if k not in dropped}
    for links in ("child_map", "parent_map"):  # absent: dagster-dbt builds them itself
        if links in manifest:
            manifest[links] = {
                k: [n for n in v if n not in dropped]
                for k, v in manifest[links].items()
                if k not in dropped
            }
    return manifest


def build_dbt_assets() -> dg.AssetsDefinition:
    project = dbt_project()
    # every dbt asset, known once the definition exists (a subset job's context holds only its own)
    every_model: set[dg.AssetKey] = set()
    manifest = nightly_manifest(project.manifest_path)
    translator = Translator()
    definitions = KeptDefinitions(manifest, translator)

    @dbt_assets(manifest=manifest, project=project, dagster_dbt_translator=translator)
    def warehouse_dbt(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        build_lock: BuildLockResource,
    ):
        # dbt's run artefacts live in the warehouse home, not in the project tree. Unit tests
        # check SQL logic on fixed inputs, not the night's data: they run in `make test` (one
        # dbt fixture build, tests/dbt_fixture.py), not in every nightly build (dbt's advice
        # for production runs). So do the fixture-only data tests (NIGHTLY_FIXTURE_ONLY_EXCLUDED).
        settings = warehouse.settings()
        target = settings.dbt_target_dir
        # The models built by provider rebuild only the rows of providers whose inputs changed,
        # unless asked, or the dbt project is not the one their record was built by.
        project = project_digest()
        full_refresh = warehouse.full_refresh or needs_full_refresh(settings.build_db, project)
        # A run of every dbt asset keeps the seeds and views unless it is a full refresh. A run
        # of some of them (the UI's subset) is left to dagster-dbt's selection, as it is.
        whole = set(context.selected_asset_keys) >= every_model
        kept = list(definitions.keys) if whole and not full_refresh else []
        args = dbt_build_args(full_refresh=full_refresh, keep_definitions=bool(kept))
        # the op's outputs are one per dbt node and one per asset check (the dbt tests)
        checks = len(context.selected_asset_check_keys)
        counter = DbtCounter(
            nodes=len(context.op_execution_context.selected_output_names) - checks - len(kept),
            tests=checks,
        )
        progress.report("dbt", counter.text())
        # The kept seeds and views are outputs of this step too: Dagster skips every step after
        # one whose outputs it waits for are missing (the forecast reads staging views; the
        # publication comes after it). Each is yielded once what it is made from is.
        pending, yielded = list(kept), set()
        outputs = context.assets_def.keys_by_output_name

        def kept_outputs() -> Iterator[dg.Output]:
            for key in definitions.due(yielded, pending):
                yield dg.Output(
                    None,
                    output_name=context.assets_def.get_output_name_for_asset_key(key),
                    metadata={"kept": KEPT_DEFINITION_NOTE},
                )

        yield from kept_outputs()
        # The report's chart processes start once dbt has built every model. Not in a subset
        # run (no report after it), nor in a full refresh: that computes the forecast anew,
        # whose step holds the build's peak at `federal` scale (README), and the chart
        # processes would wait beside it with ≈ 0.27 GB.
        charts_due = whole and not full_refresh
        # the results of tests dbt could not run (status `error`): a retry runs them again, and
        # a step may yield each check's result once
        held: list[dg.AssetCheckResult] = []

        def step_events(invocation: DbtCliInvocation, in_step: bool) -> Iterator[Any]:
            nonlocal charts_due
            # an error of this code while dbt runs ends dbt before the step fails
            with dbt_prestart.ended_with(invocation.process):
                for event in invocation.stream():
                    if not in_step:  # a command run without the step's context (the retry)
                        event = as_step_event(event, context.assets_def)
                    if not_run(event):
                        held.append(event)
                        continue
                    counter.count(event)
                    if charts_due and counter.nodes_done >= counter.nodes:
                        # every model built; while dbt runs its last tests and ends, the CPU
                        # it leaves starts the report's chart processes (not waited for)
                        start_report_workers()
                        charts_due = False
                    yield event
                    if pending and isinstance(event, dg.Output):
                        yielded.add(outputs[event.output_name])
                        yield from kept_outputs()

        with applied_environment(dbt_build_env(warehouse.reference_date)):
            started = time.time()
            invocation = dbt.cli(args, context=context, target_path=target, raise_on_error=False)
            yield from step_events(invocation, in_step=True)
            error = invocation.get_error()
            # every node that failed ran out of DuckDB's memory: built again, one at a time. Not
            # in a run of some dbt assets (the UI's subset): dagster-dbt may have selected them
            # in a copy of the project, which the retry, started in the project, would not find
            failed = (
                out_of_memory_failures(read_run_results(target, started)) if error and whole else []
            )
            if failed:
                note = retry_note(failed, memory_limit())
                progress.report("dbt", note)
                context.log.warning(note)
                # in the build record (`imw status`, the operator report) and on the run's page
                add_note(context.instance, context.run.run_id, context.op_def.name, note)
                held.clear()  # those tests run again
                invocation = dbt.cli(
                    list(RETRY_ARGS), manifest=manifest, dagster_dbt_translator=translator,
                    target_path=target, raise_on_error=False,
                )  # fmt: skip
                yield from step_events(invocation, in_step=False)
                error = invocation.get_error()
        for event in held:
            counter.count(event)
            yield event
        if error is not None:
            raise error
        if pending:  # dbt succeeded, so every input was built: a mistake of this code
            raise RuntimeError(f"kept dbt assets never due: {pending}")
        counter.flush(len(kept))
        # dbt succeeded (it raises otherwise). Recorded only when it built every model: a run of
        # some of them leaves the others' rows as they were, so the record must stay too.
        if whole:
            inputs = record_built_inputs(settings.build_db, project, full_refresh=full_refresh)
            progress.report("dbt", inputs.summary(full_refresh=full_refresh))

    every_model.update(warehouse_dbt.keys)
    return warehouse_dbt


def build_publish_asset(
    dbt_defs: dg.AssetsDefinition, extra_deps: tuple[dg.AssetKey, ...] = ()
) -> dg.AssetsDefinition:
    # Every table of the `published` schema: exactly what publish() copies (the dbt models and
    # `extra_deps`, the Python assets that write there).
    deps = [key for key in dbt_defs.keys if key.path[0] == "published"] + list(extra_deps)

    @dg.asset(
        deps=deps,
        group_name="published",
        description="The analyst database.",
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=FRESHNESS_LIMIT),
    )
    def published_indicators(
        context: AssetExecutionContext, warehouse: WarehouseResource, build_lock: BuildLockResource
    ) -> dg.MaterializeResult:
        settings = warehouse.settings()
        # Refuses (the step fails, saying why) unless the mart gate passed in this run on
        # exactly these tables: materialising this asset alone cannot publish ungated data.
        gate = require_gate(settings.build_db, context.run.run_id, settings.dbt_target_dir)
        report = write_data_quality_report(settings.build_db, settings.reports_dir)
        progress.report("publish", "writing the analyst database and Parquet")
        result = publish(settings.build_db, settings.published_db)
        progress.report(
            "publish",
            f"{len(result.row_counts)} tables · {sum(result.row_counts.values()):,} rows → "
            f"{result.path}",
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.path)),
                "parquet": dg.MetadataValue.path(str(result.parquet_dir)),
                "publish_id": result.publish_id,
                "gated_by_dbt_invocation": gate.dbt_invocation_id or "",
                "marts_fingerprint": gate.marts_fingerprint,
                "data_quality_report": dg.MetadataValue.path(str(report)),
                **{f"rows_{t}": n for t, n in result.row_counts.items()},
            }
        )

    return published_indicators


def build_report_asset(publish_asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        deps=[publish_asset.key],
        group_name="published",
        description="The Kennzahlenbericht (German HTML report) of the published database, "
        "swapped in at published/report/.",
    )
    def report(warehouse: WarehouseResource) -> dg.MaterializeResult:
        settings = warehouse.settings()
        published_db = settings.published_db
        progress.report("report", "rendering the Kennzahlenbericht")
        result = build_report(
            published_db,
            report_dir(published_db),
            outcomes_dir=settings.published_outcomes_dir,
            chart_cache=settings.report_charts,
        )
        progress.report(
            "report",
            f"{result.pages} pages, {result.charts_rendered} of {result.charts} charts rendered "
            f"({result.charts - result.charts_rendered} unchanged since the last report) "
            f"→ {result.index}",
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(result.index)),
                "year": result.year,
                "publish_id": result.publish_id,
                "pages": result.pages,
                "bytes": result.bytes,
                "seconds": round(result.seconds, 1),
                "charts": result.charts,
                "charts_rendered": result.charts_rendered,
                "chart_workers_started_before": result.workers_started_before,
            }
        )

    return report
