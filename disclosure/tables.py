"""The disclosure problem of the warehouse's published tables (docs/indicators.md, "Output").

**Cells** (one frame, `CELL_KEY` + measures): every row of `indicator_values` of an indicator
the catalogue suppresses (CM*, EL*; FI*, PA*, DQ* are never suppressed and in no equation);
per row of `mart_goal_attainment_by_field` two cells, block `CM04` (goals agreed = denominator,
SMART = numerator) and `CM05` (assessed = denominator, met = numerator, partly met = `partly`);
per row of `mart_contact_topics` a `topic` cell (contacts = numerator) and, once per unit,
period and topic group, a `topic_group` cell. base_n is each cell's distinct cases or persons.

**Equations** (sums; `EQUATION_KINDS`):

- `hierarchy`: LAND = Σ RB, RB = Σ KREIS, KREIS = Σ TRAEGER in it, by AGS prefix (RB = first 3
  digits, Kreis = first 5; a provider that is a Kreis is a TRAEGER of its own KREIS), for every
  measure including base_n: pseudonyms include the provider, so a unit's distinct count is the
  sum of its providers' (marts/indicator_values.sql);
- `quarters`: year = Σ its quarters, numerator and denominator (not base_n: a distinct count is
  not additive over time), for the blocks in `TIME_ADDITIVE`;
- `last_quarter`: CM10 is a state at the period's end, and a year ends on its last quarter's
  end, so the year equals its last quarter in every measure;
- `breakdown`: Σ fields = the CM04/CM05 indicator (numerator, denominator); Σ topics of a
  group = the group; Σ topic groups = all contacts of the unit = EL01's denominator.

The needs forecast (`forecast_caseload`) publishes one observed count per unit and case type,
the cases open at the forecast's origin (`open_at_origin`): a cell per (level, unit_code,
case_type) with that count as its base_n, linked by the same `hierarchy` (RB = Σ Kreise, Land =
Σ RB: the RB and Land paths are sums of the Kreis paths) and by the breakdown `case_types` (ALLE
= CM + KB). Its other numbers (quantiles, new cases, FTE, funding) are model outputs, not sums
of the Kreise (a quantile of a sum is not the sum of the quantiles), and add no equation.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from disclosure.engine import BASE_N, Problem

__all__ = [
    "CELL_KEY",
    "CONTACT_TOPICS",
    "FORECAST_CASELOAD",
    "FORECAST_NUMBERS",
    "GOAL_FIELDS",
    "INDICATOR_VALUES",
    "MEASURES",
    "TIME_ADDITIVE",
    "contact_topic_cells",
    "forecast_cells",
    "goal_field_cells",
    "indicator_cells",
    "numbered_cells",
    "numbered_problem",
    "problem_of",
    "published_table_cells",
]

INDICATOR_VALUES = "indicator_values"
GOAL_FIELDS = "mart_goal_attainment_by_field"
CONTACT_TOPICS = "mart_contact_topics"
FORECAST_CASELOAD = "forecast_caseload"
FORECAST_ALL_TYPES = "ALLE"
"""The forecast's case type that is the sum of the others (CM + KB)."""
FORECAST_NUMBERS = (
    "open_p10",
    "open_p50",
    "open_p90",
    "new_cases",
    "open_at_origin",
    "fte_needed",
    "funding_needed_eur_per_year",
)
"""The numbers of a `forecast_caseload` row, all NULL where its cell is suppressed."""
CELL_KEY = ("table_name", "block", "period", "level", "unit_code", "breakdown")
"""A cell: its table, block (indicator id; `CM04`/`CM05` for fields; `topic`/`topic_group`),
period, unit and breakdown (field, topic or topic group; '' in indicator_values)."""
MEASURES = (BASE_N, "numerator", "denominator", "partly")
TIME_ADDITIVE = frozenset(
    {
        (INDICATOR_VALUES, block)
        for block in ("CM02", "CM04", "CM05", "CM06", "CM07", "CM08", "CM09", "EL01", "EL02")
    }
    | {(INDICATOR_VALUES, "EL03")}
    | {(GOAL_FIELDS, "CM04"), (GOAL_FIELDS, "CM05")}
    | {(CONTACT_TOPICS, "topic"), (CONTACT_TOPICS, "topic_group")}
)
"""Blocks whose numerator and denominator count events dated in the period, so the quarters
sum to the year. docs/indicators.md names CM07, CM08, EL01–EL03 and the topic counts; CM02
(signatures), CM04 (goals agreed), CM05 (goals assessed), CM06 (reviews due) and CM09
(closures) count dated events too, and an attacker would use that, so they are here as well."""
STATE_AT_PERIOD_END = frozenset({(INDICATOR_VALUES, "CM10")})
PARENT = {"TRAEGER": ("KREIS", 5), "KREIS": ("RB", 3), "RB": ("LAND", 2)}
"""Child level → (parent level, length of the parent's AGS prefix)."""
_TYPES = {
    "table_name": pl.String,
    "block": pl.String,
    "period": pl.String,
    "period_type": pl.String,
    "level": pl.String,
    "unit_code": pl.String,
    "breakdown": pl.String,
    "breakdown_group": pl.String,
    "primary_rule": pl.Boolean,
    "hidden": pl.Boolean,
    "suppression": pl.String,
    **{m: pl.Float64 for m in MEASURES},
}


