"""Every query the report makes, all against the PUBLISHED analyst database (never the build DB).

The report reads the version-2 shape of the published tables (INDICATORS.md, "Output"):
`indicator_values` with `period_complete`, `unit_name` and `suppression`, the `units` table,
`indicator_definitions` and `build_info.reference_date`. This is the only module that knows
table and column names; the rest of the package works on the polars frames returned here.

Suppression holds by construction: the published rows of suppressed cells carry no numbers, and
as a second line of defence the query below blanks numerator, denominator, value and base_n of
every row flagged `suppressed`, whatever the file holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from core.database import connect

REQUIRED_COLUMNS = {
    "indicator_values": (
        "indicator_id", "period", "period_type", "period_complete", "level", "unit_code",
        "unit_name", "numerator", "denominator", "value", "base_n", "suppressed", "suppression",
    ),
    "units": ("level", "unit_code", "unit_name", "parent_code"),
    "indicator_definitions": (
        "indicator_id", "domain", "name_de", "name_en", "definition_de", "definition_en", "unit",
        "better_direction", "audit_finding", "period_types", "levels", "base_n_entity",
        "suppress_small_cells",
    ),
    "build_info": ("publish_id", "published_at_utc", "reference_date"),
}  # fmt: skip

# Provider-level (TRAEGER) rows are read only for the indicators the report shows per provider:
# the delivery calendar and accepted rows (DQ01, DQ02) and the overfinancing distribution (FI01).
PROVIDER_LEVEL_INDICATORS = ("DQ01", "DQ02", "FI01")


class PublishedShapeError(RuntimeError):
    """The published database lacks a table or column the report needs."""


@dataclass(frozen=True)
class BuildInfo:
    publish_id: str
    published_at_utc: datetime
    reference_date: date


@dataclass(frozen=True)
class Published:
    """What the report reads, as frames."""

    build: BuildInfo
    definitions: pl.DataFrame
    """One row per indicator, ordered by id."""
    units: pl.DataFrame
    """level, unit_code, unit_name, parent_code (LAND, RB, KREIS; TRAEGER where published)."""
    values: pl.DataFrame
    """indicator_values at LAND, RB and KREIS level, plus TRAEGER rows of
    PROVIDER_LEVEL_INDICATORS; suppressed rows without any number."""


def _check_shape(con: duckdb.DuckDBPyConnection) -> None:
    present = con.execute(
        "SELECT table_name, list(column_name) FROM information_schema.columns "
        "WHERE table_schema = 'main' GROUP BY table_name"
    ).fetchall()
    columns = {table: set(cols) for table, cols in present}
    missing = [
        f"{table}.{col}"
        for table, cols in REQUIRED_COLUMNS.items()
        for col in cols
        if col not in columns.get(table, set())
    ]
    if missing:
        raise PublishedShapeError(
            "the published database lacks what the report needs (version-2 shape, "
            f"INDICATORS.md 'Output'): {', '.join(missing)}"
        )


def _build_info(con: duckdb.DuckDBPyConnection) -> BuildInfo:
    publish_id, published_at, reference_date = con.execute(
        "SELECT any_value(publish_id), max(published_at_utc), max(reference_date) FROM build_info"
    ).fetchall()[0]
    if reference_date is None:
        raise PublishedShapeError("build_info.reference_date is empty: nothing was published")
    return BuildInfo(publish_id, published_at, reference_date)


def load(published_db: Path) -> Published:
    """Read everything the report shows from `published_db` (opened read-only)."""
    if not published_db.is_file():
        raise FileNotFoundError(f"no published database at {published_db}")
    with connect(published_db, read_only=True) as con:
        _check_shape(con)
        build = _build_info(con)
        definitions = con.sql(
            """
            SELECT indicator_id, domain, name_de, name_en, definition_de, definition_en, unit,
                   better_direction, audit_finding, period_types, levels, base_n_entity,
                   suppress_small_cells
            FROM indicator_definitions
            ORDER BY indicator_id
            """
        ).pl()
        units = con.sql(
            """
            SELECT level, unit_code, unit_name, parent_code
            FROM units
            ORDER BY level, unit_code
            """
        ).pl()
        values = con.sql(
            """
            SELECT
                indicator_id, period, period_type, period_complete, level, unit_code, unit_name,
                CASE WHEN NOT suppressed THEN numerator END AS numerator,
                CASE WHEN NOT suppressed THEN denominator END AS denominator,
                CASE WHEN NOT suppressed THEN value END AS value,
                CASE WHEN NOT suppressed THEN base_n END AS base_n,
                suppressed,
                suppression
            FROM indicator_values
            WHERE level IN ('LAND', 'RB', 'KREIS')
                OR (level = 'TRAEGER' AND list_contains(?, indicator_id))
            ORDER BY indicator_id, period_type, period, level, unit_code
            """,
            params=[list(PROVIDER_LEVEL_INDICATORS)],
        ).pl()
    return Published(
        build=build,
        definitions=definitions,
        units=units,
        values=values,
    )
