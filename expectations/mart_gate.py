"""The mart gate: validate what analysts will get, after dbt and before publish.

This module runs the gate; what it checks (rule texts, constants, the expectations built from the
catalogue) is `expectations/mart_suites.py`, as the extract gate's rules are `extract_suites.py`.

`check_marts` opens the build database read-only, loads the tables of schema `published`
(`indicator_values`, `indicator_definitions`, every `mart_*`), the unsuppressed
`marts.indicator_values`, the catalogue (`reference.indicator_catalogue`) and the grid's
dimensions (`intermediate.int_periods`, `intermediate.int_unit_levels`), and validates them with
Great Expectations suites generated from the catalogue. Every finding of an `error` rule blocks
publishing; `movement_within_factor` (values that moved by more than a factor since the last
published database) is a `warning`: listed, never blocking.

How the rules reach GX, and why:

- One GX validation per frame, through the extract gate's cached ephemeral context and pandas
  datasource (`expectations.extract_gate`: analytics and progress bars off, no batch
  fingerprinting, batches released after each run). Catalogue lists (share indicators,
  suppressible indicators, indicators with a base_n) go into the expectations' row conditions,
  so Data Docs show which indicators a rule covers.
- Rules that need other rows or tables become helper columns computed with polars, each checked
  with `expect_column_values_to_be_in_set([True])` (null = rule does not apply to the row):
  `_in_grid` and `_matches_marts` on published rows, `_<level>_equals_<child>_sum` on the
  unsuppressed marts rows (published rows lose their numbers when suppressed, so sums are
  checked where the numbers are whole, and `published_matches_marts` ties the two together).
  Missing rows cannot be flagged on the table that lacks them: the expected key sets (the grid,
  the catalogue's ids) are frames of their own with a `_present` column.
- Roll-ups follow docs/indicators.md's AGS hierarchy (RB = first 3 digits, Kreis = first 5, Land
  `08`), not the model's own unit mapping, so a wrong mapping cannot hide itself.
- An expectation that raised is a broken gate (`BrokenGateError`), never a pass and never a data
  failure (`gx_runtime.check_ran`, both shapes of GX's exception info).

Marts hold no personal data (counts, sums, codes of units), so findings carry whole sample rows
and Data Docs keep GX's partial value lists; row positions are dropped from the stored results.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import polars as pl

from core.database import connect
from disclosure.chunks import YEAR, audit_by_year, years_of
from disclosure.engine import (
    AuditResult,
)
from disclosure.memo import AUDIT_MEMO_SCHEMA, YEAR_MEMO_SCHEMA, read_memo, write_memo
from disclosure.tables import CELL_KEY, forecast_cells, published_table_cells
from expectations import gx_runtime
from expectations.gx_runtime import (
    DATASOURCE,
    RESULT_KEYS_WITH_ROWS,
    BrokenGateError,
    check_ran,
    context,
    release_batch,
    validate,
)
from expectations.mart_suites import (
    ERROR,
    KEY,
    MARTS_COLUMNS,
    MARTS_TOLERANCE,
    RATIO_TOLERANCE,
    ROLLUP_TOLERANCE,
    ROLLUPS,
    RULES,
    SMALL_CELL,
    UNIT_CODE_LENGTH,
    VALUE_COLUMNS,
    WARNING,
    definition_expectations,
    disclosure_figures_text,
    forecast_expectations,
    grid_expectations,
    indicator_values_expectations,
    marts_expectations,
    rule_expectation,
    rule_holds,
    wide_mart_expectations,
)

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.core.batch_definition import BatchDefinition
    from great_expectations.expectations import Expectation

__all__ = [
    "RULES",
    "BrokenGateError",
    "Finding",
    "MartGateResult",
    "check_marts",
    "write_mart_data_docs",
]

PREFIX = "mart_gate"
DISCLOSURE_TABLES = ("published.mart_goal_attainment_by_field", "published.mart_contact_topics")
"""Published tables whose cells the LP audit reads besides `indicator_values` (when present)."""
SAMPLE_ROWS = 10

PUBLISHED_VALUES = "published.indicator_values"
MARTS_VALUES = "marts.indicator_values"
DEFINITIONS = "published.indicator_definitions"
FORECAST = "published.forecast_caseload"
"""The needs forecast, audited when the build wrote it (the nightly build always does, before
this gate: `orchestration.checks`)."""
FORECAST_COLUMNS = ("level", "unit_code", "case_type", "open_at_origin", "suppressed")
REQUIRED_TABLES = (
    PUBLISHED_VALUES,
    MARTS_VALUES,
    DEFINITIONS,
    "reference.indicator_catalogue",
    "intermediate.int_periods",
    "intermediate.int_unit_levels",
    "intermediate.int_reference_date",
)


class Finding(TypedDict):
    """One failing expectation: which rule, on which table, how often, and sample rows.

    `sample`: up to `SAMPLE_ROWS` failing rows of the validated frame (keys, numbers, helper
    columns); for warnings every failing row (the list of moves).
    """

    table: str
    rule: str
    severity: str
    expectation: str
    column: str
    text_de: str
    text_en: str
    unexpected_count: int
    sample: list[dict[str, Any]]


@dataclass(frozen=True)
class MartGateResult:
    """Outcome of one gate run.

    `errors` block publishing; `warnings` (value moves) do not. `validations` and `suites` are
    GX's results and suites by check name, for `write_mart_data_docs`. `summary` has one row per
    expectation; `timings` seconds per step.
    """

    errors: list[Finding]
    warnings: list[Finding]
    validations: dict[str, ExpectationSuiteValidationResult]
    suites: dict[str, gx.ExpectationSuite]
    summary: pl.DataFrame
    timings: dict[str, float]
    disclosure: dict[str, Any] = field(default_factory=dict)
    """Figures of the LP audit of the published suppression pattern: cells, equations,
    suppressed_primary, suppressed_secondary, narrowest_base_n_range, pinned, failures,
    linear_programs, seconds (`disclosure_audit_figures`)."""
    forecast_disclosure: dict[str, Any] = field(default_factory=dict)
    """The same figures for `published.forecast_caseload` (empty when the build has none)."""

    @property
    def passed(self) -> bool:
        return not self.errors

    @property
    def moves(self) -> list[dict[str, Any]]:
        """Every flagged move: key, old_value, new_value, move_factor."""
        return [
            row
            for w in self.warnings
            if w["rule"] == "movement_within_factor"
            for row in w["sample"]
        ]

    def message(self) -> str:
        """One line per finding, for a check's description or a log."""
        lines = [
            f"{f['severity'].upper()} {f['table']} {f['rule']} ({f['column']}): "
            f"{f['unexpected_count']} row(s) — {f['text_en']}"
            for f in (*self.errors, *self.warnings)
        ]
        return "\n".join(lines) or "mart gate passed: no findings"


