"""CSV files a person opens in a spreadsheet: no cell may start a formula (CSV injection).

Delivered values end up in CSV files the warehouse writes (the clerk's list of quarantined rows,
evaluator exports). A value such as `=HYPERLINK("http://x.example/")` would become a live
formula in Excel or LibreOffice. OWASP's rule: a cell starting with `=`, `+`, `-`, `@`, tab or
carriage return gets a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"
"""Characters that make a spreadsheet cell a formula (OWASP CSV injection)."""


def _neutralised(column: pl.Expr) -> pl.Expr:
    return pl.when(column.str.contains(FORMULA_START)).then(pl.lit("'") + column).otherwise(column)


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that would start a formula, prefixed with `'`; other cells unchanged.

    Categorical and enum columns are rewritten only when one of their categories would start a
    formula (then as text), so their types stay as they are in the common case.
    """
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            exprs.append(_neutralised(pl.col(name)).alias(name))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            categories = frame.get_column(name).cast(pl.String).drop_nulls().unique()
            if categories.str.contains(FORMULA_START).any():
                exprs.append(_neutralised(pl.col(name).cast(pl.String)).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def unsafe_cells(frame: pl.DataFrame) -> int:
    """How many text cells would start a formula (0 for a frame that went through neutralise)."""
    counts = [
        frame.get_column(name).cast(pl.String).str.contains(FORMULA_START).sum()
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    return int(sum(counts))
