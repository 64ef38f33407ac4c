"""The `outcome_analysis` job: one study's export, then the outcome models on that export's
files only (what an evaluator sees), on demand — never scheduled. Wiring only; the work is in
export/evaluator.py and export/outcome_analysis.py."""

import dagster as dg

from export.evaluator import run_export
from orchestration.export_job import EvaluatorExportConfig, export_params
from orchestration.resources import WarehouseResource

OUTCOME_ANALYSIS = "outcome_analysis"


@dg.op(description="Export one study's data and fit time-to-outcome models on the export.")
def outcome_analysis_op(
    context: dg.OpExecutionContext, config: EvaluatorExportConfig, warehouse: WarehouseResource
) -> dg.Output[str]:
    # statsmodels (≈ 1 s to import) only when the job runs: every `imw build` loads these
    # definitions
    from export.outcome_analysis import analyse_export

    exported = run_export(warehouse.settings(), export_params(config))
    context.log.info(exported.summary())
    result = analyse_export(exported.out)
    context.log.info("\n".join(result.lines()))
    exposures = result.models.filter("exposure")
    return dg.Output(
        str(exported.out),
        metadata={
            "out": dg.MetadataValue.path(str(exported.out)),
            "window": result.summary["window"],
            "hazard_ratios": dg.MetadataValue.md(
                "\n".join(
                    ["| outcome | term | HR | 95 % CI |", "|---|---|---:|---|"]
                    + [
                        f"| {r['outcome']} | {r['term']} | {r['hazard_ratio']:.3f} | "
                        f"{r['ci_low']:.3f}–{r['ci_high']:.3f} |"
                        for r in exposures.iter_rows(named=True)
                    ]
                )
            ),
            "suppressed_cases": exported.suppressed_rows,
        },
    )


def build_outcome_job() -> dg.JobDefinition:
    """The job to register in the Definitions (needs the `warehouse` resource)."""

    @dg.job(
        name=OUTCOME_ANALYSIS,
        description="Evaluator export of one study, then hazard models and Kaplan-Meier curves "
        "on it (config: the parameters of `imw export`).",
        executor_def=dg.in_process_executor,
    )
    def outcome_analysis() -> None:
        outcome_analysis_op()

    return outcome_analysis
