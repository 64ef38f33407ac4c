"""Disclosure control of the needs forecast (`forecast_caseload`), with the warehouse's engine.

The forecast publishes one observed count per unit and case type: `open_at_origin`, the cases
open at the origin. It adds up exactly — RB = Σ its Kreise, LAND = Σ RB (the RB and Land paths
are sums of the Kreis paths), and ALLE = CM + KB — so the rule of the indicators applies
(docs/indicators.md, "Output"): a count of 1 to 4 is suppressed (primary), and further Kreis
and RB cells are suppressed until no suppressed count can be narrowed to fewer than 5 values
from the published ones (`disclosure.engine.protect`, audited by linear programming; a Land
cell only as the engine's last resort, as for the indicators). Without it a Kreis hidden alone
was its RB minus the other Kreise. A value no cell can protect is logged as a warning (the
forecast is not a reason to stop the nightly build).

Each cell is a (level, unit_code, case_type); a suppressed cell hides every row of it (every
scenario and month: the forecasts of a small Kreis are small counts too) and `suppressed` says
so. The other numbers (quantiles, new cases, FTE, funding) are model outputs, not sums of the
Kreise (a quantile of a sum is not the sum of quantiles), so they add no equation. A sum that
does not hold exactly in the data is left out (it would give nothing away exactly either).
"""

from __future__ import annotations

import logging

import polars as pl

from disclosure.engine import BASE_N, Problem, protect

__all__ = ["protect_forecasts"]

log = logging.getLogger(__name__)

KEY = ("level", "unit_code", "case_type")
NUMBERS = (
    "open_p10",
    "open_p50",
    "open_p90",
    "new_cases",
    "open_at_origin",
    "fte_needed",
    "funding_needed_eur_per_year",
)
ALL_TYPES = "ALLE"
PARTS = ("CM", "KB")


def protect_forecasts(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `suppressed` per row and the numbers of suppressed rows NULL."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(False).alias("suppressed"))
    cells = (
        frame.group_by(KEY)
        .agg(pl.col("open_at_origin").first())
        .sort(KEY)
        .with_row_index("cell")
        .with_columns(pl.col("cell").cast(pl.Int64))
    )
    problem = Problem(
        cells.select(
            "cell",
            pl.lit(True).alias("primary_rule"),
            (pl.col("level") != "LAND").alias("may_be_secondary"),
        ),
        cells.select(
            "cell", pl.lit(BASE_N).alias("measure"), pl.col("open_at_origin").alias("value")
        ),
        _sums(cells),
    )
    pattern = protect(problem)
    if not pattern.audit.passed:
        log.warning(
            "forecast disclosure: %d withheld counts could not be protected: %s",
            pattern.unprotectable.height,
            cells.join(pattern.unprotectable.select("cell"), on="cell").select(*KEY).rows(),
        )
    hidden = cells.filter(pl.Series(pattern.suppressed)).select(
        *KEY, pl.lit(True).alias("suppressed")
    )
    out = frame.drop("suppressed", strict=False).join(hidden, on=KEY, how="left")
    out = out.with_columns(pl.col("suppressed").fill_null(False))
    return out.with_columns(
        pl.when(~pl.col("suppressed")).then(pl.col(c)).alias(c) for c in NUMBERS
    ).select(*frame.columns, *([] if "suppressed" in frame.columns else ["suppressed"]))


def _sums(cells: pl.DataFrame) -> pl.DataFrame:
    """Terms of the sums that hold exactly: RB = Σ Kreise, LAND = Σ RB, ALLE = CM + KB."""
    unit = cells.select("cell", *KEY, "open_at_origin")
    kreise = unit.filter(pl.col("level") == "KREIS").with_columns(
        pl.col("unit_code").str.slice(0, 3).alias("parent")
    )
    rbs = unit.filter(pl.col("level") == "RB").with_columns(
        pl.col("unit_code").str.slice(0, 2).alias("parent")
    )
    typed = unit.filter(pl.col("case_type").is_in(PARTS)).with_columns(
        pl.col("unit_code").alias("parent")
    )
    terms = pl.concat(
        [
            _equations("rb", unit.filter(pl.col("level") == "RB"), kreise, ["case_type"]),
            _equations("land", unit.filter(pl.col("level") == "LAND"), rbs, ["case_type"]),
            _equations("types", unit.filter(pl.col("case_type") == ALL_TYPES), typed, ["level"]),
        ]
    )
    return terms.with_columns(pl.col("equation").rank("dense").cast(pl.Int64) - 1)


def _equations(
    kind: str, totals: pl.DataFrame, parts: pl.DataFrame, same: list[str]
) -> pl.DataFrame:
    """total − Σ parts = 0 for each total: its parts are the rows whose `parent` is the total's
    unit_code and which agree with it on `same`. Only sums that hold exactly are kept."""
    linked = totals.select(
        pl.concat_str(pl.lit(kind), "unit_code", *same, separator="|").alias("equation"),
        "unit_code",
        *same,
        pl.col("cell").alias("total_cell"),
        pl.col("open_at_origin").alias("total"),
    ).join(
        parts.select(
            pl.col("parent").alias("unit_code"),
            *same,
            "cell",
            pl.col("open_at_origin").alias("part"),
        ),
        on=["unit_code", *same],
    )
    exact = (
        linked.group_by("equation")
        .agg(pl.col("total").first(), pl.col("part").sum())
        .filter((pl.col("total") - pl.col("part")).abs() < 1e-9)
        .select("equation")
    )
    linked = linked.join(exact, on="equation")
    return pl.concat(
        [
            linked.select(
                "equation", pl.col("total_cell").alias("cell"), pl.lit(1.0).alias("coefficient")
            ).unique(),
            linked.select("equation", "cell", pl.lit(-1.0).alias("coefficient")),
        ]
    ).select("equation", "cell", pl.lit(BASE_N).alias("measure"), "coefficient")