@dataclass(frozen=True)
class _Check:
    """One GX validation: a frame, the table it stands for, and its expectations."""

    name: str
    table: str
    frame: pl.DataFrame
    expectations: list[Expectation]


@dataclass(frozen=True)
class _Inputs:
    catalogue: pl.DataFrame
    grid: pl.DataFrame
    published: pl.DataFrame
    marts: pl.DataFrame
    definitions: pl.DataFrame
    wide_marts: dict[str, pl.DataFrame]
    reference_date: dt.date | None = None
    forecast: pl.DataFrame | None = None


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------
def check_marts(
    build_db: Path,
    previous_published_db: Path | None,
    *,
    max_move_factor: float = 3.0,
    move_levels: Sequence[str] = ("LAND", "RB"),
    audit_memo: Path | None = None,
    pattern_audit: Path | None = None,
    audit_year_memo: Path | None = None,
    pattern_audit_year: Path | None = None,
) -> MartGateResult:
    """Validate the published tables of `build_db` (read-only) and compare `move_levels` values
    with `previous_published_db` (the analysts' database as last published; skipped when None
    or absent). Raises `BrokenGateError` when a table or column the gate reads is missing or an
    expectation raised.

    `audit_memo`: where the disclosure audit keeps its ranges per table between builds
    (`disclosure.memo.audit_keeping`); a part (a table's block for one year) published with the
    same values, sums and suppressed cells as in the build before takes its ranges from there,
    every other part is audited. None: every part is audited.

    `pattern_audit`: the final audits of the parts the build's suppression pattern protected
    anew (`disclosure.memo.pattern_audit_memo`, written by the dbt model `disclosure_pattern`).
    A part published with exactly the values, sums and suppressed cells that audit saw takes
    its ranges from there: the same linear programs of the same engine (the key holds its
    source) on the same numbers. Any part published otherwise is audited here.

    `audit_year_memo`: the audit of each year kept whole (`disclosure.chunks`); a year published
    exactly as at the last audit takes it without being set up again. None: none kept.

    `pattern_audit_year`: the audit of each year the build's pattern set up anew, made by the
    dbt model `disclosure_pattern` from its final audit (`disclosure.chunks`, "A year's audit
    from the pattern"); a year published exactly as that audit saw it takes it the same way."""
    if max_move_factor <= 1:
        raise ValueError(f"max_move_factor must be > 1, got {max_move_factor}")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    gx_runtime.imported()  # seconds on first use: timed on its own

    timings["import"] = time.perf_counter() - started
    step = time.perf_counter()
    inputs = _read_build(Path(build_db))
    previous = None
    if previous_published_db is not None and Path(previous_published_db).exists():
        previous = _read_previous(Path(previous_published_db))
    timings["read"] = time.perf_counter() - step

    # The disclosure audits (polars and the LP solver, which let go of the GIL) run on a thread
    # of their own while Great Expectations (Python and pandas) validates the other suites: the
    # audit of a `bw` build took 2.9 s and those suites 2.4 s, one after the other (2026-12-05).
    with ThreadPoolExecutor(1, thread_name_prefix="mart-gate-audit") as pool:
        audits = pool.submit(
            _audits, inputs, audit_memo, pattern_audit, audit_year_memo, pattern_audit_year
        )
        step = time.perf_counter()
        table_checks = list(_checks(inputs))
        movement = (
            [_movement_check(inputs.published, previous, max_move_factor, tuple(move_levels))]
            if previous is not None
            else []
        )
        timings["prepare"] = time.perf_counter() - step
        validated = [_timed_validation(check, timings) for check in [*table_checks, *movement]]
        audited = audits.result()
    timings |= audited.timings
    disclosure, forecast_disclosure = audited.disclosure, audited.forecast_disclosure
    validated += [_timed_validation(check, timings) for check in audited.checks]

    errors: list[Finding] = []
    warnings: list[Finding] = []
    validations: dict[str, ExpectationSuiteValidationResult] = {}
    suites: dict[str, gx.ExpectationSuite] = {}
    summary: list[dict[str, Any]] = []
    # reported in one order: the tables' checks, the audits', the movement check
    by_name = {check.name: (check, suite, result) for check, suite, result in validated}
    for name in [c.name for c in (*table_checks, *audited.checks, *movement)]:
        check, suite, result = by_name[name]
        for finding in _findings(check, result):
            (warnings if finding["severity"] == WARNING else errors).append(finding)
        summary += _summary_rows(check, result)
        for r in result.results:
            for key in RESULT_KEYS_WITH_ROWS:
                r.result.pop(key, None)
        validations[check.name] = result
        suites[check.name] = suite
    timings["total"] = time.perf_counter() - started
    return MartGateResult(
        errors=errors,
        warnings=warnings,
        validations=validations,
        suites=suites,
        summary=pl.DataFrame(summary, schema=_SUMMARY_SCHEMA),
        timings=timings,
        disclosure=disclosure,
        forecast_disclosure=forecast_disclosure,
    )


