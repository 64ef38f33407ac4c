"""The `evaluator_export` job: one study's export, on demand (never scheduled). Wiring only; the
work is in export/evaluator.py. The config holds the key file's path, never the key."""

from pathlib import Path

import dagster as dg

from export.evaluator import FORMATS, ExportParams, parse_date, parse_share, run_export
from orchestration.resources import WarehouseResource

EVALUATOR_EXPORT = "evaluator_export"


class EvaluatorExportConfig(dg.Config):
    """The parameters of `imw export`."""

    study: str
    key_file: str
    date_from: str | None = None
    date_to: str | None = None
    # pydantic copies a default per instance, so a list default is safe here
    formats: list[str] = list(FORMATS)  # noqa: RUF012
    k: int = 5
    max_suppressed: str = "1%"
    l_diversity: int | None = None
    out: str


def export_params(config: EvaluatorExportConfig) -> ExportParams:
    return ExportParams(
        study=config.study,
        key_file=Path(config.key_file),
        date_from=parse_date(config.date_from, "date_from"),
        date_to=parse_date(config.date_to, "date_to"),
        formats=tuple(config.formats),
        k=config.k,
        out=Path(config.out),
        max_suppressed_share=parse_share(config.max_suppressed),
        ell=config.l_diversity,
    )


@dg.op(description="Write a pseudonymised, k-anonymous case-level export for one study.")
def evaluator_export_op(
    context: dg.OpExecutionContext, config: EvaluatorExportConfig, warehouse: WarehouseResource
) -> dg.Output[str]:
    result = run_export(warehouse.settings(), export_params(config))
    context.log.info(result.summary())
    return dg.Output(
        str(result.out),
        metadata={
            "out": dg.MetadataValue.path(str(result.out)),
            "k": result.k,
            "k_reached": result.k_reached,
            "generalisations": dg.MetadataValue.json(result.generalisations),
            "loss_bits": result.anonymity.chosen.loss,
            "suppressed_cases": result.suppressed_rows,
            "suppressed_case_months": result.suppressed_panel_rows,
            **{f"rows_{t}": n for t, n in result.row_counts.items()},
        },
    )


def build_export_job() -> dg.JobDefinition:
    """The job to register in the Definitions (needs the `warehouse` resource)."""

    @dg.job(
        name=EVALUATOR_EXPORT,
        description="Evaluator export of one study (config: the parameters of `imw export`).",
        executor_def=dg.in_process_executor,
    )
    def evaluator_export() -> None:
        evaluator_export_op()

    return evaluator_export
