"""Disclosure control of the needs forecast (`forecast_caseload`), with the warehouse's engine.

The forecast publishes one observed count per unit and case type: `open_at_origin`, the cases
open at the origin. It adds up exactly — RB = Σ its Kreise, LAND = Σ RB (the RB and Land paths
are sums of the Kreis paths), and ALLE = CM + KB — so the rule of the indicators applies
(docs/indicators.md, "Output"): a count of 1 to 4 is suppressed (primary), and further Kreis
and RB cells are suppressed until no suppressed count can be narrowed to fewer than 5 values
from the published ones (`disclosure.engine.protect`, audited by linear programming; a Land
cell only as the engine's last resort, as for the indicators). Without it a Kreis hidden alone
was its RB minus the other Kreise. The cells and sums are `disclosure.tables.forecast_cells`,
the same the mart gate audits the published table with; a value no cell can protect is logged
here and fails the gate.

A suppressed cell hides every row of it (every scenario and month: the forecasts of a small
Kreis are small counts too) and `suppressed` says so.
"""

from __future__ import annotations

import logging

import numpy as np
import polars as pl

from disclosure.engine import InconsistentEquations, protect
from disclosure.tables import FORECAST_NUMBERS, forecast_cells, problem_of

__all__ = ["protect_forecasts"]

log = logging.getLogger(__name__)

KEY = ("level", "unit_code", "case_type")


def protect_forecasts(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `suppressed` per row and the numbers of suppressed rows NULL."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(False).alias("suppressed"))
    problem, cells = problem_of(forecast_cells(frame.drop("suppressed", strict=False)))
    try:
        pattern = protect(problem)
    except InconsistentEquations as error:
        # the Kreis, RB and Land counts are sums of one another by construction
        raise ValueError(
            "forecast disclosure: open_at_origin of an RB, the Land or ALLE is not the sum of "
            f"its parts: {error}"
        ) from error
    if not pattern.audit.passed:
        log.warning(
            "forecast disclosure: %d withheld counts could not be protected: %s",
            pattern.unprotectable.height,
            cells.join(pattern.unprotectable.select("cell"), on="cell")
            .select("level", "unit_code", pl.col("breakdown").alias("case_type"))
            .rows(),
        )
    hidden = cells.filter(pl.Series(np.asarray(pattern.suppressed))).select(
        "level", pl.col("unit_code"), pl.col("breakdown").alias("case_type"),
        pl.lit(True).alias("suppressed"),
    )  # fmt: skip
    out = frame.drop("suppressed", strict=False).join(hidden, on=list(KEY), how="left")
    out = out.with_columns(pl.col("suppressed").fill_null(False))
    numbers = [c for c in FORECAST_NUMBERS if c in frame.columns]
    return out.with_columns(
        pl.when(~pl.col("suppressed")).then(pl.col(c)).alias(c) for c in numbers
    ).select(*frame.columns, *([] if "suppressed" in frame.columns else ["suppressed"]))