@dataclass(frozen=True)
class _Audited:
    checks: list[_Check]
    """The disclosure audit's checks, then the forecast's."""
    disclosure: dict[str, Any]
    forecast_disclosure: dict[str, Any]
    timings: dict[str, float]


def _audits(
    inputs: _Inputs,
    audit_memo: Path | None,
    pattern_audit: Path | None,
    audit_year_memo: Path | None,
    pattern_audit_year: Path | None = None,
) -> _Audited:
    """The disclosure audit of the published values and the forecast's, as checks."""
    step = time.perf_counter()
    disclosure_checks, disclosure = _disclosure_checks(
        inputs, audit_memo, pattern_audit, audit_year_memo, pattern_audit_year
    )
    timings = {"disclosure_audit": time.perf_counter() - step}
    step = time.perf_counter()
    forecast_checks, forecast_disclosure = _forecast_checks(inputs.forecast)
    timings["forecast_disclosure_audit"] = time.perf_counter() - step
    return _Audited(
        [*disclosure_checks, *forecast_checks], disclosure, forecast_disclosure, timings
    )


def _timed_validation(
    check: _Check, timings: dict[str, float]
) -> tuple[_Check, gx.ExpectationSuite, ExpectationSuiteValidationResult]:
    step = time.perf_counter()
    suite, result = _validate(check)
    timings[check.name] = time.perf_counter() - step
    return check, suite, result


