"""The extract gate: validate delivered rows against the contract with Great Expectations.

`validate_extract` takes all files of one extract at once (concatenated, with `_file` and
`_line`), so a build runs one GX validation per extract, not one per file, and returns one error
row per failing (row, expectation), ready for the quarantine report. `write_data_docs` renders
the runs of a build as GX Data Docs (HTML).

How the frame reaches GX, and why:

- GX's pandas datasource validates a pandas frame converted from polars. Only the columns the
  suite reads are converted; integers and decimals become float64 (GX's between-check is
  vectorised only for numpy int64/float64 — int32 or nullable dtypes fall back to a Python call
  per value: 5 s for 4.5 M rows), dates become datetime64, codes pandas Categoricals. Float64
  holds every Int32 exactly, and below 10**13 it still tells cents apart, so a DECIMAL(18,2)
  value stays on the right side of the contract's bounds (0, 0.25, 1, … are exact in binary).
- Ids reach GX as 64-bit hashes (null stays null), never as clear ids: GX echoes offending values
  into its results and Data Docs, and hashing is about ten times cheaper than converting millions
  of strings. Equal ids always hash equal, so a hash cannot hide a duplicate; two different ids
  sharing a hash (about 1e-10 per file) would show up as a false duplicate, so every duplicate GX
  reports is re-checked on the clear ids and a collision raises `BrokenGateError`.
- The stand differs per file: each row gets its file's `_stand` / `_stand_year`, and "not after
  the stand" is a column-pair expectation (see `extract_suites`). One run covers every stand.
- Failures are mapped back to rows by GX's `unexpected_index_list` over the frame's RangeIndex
  (position = row of the polars frame, which holds `_file` and `_line`). Asking GX for
  `unexpected_index_column_names=["_file", "_line"]` gives the same answer, but GX looks those up
  with a Python `DataFrame.at` per failing row and column: about 40 µs per failing row here.
- `Batch.validate` is used, not `ValidationDefinition.run`: the latter also serialises the whole
  COMPLETE result into the results store (28 s for 137,000 failing rows here).
- Any expectation that raised makes the gate broken (`BrokenGateError`), never a pass and never a
  data failure. GX reports a failed metric as `exception_info = {<metric id>: {...,
  "raised_exception": True}}` — not the flat `{"raised_exception": ...}` of other errors — and
  marks the expectation merely unsuccessful, so both shapes are checked.

One ephemeral GX context per process, one registered suite and batch definition per extract,
created on first use (not thread-safe; the loader validates extracts one after another).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from contract import spec as contract
from contract.spec import Column, ColumnType, Extract, RuleKind
from expectations import extract_suites as suites
from expectations import gx_runtime
from expectations.extract_suites import FILE, LINE, STAND, STAND_YEAR
from expectations.gx_runtime import (
    DATASOURCE,
    RESULT_KEYS_WITH_ROWS,
    BrokenGateError,
    check_ran,
    context,
    release_batch,
    validate,
)

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.batch_definition import BatchDefinition

ERROR_SCHEMA: dict[str, pl.DataType] = {
    FILE: pl.Int64(),
    LINE: pl.Int64(),
    "column": pl.String(),
    "rule": pl.String(),
    "value": pl.String(),
}
SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "rule": pl.String(),
    "column": pl.String(),
    "expectation": pl.String(),
    "condition": pl.String(),
    "element_count": pl.Int64(),
    "unexpected_count": pl.Int64(),
}
_ID_HASH_SEED = 20_260_331
_OPEN_END = dt.date(9999, 12, 31)
_ROW = "_gate_row"
_RESULT_KEYS_WITH_VALUES = ("partial_unexpected_list", "partial_unexpected_counts")


@dataclass(frozen=True)
class GateResult:
    """Outcome of one validation run over all files of one extract.

    `errors`: one row per failing (row, expectation) — `_file`, `_line`, `column` (contract name
    of the column to fix), `rule` (rule id from the expectation's meta), `value` (the delivered
    value as text; None for ids, free text, and empty cells). `summary`: one row per expectation
    with its rule, column, GX expectation type, row condition and counts. `validation` is the GX
    result stripped of row positions and of values of id and helper columns, kept for Data Docs.
    """

    extract: str
    rows: int
    errors: pl.DataFrame
    summary: pl.DataFrame
    validation: ExpectationSuiteValidationResult

    @property
    def passed(self) -> bool:
        return self.errors.is_empty()

    def failed_rows(self) -> pl.DataFrame:
        """Distinct (`_file`, `_line`) with at least one error."""
        return self.errors.select(FILE, LINE).unique().sort(FILE, LINE)


@dataclass(frozen=True)
class _Gate:
    extract: Extract
    suite: gx.ExpectationSuite
    batch_definition: BatchDefinition


@functools.cache
def _gate(extract_name: str) -> _Gate:
    extract = contract.EXTRACTS[extract_name]
    ctx = context()
    suite = ctx.suites.add_or_update(suites.build_suite(extract))
    datasource = ctx.data_sources.get(DATASOURCE)
    if extract.name in datasource.get_asset_names():
        datasource.delete_asset(extract.name)
    asset = datasource.add_dataframe_asset(extract.name)
    return _Gate(extract, suite, asset.add_batch_definition_whole_dataframe("delivered_rows"))


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------
def validate_extract(
    frame: pl.DataFrame,
    extract: Extract | str,
    *,
    stand_by_file: Mapping[int, dt.date] | str,
    references: Mapping[str, pl.Series] | None = None,
) -> GateResult:
    """Validate all delivered rows of one extract against its contract suite.

    `frame`: typed rows as `ingest.readers.parse_columns` returns them (free text as
    `<name>_vorhanden`, ids still clear), concatenated over files, with `_file` (int) and
    `_line`. `stand_by_file`: each file's stand, or the name of a Date column of `frame`.
    `references`: for each column with a contract reference, a Boolean Series aligned with
    `frame` — does the referenced row exist (what the provider holds after this batch)? — or a
    column `_ref_<column>` already in `frame`. A reference check without input is a check that
    cannot run: `BrokenGateError`, as for any expectation that raises.
    """
    extract = suites.resolve_extract(extract)
    _require_columns(frame, extract)
    unknown = set(references or {}) - {c.name for c in suites.reference_columns(extract)}
    if unknown:
        raise ValueError(f"{extract.name}: no contract reference on {sorted(unknown)}")
    gate = _gate(extract.name)
    checked = _gx_frame(frame, extract, stand_by_file, references or {})
    dataframe = _to_pandas(checked, extract)
    try:
        batch = gate.batch_definition.get_batch(batch_parameters={"dataframe": dataframe})
        result = validate(batch, gate.suite)
    finally:
        release_batch()
    check_ran(result, gate.suite)
    errors = _errors(result, frame, extract)
    summary = _summary(result, gate.suite)
    _strip_for_docs(result, extract)
    return GateResult(extract.name, frame.height, errors, summary, result)


def _require_columns(frame: pl.DataFrame, extract: Extract) -> None:
    expected = [FILE, LINE, *(c.raw_name for c in extract.columns)]
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        raise BrokenGateError(f"{extract.name}: frame lacks column(s) {missing}")


def _gx_frame(
    frame: pl.DataFrame,
    extract: Extract,
    stand_by_file: Mapping[int, dt.date] | str,
    references: Mapping[str, pl.Series],
) -> pl.DataFrame:
    """The columns the suite reads, typed for GX, plus the helper columns of `extract_suites`."""
    helpers: list[pl.Series | pl.Expr] = []
    if suites.needs_stand(extract):
        stand = _stand(frame, extract, stand_by_file)
        helpers += [stand.alias(STAND), stand.dt.year().cast(pl.Float64).alias(STAND_YEAR)]
    helpers += [
        _reference(frame, extract, c, references) for c in suites.reference_columns(extract)
    ]
    for rule in extract.rules:
        if rule.kind is RuleKind.SAME_WITHIN:
            helpers.append(_same_within(*rule.columns).alias(suites.same_within_column(rule)))
        elif rule.kind is RuleKind.NO_OVERLAP:
            helpers.append(_no_overlap(frame, *rule.columns).alias(suites.no_overlap_column(rule)))
    return frame.select(pl.col(FILE), *(_for_gx(frame, c) for c in extract.columns), *helpers)


def _for_gx(frame: pl.DataFrame, column: Column) -> pl.Expr:
    value = pl.col(column.raw_name)
    if column.type is ColumnType.ID:
        value = pl.when(value.is_not_null()).then(value.hash(_ID_HASH_SEED))
    elif column.type in (ColumnType.INT, ColumnType.DECIMAL):
        value = value.cast(pl.Float64)
    elif column.type is ColumnType.CODE:
        # pandas Categorical: GX's row conditions copy the frame once per metric, and
        # categorical codes copy and compare several times faster than strings. The
        # categories include whatever was delivered, so a wrong code survives as itself.
        delivered = frame.get_column(column.raw_name).drop_nulls().unique().to_list()
        codes = contract.code_values(column.codes) if column.codes else ()
        value = value.cast(pl.Enum(sorted({*codes, *delivered})))
    return value.alias(column.raw_name)


def _stand(
    frame: pl.DataFrame, extract: Extract, stand_by_file: Mapping[int, dt.date] | str
) -> pl.Series:
    if isinstance(stand_by_file, str):
        stand = frame.get_column(stand_by_file)
        if stand.dtype != pl.Date or stand.null_count():
            raise BrokenGateError(f"{extract.name}: {stand_by_file} must be a Date without gaps")
        return stand
    files = frame.get_column(FILE).unique().to_list()
    unknown = sorted((f for f in files if f not in stand_by_file), key=str)
    if unknown:
        raise BrokenGateError(f"{extract.name}: no stand for file(s) {unknown}")
    return frame.get_column(FILE).replace_strict(
        list(stand_by_file), list(stand_by_file.values()), return_dtype=pl.Date
    )


def _reference(
    frame: pl.DataFrame, extract: Extract, column: Column, references: Mapping[str, pl.Series]
) -> pl.Series:
    name = suites.ref_column(column.name)
    if column.name in references:
        exists = references[column.name]
    elif name in frame.columns:
        exists = frame.get_column(name)
    else:
        raise BrokenGateError(
            f"{extract.name}.{column.name}: no reference result; pass references="
            f"{{{column.name!r}: ...}} or a column {name}"
        )
    if exists.dtype != pl.Boolean or exists.len() != frame.height:
        raise BrokenGateError(
            f"{extract.name}.{column.name}: reference result must be Boolean with one value per row"
        )
    filled = frame.get_column(column.raw_name).is_not_null()
    if (filled & exists.is_null()).any():
        raise BrokenGateError(f"{extract.name}.{column.name}: reference result has gaps")
    return pl.select(pl.when(filled).then(exists)).to_series().alias(name)


def _same_within(value_column: str, group_column: str) -> pl.Expr:
    """True where all filled values of the group (within the file) agree; the whole group is
    flagged otherwise, since no single row can be blamed. Null where value or group is empty
    (the required-check reports those)."""
    value, group = pl.col(value_column), pl.col(group_column)
    distinct = value.drop_nulls().n_unique().over(FILE, group_column)
    return pl.when(value.is_not_null() & group.is_not_null()).then(distinct == 1)


def _no_overlap(frame: pl.DataFrame, group: str, start: str, end: str) -> pl.Series:
    """False for every row whose [start, end] period (end inclusive, empty = open) overlaps
    another period of the same group in the same file; null where the period is incomplete or
    reversed (reported by the required and date-order checks).

    Sorted by start within the group, a row overlaps an earlier row exactly when the latest end
    so far reaches its start, and a later row exactly when the next start is within its end.
    The running maximum per group is one global `cum_max` over `group number * 2**23 + day`
    (window functions over hundreds of thousands of small groups took seconds): a value from an
    earlier group is always below this group's base, so it can never count as an overlap.
    """
    periods = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.UInt32).alias(_ROW),
            pl.col(FILE),
            pl.col(group),
            pl.col(start),
            pl.col(end).fill_null(_OPEN_END).alias("_end"),
        )
        .filter(
            pl.col(group).is_not_null()
            & pl.col(start).is_not_null()
            & (pl.col("_end") >= pl.col(start))
        )
        .sort(FILE, group, start, "_end")
    )
    new_group = (
        (pl.col(FILE) != pl.col(FILE).shift(1)) | (pl.col(group) != pl.col(group).shift(1))
    ).fill_null(True)
    base = new_group.cum_sum().cast(pl.Int64) * 2**23
    start_day, end_day = (_day_number(pl.col(c)) for c in (start, "_end"))
    overlaps_earlier = (base + end_day).cum_max().shift(1) >= base + start_day
    overlaps_later = ~new_group.shift(-1) & (pl.col(start).shift(-1) <= pl.col("_end"))
    verdict = periods.select(
        pl.col(_ROW),
        ~(overlaps_earlier.fill_null(False) | overlaps_later.fill_null(False)),
    ).to_series(1)
    return (
        pl.Series(dtype=pl.Boolean)
        .extend_constant(None, frame.height)
        .scatter(periods.get_column(_ROW), verdict)
    )


def _day_number(date: pl.Expr) -> pl.Expr:
    """Days since 1970 shifted to be positive and below 2**23 for years 0001–9999."""
    return date.cast(pl.Int32).cast(pl.Int64) + 2**22


def _to_pandas(checked: pl.DataFrame, extract: Extract) -> Any:
    """pandas frame for GX. Hashed ids stay exact: numpy uint64, or pandas' nullable UInt64
    where an id is missing (the default conversion would make that column float64)."""
    import pandas as pd

    ids = [c.raw_name for c in extract.columns if c.type is ColumnType.ID]
    with_gaps = [name for name in ids if checked.get_column(name).has_nulls()]
    dataframe = checked.drop(with_gaps).to_pandas()
    for name in with_gaps:
        hashes = checked.get_column(name)
        dataframe[name] = pd.arrays.IntegerArray(
            hashes.fill_null(0).to_numpy(), hashes.is_null().to_numpy()
        )
    if not isinstance(dataframe.index, pd.RangeIndex) or dataframe.index.start != 0:
        raise BrokenGateError(f"{extract.name}: pandas frame lost its row positions")
    return dataframe


# --------------------------------------------------------------------------------------------
# Reading GX's result
# --------------------------------------------------------------------------------------------
def _errors(
    result: ExpectationSuiteValidationResult, frame: pl.DataFrame, extract: Extract
) -> pl.DataFrame:
    pieces = []
    for r in result.results:
        positions = r.result["unexpected_index_list"]
        if not positions:
            continue
        rows = np.asarray(positions, dtype=np.int64)
        meta = r.expectation_config.meta
        column = extract.column(meta["column"])
        if r.expectation_config.type == "expect_compound_columns_to_be_unique":
            _check_duplicates(frame, rows, r)
        echo = column.type not in (ColumnType.ID, ColumnType.TEXT)
        value = pl.col(column.raw_name).cast(pl.String) if echo else pl.lit(None, pl.String)
        pieces.append(
            frame.select(
                pl.col(FILE).cast(pl.Int64),
                pl.col(LINE).cast(pl.Int64),
                pl.lit(column.name, pl.String).alias("column"),
                pl.lit(meta["rule"], pl.String).alias("rule"),
                value.alias("value"),
            )[rows]
        )
    if not pieces:
        return pl.DataFrame(schema=ERROR_SCHEMA)
    return pl.concat(pieces).sort(FILE, LINE, "column", "rule")


def _check_duplicates(
    frame: pl.DataFrame, rows: np.ndarray, r: ExpectationValidationResult
) -> None:
    """Every row GX calls a duplicate must have a twin among them on the clear values."""
    key = r.expectation_config.kwargs["column_list"]
    if not frame.select(key)[rows].is_duplicated().all():
        raise BrokenGateError(f"{gx_runtime.describe(r)}: id hash collision, uniqueness undecided")


def _summary(result: ExpectationSuiteValidationResult, suite: gx.ExpectationSuite) -> pl.DataFrame:
    """One row per expectation, in the suite's (contract's) order rather than GX's."""
    order = {e.id: i for i, e in enumerate(suite.expectations)}
    rows = []
    for r in sorted(result.results, key=lambda r: order[r.expectation_config.id]):
        config = r.expectation_config
        condition = config.kwargs.get("row_condition")
        rows.append(
            {
                "rule": config.meta["rule"],
                "column": config.meta["column"],
                "expectation": config.type,
                "condition": None if condition is None else _condition_text(condition),
                "element_count": r.result.get("element_count"),
                "unexpected_count": r.result["unexpected_count"],
            }
        )
    return pl.DataFrame(rows, schema=SUMMARY_SCHEMA)