def _cells(frame: pl.DataFrame, **columns: pl.Expr) -> pl.DataFrame:
    """Cells in the common shape; `hidden` is the row's published suppression flag (or false)."""
    out = frame.select(**columns)
    for name in _TYPES:
        if name not in out.columns:
            out = out.with_columns(pl.lit(None).alias(name))
    return out.select(pl.col(name).cast(dtype) for name, dtype in _TYPES.items())


def _flag(frame: pl.DataFrame, column: str) -> pl.Expr:
    return pl.col(column).fill_null(False) if column in frame.columns else pl.lit(False)


def _kind(frame: pl.DataFrame, column: str) -> pl.Expr:
    """The published suppression ('primary'/'secondary') where the table has it."""
    return pl.col(column) if column in frame.columns else pl.lit(None, pl.String)


def indicator_cells(values: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """Cells of `indicator_values` rows of indicators with `suppress_small_cells`."""
    suppressible = catalogue.filter(pl.col("suppress_small_cells").cast(pl.Boolean)).get_column(
        "indicator_id"
    )
    rows = values.filter(pl.col("indicator_id").is_in(suppressible.implode()))
    return _cells(
        rows,
        table_name=pl.lit(INDICATOR_VALUES),
        block=pl.col("indicator_id"),
        period=pl.col("period"),
        period_type=pl.col("period_type"),
        level=pl.col("level"),
        unit_code=pl.col("unit_code"),
        breakdown=pl.lit(""),
        primary_rule=pl.lit(True),
        hidden=_flag(rows, "suppressed"),
        suppression=_kind(rows, "suppression"),
        base_n=pl.col("base_n"),
        numerator=pl.col("numerator"),
        denominator=pl.col("denominator"),
    )


def goal_field_cells(fields: pl.DataFrame) -> pl.DataFrame:
    """Two cells per row of `mart_goal_attainment_by_field`: CM04 and CM05."""
    common = {
        "table_name": pl.lit(GOAL_FIELDS),
        "period": pl.col("period"),
        "period_type": pl.col("period_type"),
        "level": pl.col("level"),
        "unit_code": pl.col("unit_code"),
        "breakdown": pl.col("field"),
        "primary_rule": pl.lit(True),
    }
    return pl.concat(
        [
            _cells(
                fields,
                **common,
                block=pl.lit("CM04"),
                hidden=_flag(fields, "cm04_suppressed"),
                suppression=_kind(fields, "cm04_suppression"),
                base_n=pl.col("cm04_base_n"),
                numerator=pl.col("cm04_goals_smart"),
                denominator=pl.col("cm04_goals_agreed"),
            ),
            _cells(
                fields,
                **common,
                block=pl.lit("CM05"),
                hidden=_flag(fields, "cm05_suppressed"),
                suppression=_kind(fields, "cm05_suppression"),
                base_n=pl.col("cm05_base_n"),
                numerator=pl.col("cm05_goals_met"),
                denominator=pl.col("cm05_goals_assessed"),
                partly=pl.col("cm05_goals_partly_met"),
            ),
        ]
    )


def contact_topic_cells(topics: pl.DataFrame) -> pl.DataFrame:
    """A cell per row of `mart_contact_topics` and one per unit, period and topic group."""
    common = {
        "table_name": pl.lit(CONTACT_TOPICS),
        "period": pl.col("period"),
        "period_type": pl.col("period_type"),
        "level": pl.col("level"),
        "unit_code": pl.col("unit_code"),
        "primary_rule": pl.lit(True),
    }
    groups = topics.unique(["level", "unit_code", "period", "topic_group"], keep="first")
    return pl.concat(
        [
            _cells(
                topics,
                **common,
                block=pl.lit("topic"),
                breakdown=pl.col("topic"),
                breakdown_group=pl.col("topic_group"),
                hidden=_flag(topics, "suppressed"),
                suppression=_kind(topics, "suppression"),
                base_n=pl.col("base_n"),
                numerator=pl.col("contacts"),
            ),
            _cells(
                groups,
                **common,
                block=pl.lit("topic_group"),
                breakdown=pl.col("topic_group"),
                hidden=_flag(groups, "topic_group_suppressed"),
                suppression=_kind(groups, "topic_group_suppression"),
                base_n=pl.col("topic_group_base_n"),
                numerator=pl.col("topic_group_contacts"),
            ),
        ]
    )


def published_table_cells(
    values: pl.DataFrame,
    fields: pl.DataFrame | None,
    topics: pl.DataFrame | None,
    catalogue: pl.DataFrame,
) -> pl.DataFrame:
    """The cells of the three tables disclosure control protects, concatenated: `indicator_values`,
    `mart_goal_attainment_by_field` and `mart_contact_topics` (None: a table not there)."""
    frames = [indicator_cells(values, catalogue)]
    if fields is not None:
        frames.append(goal_field_cells(fields))
    if topics is not None:
        frames.append(contact_topic_cells(topics))
    return pl.concat(frames)


def forecast_cells(forecast: pl.DataFrame) -> pl.DataFrame:
    """A cell per (level, unit_code, case_type) of `forecast_caseload`, base_n = its
    `open_at_origin` (the same on every row of the cell: scenario and month are not part of
    it); hidden where any of its rows is `suppressed` (the table publishes that flag only, not
    'primary'/'secondary')."""
    key = ["level", "unit_code", "case_type"]
    cells = forecast.group_by(key).agg(
        pl.col("open_at_origin").drop_nulls().first(),
        (pl.col("suppressed").fill_null(False).any() if "suppressed" in forecast.columns
         else pl.lit(False)).alias("hidden"),
    )  # fmt: skip
    return _cells(
        cells,
        table_name=pl.lit(FORECAST_CASELOAD),
        block=pl.lit(FORECAST_CASELOAD),
        period=pl.lit(""),
        level=pl.col("level"),
        unit_code=pl.col("unit_code"),
        breakdown=pl.col("case_type"),
        primary_rule=pl.lit(True),
        hidden=pl.col("hidden"),
        base_n=pl.col("open_at_origin"),
    )


# --------------------------------------------------------------------------------------------
# The problem
# --------------------------------------------------------------------------------------------
def numbered_cells(cells: pl.DataFrame) -> pl.DataFrame:
    """`cells` once per `CELL_KEY` (the first row of a key), in `CELL_KEY` order, with their
    number `cell`: the cells of `problem_of`'s problem, in its numbering."""
    # a stable sort, then the first row of each key: the rows `unique(keep="first")` keeps, in
    # CELL_KEY order, in 0.03 instead of 0.05 s a year (`bw`)
    return (
        cells.sort(list(CELL_KEY), maintain_order=True)
        .unique(list(CELL_KEY), keep="first", maintain_order=True)
        .with_row_index("cell")
        .with_columns(pl.col("cell").cast(pl.Int64))
    )


def problem_of(cells: pl.DataFrame, *, published: bool = False) -> tuple[Problem, pl.DataFrame]:
    """The engine's problem for `cells` (concatenated `*_cells` frames) and the cells with
    their number `cell`. With `published`, hidden cells' values are unknown to the audit (they
    are NULL in the published tables anyway)."""
    return numbered_problem(numbered_cells(cells), published=published)


def numbered_problem(
    cells: pl.DataFrame, *, published: bool = False
) -> tuple[Problem, pl.DataFrame]:
    """`problem_of` of cells `numbered_cells` numbered already (a year is numbered once, for its
    key and its problem)."""
    publishes = _publishes(cells)
    values = (
        cells.unpivot(index="cell", on=list(MEASURES), variable_name="measure", value_name="value")
        .filter(publishes("cell", "measure"))
        .sort("cell", "measure", maintain_order=True)
    )
    if not published:
        missing = values.filter(pl.col("value").is_null())
        if not missing.is_empty():
            raise ValueError(f"cells without a value: {missing.head(3)}")
    # Only measures a cell publishes take part (no denominator on topic cells), each kind of
    # link filtered before they are put together.
    links = pl.concat(
        [
            kind.filter(publishes("total", "total_measure") & publishes("part", "part_measure"))
            for kind in (
                _hierarchy(cells),
                _quarters(cells),
                _last_quarter(cells),
                _breakdowns(cells),
            )
        ]
    )
    links = links.with_columns(_equation_number(links, cells.height))
    terms = pl.concat(
        [
            links.select(
                "equation",
                pl.col("total").alias("cell"),
                pl.col("total_measure").alias("measure"),
                pl.lit(1.0).alias("coefficient"),
            ).unique("equation"),
            links.select(
                "equation",
                pl.col("part").alias("cell"),
                pl.col("part_measure").alias("measure"),
                pl.lit(-1.0).alias("coefficient"),
            ),
        ]
    ).sort("equation", "coefficient", "cell", descending=[False, True, False], maintain_order=True)
    problem = Problem(
        cells=cells.select(
            "cell",
            pl.col("primary_rule"),
            (pl.col("primary_rule") & (pl.col("level") != "LAND")).alias("may_be_secondary"),
        ),
        values=values,
        terms=terms,
    )
    return problem, cells


def _equation_number(links: pl.DataFrame, n_cells: int) -> pl.Expr:
    """Each link's sum, numbered from 1 in the order of (kind, total, total_measure): the dense
    rank of that triple, taken on one integer that sorts as the triple does (kind and measure by
    their names' order, the total by its number): 31–34 ms against 47–50 ms for the rank of
    the triple itself (one `bw` year, 451,599 links)."""
    code = {
        column: {name: i for i, name in enumerate(sorted(links.get_column(column).unique()))}
        for column in ("kind", "total_measure")
    }
    n_measures = max(len(code["total_measure"]), 1)
    return (
        (
            (
                pl.col("kind").replace_strict(code["kind"], return_dtype=pl.Int64) * n_cells
                + pl.col("total")
            )
            * n_measures
            + pl.col("total_measure").replace_strict(code["total_measure"], return_dtype=pl.Int64)
        )
        .rank("dense")
        .cast(pl.Int64)
        .alias("equation")
    )


_TABLE_MEASURES = pl.DataFrame(
    [
        *((INDICATOR_VALUES, None, m) for m in (BASE_N, "numerator", "denominator")),
        *((GOAL_FIELDS, b, m) for b in ("CM04", "CM05") for m in (BASE_N, "numerator")),
        *((GOAL_FIELDS, b, "denominator") for b in ("CM04", "CM05")),
        (GOAL_FIELDS, "CM05", "partly"),
        *((CONTACT_TOPICS, b, m) for b in ("topic", "topic_group") for m in (BASE_N, "numerator")),
        (FORECAST_CASELOAD, None, BASE_N),
    ],
    schema={"table_name": pl.String, "block": pl.String, "measure": pl.String},
    orient="row",
)
"""The measures each kind of cell publishes (block None: every block of the table)."""


def _publishes(cells: pl.DataFrame) -> Callable[[str, str], pl.Expr]:
    """`publishes(cell, measure)`: whether the cell in column `cell` publishes the measure in
    column `measure` (`_TABLE_MEASURES`), as an expression. A bit per measure in one integer per
    cell, looked up by the cell's number (cells are numbered 0..n-1): no join of millions of
    (cell, measure) pairs, whose hash tables were the largest part of setting up the problem
    (measured on `bw`, 801,360 cells: 1.77 -> 1.49 GiB peak, 4.0 -> 3.0 s, the same problem)."""
    bit = {m: 1 << i for i, m in enumerate(MEASURES)}
    bits = _TABLE_MEASURES.with_columns(
        pl.col("measure").replace_strict(bit, return_dtype=pl.Int64)
    )
    every_block = (
        bits.filter(pl.col("block").is_null())
        .group_by("table_name")
        .agg(pl.col("measure").sum().alias("every_block"))  # distinct bits: the sum is the or
    )
    own_block = (
        bits.filter(pl.col("block").is_not_null())
        .group_by("table_name", "block")
        .agg(pl.col("measure").sum().alias("own_block"))
    )
    lookup = (
        cells.select("table_name", "block")
        .join(every_block, on="table_name", how="left", maintain_order="left")
        .join(own_block, on=["table_name", "block"], how="left", maintain_order="left")
        .select(pl.col("every_block").fill_null(0).or_(pl.col("own_block").fill_null(0)))
        .to_series()
    )

    def publishes(cell: str, measure: str) -> pl.Expr:
        wanted = pl.col(measure).replace_strict(bit, return_dtype=pl.Int64)
        return pl.lit(lookup).gather(pl.col(cell)).and_(wanted) != 0

    return publishes


_LINK_SCHEMA = {
    "kind": pl.String,
    "total": pl.Int64,
    "total_measure": pl.String,
    "part": pl.Int64,
    "part_measure": pl.String,
}


def _same_measure(pairs: pl.DataFrame, kind: str, measures: tuple[str, ...]) -> pl.DataFrame:
    """(total, part) pairs → links for each of `measures` on both sides."""
    return (
        pairs.select("total", "part")
        .join(pl.DataFrame({"total_measure": list(measures)}), how="cross")
        .select(
            pl.lit(kind).alias("kind"),
            "total",
            "total_measure",
            "part",
            pl.col("total_measure").alias("part_measure"),
        )
        .cast(_LINK_SCHEMA)
    )


def _hierarchy(cells: pl.DataFrame) -> pl.DataFrame:
    level = pl.col("level")
    children = cells.filter(level.is_in(list(PARENT))).select(
        "cell",
        "table_name",
        "block",
        "period",
        "breakdown",
        level.replace_strict({k: v[0] for k, v in PARENT.items()}).alias("parent_level"),
        pl.col("unit_code")
        .str.slice(0, level.replace_strict({k: v[1] for k, v in PARENT.items()}))
        .alias("parent_code"),
    )
    parents = cells.select(
        pl.col("cell").alias("total"),
        "table_name",
        "block",
        "period",
        "breakdown",
        pl.col("level").alias("parent_level"),
        pl.col("unit_code").alias("parent_code"),
    )
    pairs = children.join(
        parents,
        on=["table_name", "block", "period", "breakdown", "parent_level", "parent_code"],
    ).rename({"cell": "part"})
    return _same_measure(pairs, "hierarchy", MEASURES)


def _year_and_quarters(cells: pl.DataFrame, blocks: frozenset) -> tuple[pl.DataFrame, ...]:
    chosen = cells.filter(
        pl.struct("table_name", "block").is_in(
            pl.DataFrame(sorted(blocks), schema=["table_name", "block"], orient="row")
            .select(pl.struct("table_name", "block"))
            .to_series()
            .implode()
        )
    )
    key = ["table_name", "block", "level", "unit_code", "breakdown", "year"]
    years = chosen.filter(pl.col("period_type") == "YEAR").select(
        pl.col("cell").alias("total"), *key[:-1], pl.col("period").alias("year")
    )
    quarters = chosen.filter(pl.col("period_type") == "QUARTER").select(
        pl.col("cell").alias("part"),
        *key[:-1],
        pl.col("period").str.slice(0, 4).alias("year"),
        "period",
    )
    return years, quarters, key


def _quarters(cells: pl.DataFrame) -> pl.DataFrame:
    years, quarters, key = _year_and_quarters(cells, TIME_ADDITIVE)
    pairs = years.join(quarters, on=key)
    return _same_measure(pairs, "quarters", ("numerator", "denominator", "partly"))


def _last_quarter(cells: pl.DataFrame) -> pl.DataFrame:
    years, quarters, key = _year_and_quarters(cells, STATE_AT_PERIOD_END)
    last = quarters.sort("period").group_by(key, maintain_order=True).last()
    pairs = years.join(last, on=key)
    return _same_measure(pairs, "last_quarter", MEASURES)


def _breakdowns(cells: pl.DataFrame) -> pl.DataFrame:
    unit = ["period", "level", "unit_code"]
    fields = cells.filter(pl.col("table_name") == GOAL_FIELDS)
    indicators = cells.filter(
        (pl.col("table_name") == INDICATOR_VALUES) & pl.col("block").is_in(["CM04", "CM05"])
    )
    field_pairs = indicators.select(pl.col("cell").alias("total"), "block", *unit).join(
        fields.select(pl.col("cell").alias("part"), "block", *unit), on=["block", *unit]
    )
    topics = cells.filter((pl.col("table_name") == CONTACT_TOPICS) & (pl.col("block") == "topic"))
    groups = cells.filter(
        (pl.col("table_name") == CONTACT_TOPICS) & (pl.col("block") == "topic_group")
    )
    topic_pairs = groups.select(
        pl.col("cell").alias("total"), *unit, pl.col("breakdown").alias("breakdown_group")
    ).join(
        topics.select(pl.col("cell").alias("part"), *unit, "breakdown_group"),
        on=[*unit, "breakdown_group"],
    )
    el01 = cells.filter((pl.col("table_name") == INDICATOR_VALUES) & (pl.col("block") == "EL01"))
    total_pairs = el01.select(pl.col("cell").alias("total"), *unit).join(
        groups.select(pl.col("cell").alias("part"), *unit), on=unit
    )
    forecast = cells.filter(pl.col("table_name") == FORECAST_CASELOAD)
    type_pairs = (
        forecast.filter(pl.col("breakdown") == FORECAST_ALL_TYPES)
        .select(pl.col("cell").alias("total"), *unit)
        .join(
            forecast.filter(pl.col("breakdown") != FORECAST_ALL_TYPES).select(
                pl.col("cell").alias("part"), *unit
            ),
            on=unit,
        )
    )
    return pl.concat(
        [
            _same_measure(type_pairs, "case_types", (BASE_N,)),
            _same_measure(field_pairs, "fields", ("numerator", "denominator")),
            _same_measure(topic_pairs, "topics", ("numerator",)),
            total_pairs.select(
                pl.lit("topic_total").alias("kind"),
                "total",
                pl.lit("denominator").alias("total_measure"),
                "part",
                pl.lit("numerator").alias("part_measure"),
            ).cast(_LINK_SCHEMA),
        ]
    )