# --------------------------------------------------------------------------------------------
# Reading the databases
# --------------------------------------------------------------------------------------------
def _read_build(build_db: Path) -> _Inputs:
    if not build_db.exists():
        raise BrokenGateError(f"build database {build_db} does not exist")
    with connect(build_db, read_only=True) as con:
        tables = {
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
            ).fetchall()
        }
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            raise BrokenGateError(f"{build_db}: table(s) {missing} missing; run dbt first")

        def read(table: str) -> pl.DataFrame:
            schema, name = table.split(".")
            return con.sql(f'SELECT * FROM "{schema}"."{name}"').pl()

        catalogue = _catalogue(read("reference.indicator_catalogue"))
        periods = read("intermediate.int_periods")
        unit_levels = read("intermediate.int_unit_levels")
        published, marts = read(PUBLISHED_VALUES), read(MARTS_VALUES)
        definitions = read(DEFINITIONS)
        # fetchall: DuckDB refuses further queries while a result is not read to its end
        reference = next(
            iter(
                con.execute("SELECT reference_date FROM intermediate.int_reference_date").fetchall()
            ),
            None,
        )
        wide = sorted(t for t in tables if t.startswith("published.mart_"))
        wide_marts = {t: read(t) for t in wide}
        forecast = read(FORECAST) if FORECAST in tables else None
    for table, frame, columns in (
        ("intermediate.int_periods", periods, ("period", "period_type")),
        ("intermediate.int_unit_levels", unit_levels, ("level", "unit_code")),
        (PUBLISHED_VALUES, published, (*VALUE_COLUMNS, "period_complete")),
        (MARTS_VALUES, marts, MARTS_COLUMNS),
        (DEFINITIONS, definitions, ("indicator_id",)),
        *(((FORECAST, forecast, FORECAST_COLUMNS),) if forecast is not None else ()),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise BrokenGateError(f"{table}: column(s) {missing} missing")
    return _Inputs(
        catalogue=catalogue,
        grid=_grid(catalogue, periods, unit_levels),
        published=published,
        marts=marts,
        definitions=definitions,
        wide_marts=wide_marts,
        reference_date=reference[0] if reference else None,
        forecast=forecast,
    )


def _catalogue(raw: pl.DataFrame) -> pl.DataFrame:
    needed = ["indicator_id", "unit", "period_types", "levels", "suppress_small_cells"]
    gaps = [c for c in [*needed, "base_n_entity"] if c not in raw.columns]
    gaps += [c for c in needed if c in raw.columns and raw.get_column(c).has_nulls()]
    if gaps:
        raise BrokenGateError(f"indicator_catalogue: column(s) {gaps} missing or with gaps")

    def as_list(column: str) -> pl.Expr:
        return pl.col(column).str.split(",").list.eval(pl.element().str.strip_chars())

    return raw.select(
        "indicator_id",
        "unit",
        as_list("period_types"),
        as_list("levels"),
        "base_n_entity",
        pl.col("suppress_small_cells").cast(pl.Boolean),
    )


def _grid(
    catalogue: pl.DataFrame, periods: pl.DataFrame, unit_levels: pl.DataFrame
) -> pl.DataFrame:
    """Every key that `indicator_values` must hold, with its period_type."""
    units = unit_levels.select("level", "unit_code").unique()
    return (
        catalogue.select("indicator_id", pl.col("period_types").alias("period_type"), "levels")
        .explode("period_type")
        .join(periods.select("period", "period_type").unique(), on="period_type")
        .explode("levels")
        .rename({"levels": "level"})
        .join(units, on="level")
        .select(*KEY, "period_type")
        .sort(KEY)
    )


def _read_previous(path: Path) -> pl.DataFrame:
    """`indicator_values` of the last published database (schema main, as publish writes it)."""
    with connect(path, read_only=True) as con:
        schemas = [
            s
            for (s,) in con.execute(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'indicator_values' AND table_schema IN ('main', 'published') "
                "ORDER BY table_schema = 'published'"
            ).fetchall()
        ]
        if not schemas:
            raise BrokenGateError(f"{path}: no indicator_values table to compare with")
        return con.sql(f'SELECT {", ".join(KEY)}, value FROM "{schemas[0]}".indicator_values').pl()


# --------------------------------------------------------------------------------------------
# Checks: frames with helper columns, and their expectations
# --------------------------------------------------------------------------------------------
def _checks(inputs: _Inputs) -> Iterator[_Check]:
    catalogue = inputs.catalogue
    yield _Check(
        "published.indicator_values",
        PUBLISHED_VALUES,
        _published_frame(inputs),
        indicator_values_expectations(PUBLISHED_VALUES, catalogue),
    )
    yield _Check(
        "published.indicator_values.grid",
        PUBLISHED_VALUES,
        _presence(inputs.grid, inputs.published, list(KEY)),
        grid_expectations(PUBLISHED_VALUES),
    )
    yield _Check(
        "marts.indicator_values",
        MARTS_VALUES,
        _rollup_frame(inputs.marts, catalogue),
        marts_expectations(MARTS_VALUES),
    )
    yield _Check(
        "published.indicator_definitions",
        DEFINITIONS,
        inputs.definitions.with_columns(
            pl.col("indicator_id")
            .is_in(catalogue.get_column("indicator_id").implode())
            .alias("_in_catalogue")
        ),
        definition_expectations(DEFINITIONS),
    )
    yield _Check(
        "published.indicator_definitions.catalogue",
        DEFINITIONS,
        _presence(catalogue.select("indicator_id"), inputs.definitions, ["indicator_id"]),
        [rule_holds("definitions_complete", DEFINITIONS, "_present")],
    )
    for table, frame in inputs.wide_marts.items():
        yield _Check(table, table, frame, wide_mart_expectations(table, frame, catalogue))


def _published_frame(inputs: _Inputs) -> pl.DataFrame:
    """Published rows plus `_in_grid`, `_value_is_ratio` and `_matches_marts` (with the marts
    row's values as `marts_*`, so a sample row shows both sides)."""
    published = inputs.published
    grid = inputs.grid.with_columns(pl.lit(True).alias("_in_grid"))
    compared = ("period_type", "numerator", "denominator", "value", "base_n")
    marts = inputs.marts.unique(list(KEY), keep="first").select(
        *KEY, *(pl.col(c).alias(f"marts_{c}") for c in compared), pl.lit(True).alias("_in_marts")
    )
    frame = published.join(grid, on=[*KEY, "period_type"], how="left", maintain_order="left").join(
        marts, on=list(KEY), how="left", maintain_order="left"
    )
    numbers_equal = pl.all_horizontal(
        _close_or_both_null(pl.col(c), pl.col(f"marts_{c}"), MARTS_TOLERANCE)
        for c in ("numerator", "denominator", "value")
    ) & pl.col("base_n").eq_missing(pl.col("marts_base_n"))
    matches = (
        pl.col("_in_marts").fill_null(False)
        & pl.col("period_type").eq_missing(pl.col("marts_period_type"))
        & (pl.col("suppressed").fill_null(False) | numbers_equal)
    )
    # a secondary cell is never one without cases (0 protects nothing); a LAND row only as the
    # engine's last resort, flagged by `land_secondary` (a warning)
    secondary_ok = pl.col("marts_base_n").fill_null(0) > 0
    land_secondary = (pl.col("level") == "LAND") & (pl.col("suppression") == "secondary")
    return frame.with_columns(
        _period_within_reference_date(inputs.reference_date).alias("_period_within_r"),
        pl.col("_in_grid").fill_null(False),
        _value_is_ratio().alias("_value_is_ratio"),
        matches.fill_null(False).alias("_matches_marts"),
        pl.col("suppressed").eq_missing(pl.col("suppression").is_not_null()).alias("_flag_agrees"),
        # GX skips nulls in set expectations: "not suppressed" must be a value to be caught
        pl.col("suppression").fill_null("none").alias("_suppression"),
        pl.when(pl.col("suppression") == "secondary")
        .then(secondary_ok)
        .alias("_secondary_allowed"),
        (~land_secondary).alias("_not_land_secondary"),
    ).drop("_in_marts")


def _period_within_reference_date(reference: dt.date | None) -> pl.Expr:
    """True where the period starts on or before R and period_complete = (P.end <= R), computed
    from the period code itself ('2025', '2025Q3'), not from int_periods, so a wrong int_periods
    cannot pass its own grid. Without R no row may exist at all."""
    if reference is None:
        return pl.lit(False)
    year = pl.col("period").str.slice(0, 4).cast(pl.Int32)
    quarter = pl.col("period").str.extract(r"Q([1-4])$", 1).cast(pl.Int32)
    start = pl.date(year, pl.when(quarter.is_null()).then(1).otherwise(3 * quarter - 2), 1)
    end = (
        pl.when(quarter.is_null())
        .then(pl.date(year, 12, 31))
        .otherwise(start.dt.offset_by("3mo").dt.offset_by("-1d"))
    )
    return (start <= pl.lit(reference)) & (
        pl.col("period_complete").eq_missing(end <= pl.lit(reference))
    )


def _disclosure_checks(
    inputs: _Inputs,
    audit_memo: Path | None = None,
    pattern_audit: Path | None = None,
    audit_year_memo: Path | None = None,
    pattern_audit_year: Path | None = None,
) -> tuple[list[_Check], dict[str, Any]]:
    """The LP audit of the published pattern (`disclosure.audit`), from the published tables
    alone: their suppressed flags say what is unknown, and the equations are recomputed from
    their keys (`disclosure.tables`), not taken from the pattern the build used. Parts
    unchanged since the last audit take their ranges from `audit_memo`, parts the pattern
    protected anew with exactly these numbers from `pattern_audit`; whole years from
    `audit_year_memo` and `pattern_audit_year` (see `check_marts`).

    Two checks: every suppressed (cell, measure) is protected (`_protected`, one row each with
    its range), and the published numbers satisfy the equations (`_consistent`, one row)."""
    started = time.perf_counter()
    goals = inputs.wide_marts.get(DISCLOSURE_TABLES[0])
    topics = inputs.wide_marts.get(DISCLOSURE_TABLES[1])

    def cells_of(year: str) -> pl.DataFrame:
        """One year's cells (`disclosure.chunks`: no sum crosses a year)."""
        return published_table_cells(
            inputs.published.filter(YEAR.eq(year)),
            None if goals is None else goals.filter(YEAR.eq(year)),
            None if topics is None else topics.filter(YEAR.eq(year)),
            inputs.catalogue,
        )

    memo, _ = read_memo(audit_memo, AUDIT_MEMO_SCHEMA)
    from_pattern, _ = read_memo(pattern_audit, AUDIT_MEMO_SCHEMA)
    try:
        years = years_of(inputs.published, goals, topics)
        # the year memos handed over without a name here: `audit_by_year` lets go of each once
        # it has read its entries (at `federal` scale ≈ 0.15 GB each)
        chunked = audit_by_year(
            years,
            cells_of,
            SMALL_CELL,
            memo,
            from_pattern,
            read_memo(audit_year_memo, YEAR_MEMO_SCHEMA)[0],
            read_memo(pattern_audit_year, YEAR_MEMO_SCHEMA)[0],
        )
    except pl.exceptions.ColumnNotFoundError as error:
        raise BrokenGateError(
            f"disclosure audit: a published column is missing: {error}"
        ) from error
    if chunked.memo is not None and audit_memo is not None:
        write_memo(chunked.memo, audit_memo)
    if chunked.year_memo is not None and audit_year_memo is not None:
        write_memo(chunked.year_memo, audit_year_memo)
    cells, result = chunked.cells, chunked.result
    consistent = result is not None
    kinds = cells.get_column("suppression").value_counts()
    count = dict(zip(kinds.get_column("suppression"), kinds.get_column("count"), strict=True))
    figures: dict[str, Any] = {
        "cells": chunked.n_cells,
        "equations": chunked.n_equations,
        "suppressed_primary": int(count.get("primary", 0)),
        "suppressed_secondary": int(count.get("secondary", 0)),
        "land_secondary": cells.filter(
            (pl.col("level") == "LAND") & (pl.col("suppression") == "secondary")
        ).height,
        "equations_consistent": consistent,
    }
    if consistent:
        figures |= {
            "parts": chunked.parts,
            "parts_audited_before": chunked.parts_kept,
            "parts_from_pattern": chunked.parts_from_pattern,
            "years_audited_before": chunked.years_kept,
            "years_from_pattern": chunked.years_from_pattern,
        }
    checks = _audit_checks(
        "published.disclosure_audit", PUBLISHED_VALUES, cells, result, consistent, figures, started
    )
    return checks, figures


def _forecast_checks(forecast: pl.DataFrame | None) -> tuple[list[_Check], dict[str, Any]]:
    """The forecast's rows (`forecast_expectations`) and the LP audit of its pattern, from the
    published table alone: its `suppressed` flags say what is unknown, and the sums (RB = Σ
    Kreise, Land = Σ RB, ALLE = CM + KB) are recomputed from its keys
    (`disclosure.tables.forecast_cells`), as for the indicators. Nothing when the build wrote
    no forecast (nothing of it is published then)."""
    if forecast is None or forecast.is_empty():
        return [], {}
    started = time.perf_counter()
    # one chunk: the forecast's cells have no period, and its sums are all of them
    chunked = audit_by_year([""], lambda _: forecast_cells(forecast), SMALL_CELL, None)
    cells, result = chunked.cells, chunked.result
    consistent = result is not None
    figures: dict[str, Any] = {
        "cells": chunked.n_cells,
        "equations": chunked.n_equations,
        "suppressed": int(cells.get_column("hidden").sum()),
        "land_suppressed": cells.filter(pl.col("hidden") & (pl.col("level") == "LAND")).height,
        "equations_consistent": consistent,
    }
    checks = [
        _Check(FORECAST, FORECAST, forecast, forecast_expectations(FORECAST)),
        *_audit_checks(
            f"{FORECAST}.disclosure_audit", FORECAST, cells, result, consistent, figures, started
        ),
    ]
    return checks, figures


def _audit_checks(
    name: str,
    table: str,
    cells: pl.DataFrame,
    result: AuditResult | None,
    consistent: bool,
    figures: dict[str, Any],
    started: float,
) -> list[_Check]:
    """`disclosure_protected` (one row per suppressed (cell, measure) with its range) and
    `disclosure_equations_hold` (one row) on `table`, as checks `name` and `name`.equations;
    adds the audit's figures to `figures`. `result` None: the published numbers contradict
    the sums."""
    ranges = pl.DataFrame(schema={"cell": pl.Int64, "measure": pl.String, "_protected": pl.Boolean})
    if result is not None:
        figures |= {
            k: v
            for k, v in result.figures().items()
            if k in ("narrowest_base_n_range", "pinned", "failures", "linear_programs")
        }
        failed = result.failures.select("cell", "measure", pl.lit(False).alias("_protected"))
        ranges = result.ranges.join(failed, on=["cell", "measure"], how="left").with_columns(
            pl.col("_protected").fill_null(True)
        )
    figures["seconds"] = round(time.perf_counter() - started, 3)
    keyed = ranges.join(cells.select("cell", *CELL_KEY), on="cell", how="left").select(
        *CELL_KEY, pl.exclude(*CELL_KEY)
    )
    return [
        _Check(
            name,
            table,
            keyed,
            [
                rule_expectation(
                    "ExpectColumnValuesToBeInSet",
                    "disclosure_protected",
                    table,
                    fmt={"minimum": str(SMALL_CELL), "figures": disclosure_figures_text(figures)},
                    column="_protected",
                    value_set=[True],
                )
            ],
        ),
        _Check(
            f"{name}.equations",
            table,
            pl.DataFrame({"_consistent": [consistent]}),
            [rule_holds("disclosure_equations_hold", table, "_consistent")],
        ),
    ]


def _value_is_ratio() -> pl.Expr:
    """True where value = numerator / denominator; null where the denominator is 0 or a number
    is missing (other rules judge those rows)."""
    numerator, denominator, value = pl.col("numerator"), pl.col("denominator"), pl.col("value")
    ratio = numerator / denominator
    close = (value - ratio).abs() <= RATIO_TOLERANCE * pl.max_horizontal(ratio.abs(), 1.0)
    applies = numerator.is_not_null() & denominator.is_not_null() & (denominator != 0)
    return pl.when(applies).then(close.fill_null(False))


def _close(a: pl.Expr, b: pl.Expr, tolerance: float) -> pl.Expr:
    return (a - b).abs() <= tolerance * pl.max_horizontal(a.abs(), b.abs())


def _close_or_both_null(a: pl.Expr, b: pl.Expr, tolerance: float) -> pl.Expr:
    both_null = a.is_null() & b.is_null()
    return both_null | _close(a, b, tolerance).fill_null(False)


def _presence(expected: pl.DataFrame, actual: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """`expected` with `_present`: does `actual` hold a row with this key?"""
    present = actual.select(key).unique().with_columns(pl.lit(True).alias("_present"))
    return expected.join(present, on=key, how="left", maintain_order="left").with_columns(
        pl.col("_present").fill_null(False)
    )


def _rollup_frame(marts: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """Marts rows plus, on each parent-level row, the sums over its child units
    (`<child>_numerator_sum`, `<child>_denominator_sum`) and `_<rule>`: do they agree? Null on
    rows a roll-up does not apply to (other levels; indicators without both levels)."""
    frame = marts
    for parent, child, rule in ROLLUPS:
        numerator_sum, denominator_sum = (
            f"{child.lower()}_{c}_sum" for c in ("numerator", "denominator")
        )
        applies = catalogue.filter(
            pl.col("levels").list.contains(parent) & pl.col("levels").list.contains(child)
        ).get_column("indicator_id")
        children = (
            marts.filter(pl.col("level") == child)
            .group_by(
                "indicator_id",
                "period",
                pl.col("unit_code").str.slice(0, UNIT_CODE_LENGTH[parent]),
            )
            .agg(
                pl.col("numerator").sum().alias(numerator_sum),
                pl.col("denominator").sum().alias(denominator_sum),
            )
            .with_columns(pl.lit(parent).alias("level"))
        )
        frame = frame.join(children, on=list(KEY), how="left", maintain_order="left")
        agrees = _close(
            pl.col("numerator"), pl.col(numerator_sum).fill_null(0), ROLLUP_TOLERANCE
        ) & _close(pl.col("denominator"), pl.col(denominator_sum).fill_null(0), ROLLUP_TOLERANCE)
        is_parent = (pl.col("level") == parent) & pl.col("indicator_id").is_in(applies.implode())
        frame = frame.with_columns(
            pl.when(is_parent).then(agrees.fill_null(False)).alias(f"_{rule}")
        )
    return frame


def _movement_check(
    published: pl.DataFrame,
    previous: pl.DataFrame,
    factor: float,
    levels: tuple[str, ...],
) -> _Check:
    """Published values of `levels` beside the previously published ones; `move_factor` is
    max(new/old, old/new), null where either value is null or zero."""
    old = previous.unique(list(KEY), keep="first").rename({"value": "old_value"})
    frame = (
        published.filter(pl.col("level").is_in(list(levels)))
        .select(*KEY, pl.col("value").alias("new_value"))
        .join(old, on=list(KEY), how="inner", maintain_order="left")
    )
    new, before = pl.col("new_value").abs(), pl.col("old_value").abs()
    comparable = (new > 0) & (before > 0)
    frame = frame.with_columns(
        pl.when(comparable).then(pl.max_horizontal(new / before, before / new)).alias("move_factor")
    )
    scope = f"level {', '.join(levels)}"
    return _Check(
        "published.indicator_values.movement",
        PUBLISHED_VALUES,
        frame,
        [
            rule_expectation(
                "ExpectColumnValuesToBeBetween",
                "movement_within_factor",
                PUBLISHED_VALUES,
                fmt={"scope": scope, "factor": f"{factor:g}"},
                column="move_factor",
                max_value=factor,
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# Running GX and reading its results
# --------------------------------------------------------------------------------------------
def _batch_definition(name: str) -> BatchDefinition:
    """The check's batch definition in the extract gate's context (looked up, not cached here:
    that context may be replaced)."""
    datasource = context().data_sources.get(DATASOURCE)
    asset_name = f"{PREFIX}.{name}"
    if asset_name in datasource.get_asset_names():
        return datasource.get_asset(asset_name).get_batch_definition(name)
    return datasource.add_dataframe_asset(asset_name).add_batch_definition_whole_dataframe(name)


def _validate(check: _Check) -> tuple[gx.ExpectationSuite, ExpectationSuiteValidationResult]:
    import great_expectations as gx

    # Passed to the constructor, which drops an invalid expectation instead of raising.
    suite = gx.ExpectationSuite(
        name=f"{PREFIX}.{check.name}",
        expectations=check.expectations,
        meta={"table": check.table},
    )
    if len(suite.expectations) != len(check.expectations):
        raise BrokenGateError(f"{check.name}: GX dropped expectations of the generated suite")
    # Not saved in the context (its in-memory store cost 0.3 s a run in copies and checks, for a
    # suite that is built anew each run): each expectation gets the id a save would give it,
    # which the runtime uses to match results to expectations.
    for expectation in suite.expectations:
        expectation.id = str(uuid.uuid4())
    dataframe = _to_pandas(check.frame, _columns_read(check.expectations))
    try:
        batch = _batch_definition(check.name).get_batch(batch_parameters={"dataframe": dataframe})
        result = validate(batch, suite)
    finally:
        release_batch()
    check_ran(result, suite)
    return suite, result


def _columns_read(expectations: Iterable[Expectation]) -> set[str]:
    """Every column an expectation or its row condition names."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("column", "column_A", "column_B") and isinstance(value, str):
                    names.add(value)
                elif key == "column" and isinstance(value, dict) and "name" in value:
                    names.add(value["name"])
                elif key == "column_list":
                    names.update(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for expectation in expectations:
        walk(expectation.configuration.to_json_dict()["kwargs"])
    return names


def _to_pandas(frame: pl.DataFrame, columns: set[str]) -> Any:
    """The columns the suite reads (a column it names but the frame lacks stays missing, so
    its expectation raises), strings as pandas Categoricals: GX copies the frame for every row
    condition, and categorical codes copy and compare about twice as fast here (1 M rows)."""
    return (
        frame.select(c for c in frame.columns if c in columns)
        .with_columns(pl.col(pl.String).cast(pl.Categorical))
        .to_pandas()
    )


def _findings(check: _Check, result: ExpectationSuiteValidationResult) -> Iterator[Finding]:
    for r in result.results:
        count = r.result["unexpected_count"]
        if r.success and not count:
            continue
        meta = r.expectation_config.meta
        positions = r.result["unexpected_index_list"]
        if meta["severity"] == ERROR:
            positions = positions[:SAMPLE_ROWS]
        yield Finding(
            table=meta["table"],
            rule=meta["rule"],
            severity=meta["severity"],
            expectation=r.expectation_config.type,
            column=meta["column"],
            text_de=meta["text_de"],
            text_en=meta["text_en"],
            unexpected_count=int(count),
            sample=check.frame[list(positions)].to_dicts(),
        )


_SUMMARY_SCHEMA: dict[str, pl.DataType] = {
    "check": pl.String(),
    "table": pl.String(),
    "rule": pl.String(),
    "severity": pl.String(),
    "expectation": pl.String(),
    "column": pl.String(),
    "element_count": pl.Int64(),
    "unexpected_count": pl.Int64(),
}


def _summary_rows(check: _Check, result: ExpectationSuiteValidationResult) -> list[dict]:
    return [
        {
            "check": check.name,
            "table": r.expectation_config.meta["table"],
            "rule": r.expectation_config.meta["rule"],
            "severity": r.expectation_config.meta["severity"],
            "expectation": r.expectation_config.type,
            "column": r.expectation_config.meta["column"],
            "element_count": r.result.get("element_count"),
            "unexpected_count": r.result["unexpected_count"],
        }
        for r in result.results
    ]


# --------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------
def write_mart_data_docs(
    result: MartGateResult, folder: str | Path, *, run_name: str = PREFIX
) -> Path:
    """Write GX Data Docs of one gate run to `folder` (replaced as a whole) and return its
    `index.html`. A non-empty folder that is not a Data Docs site is refused."""
    validations = [
        (result.suites[name], validation, name) for name, validation in result.validations.items()
    ]
    return gx_runtime.write_data_docs(validations, folder, site_name=PREFIX, run_name=run_name)