def _condition_text(condition: Any) -> str:
    from great_expectations.expectations.row_conditions import deserialize_row_condition

    return repr(deserialize_row_condition(condition))


def _strip_for_docs(result: ExpectationSuiteValidationResult, extract: Extract) -> None:
    """Drop row positions everywhere, and offending values unless every column of the
    expectation is a delivered column that the report may echo (codes, numbers, dates)."""
    echoable = {
        c.raw_name for c in extract.columns if c.type not in (ColumnType.ID, ColumnType.TEXT)
    } | {STAND, STAND_YEAR}
    for r in result.results:
        for key in RESULT_KEYS_WITH_ROWS:
            r.result.pop(key, None)
        kwargs = r.expectation_config.kwargs
        domain = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        domain += kwargs.get("column_list", [])
        if not set(domain) <= echoable:
            for key in _RESULT_KEYS_WITH_VALUES:
                r.result.pop(key, None)


# --------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------
def write_data_docs(
    results: Iterable[GateResult],
    folder: str | Path,
    *,
    run_name: str = "extract_gate",
) -> Path:
    """Data Docs of these gate runs in `folder` (gx_runtime.write_data_docs). The pages hold
    counts and offending codes, numbers and dates, never ids or free text (see
    `GateResult.validation`)."""
    return gx_runtime.write_data_docs(
        ((suites.build_suite(r.extract), r.validation, r.extract) for r in results),
        folder,
        site_name="extract_gate",
        run_name=run_name,
    )
