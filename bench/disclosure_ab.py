"""Disclosure control alone on a built warehouse, as the build and the mart gate run it.

    .venv/bin/python -m bench.disclosure_ab BUILD_DB      # e.g. a kept bench home's
                                                          # warehouse/build.duckdb

Reads the unsuppressed marts of a build database (read-only), protects them one year at a time
(`disclosure.chunks.protect_by_year`, no memo: every part anew) and audits that pattern the same
way (`audit_by_year`), on `workers()` processes as in a build. Prints one JSON line each: the
pattern's seconds, suppressed cells and a digest of the pattern (to show that two versions of the
engine chose the same cells), and the audit's seconds, failures and linear programs. Run it on
two checkouts back to back (`PYTHONPATH=<checkout>`) to compare engines on the same cells.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable

import duckdb
import polars as pl

from disclosure.chunks import audit_by_year, protect_by_year
from disclosure.engine import CELL_MINIMUM
from disclosure.tables import (
    CELL_KEY,
    contact_topic_cells,
    goal_field_cells,
    indicator_cells,
)


def marts_cells(con: duckdb.DuckDBPyConnection) -> tuple[list[str], Callable[[str], pl.DataFrame]]:
    """The years of a build database's unsuppressed marts and a reader of one year's cells, as the
    `disclosure_pattern` model reads them (none hidden)."""

    def relation(name: str) -> str:
        schema = con.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = ? LIMIT 1",
            [name],
        ).fetchall()[0][0]
        return f'"{schema}"."{name}"'

    catalogue = con.sql(f"SELECT * FROM {relation('indicator_catalogue')}").pl()
    values = relation("indicator_values")
    years = sorted(
        year for (year,) in con.execute(f"SELECT DISTINCT left(period, 4) FROM {values}").fetchall()
    )

    def cells_of(year: str) -> pl.DataFrame:
        """One year's cells, as the `disclosure_pattern` model reads them."""
        where = f"WHERE left(period, 4) = '{year}'"
        return pl.concat(
            [
                indicator_cells(con.sql(f"SELECT * FROM {values} {where}").pl(), catalogue),
                goal_field_cells(
                    con.sql(
                        f"SELECT * FROM {relation('mart_goal_attainment_by_field')} {where}"
                    ).pl()
                ),
                contact_topic_cells(
                    con.sql(f"SELECT * FROM {relation('mart_contact_topics')} {where}").pl()
                ),
            ]
        ).with_columns(pl.lit(False).alias("hidden"))

    return years, cells_of


def main(build_db: str) -> None:
    con = duckdb.connect(build_db, read_only=True)
    years, cells_of = marts_cells(con)

    started = time.perf_counter()
    pattern = protect_by_year(years, cells_of, None).pattern
    seconds = time.perf_counter() - started
    digest = hashlib.md5(pattern.write_csv().encode(), usedforsecurity=False).hexdigest()
    print(
        json.dumps(
            {"pattern_s": round(seconds, 1), "suppressed": pattern.height, "md5": digest[:12]}
        ),
        flush=True,
    )

    def published_cells(year: str) -> pl.DataFrame:
        """The year's cells with the pattern's cells hidden, as the gate reads them."""
        return (
            cells_of(year)
            .drop("hidden", "suppression", strict=False)  # the marts' own: none yet
            .join(pattern, on=list(CELL_KEY), how="left")
            .with_columns(pl.col("suppression").is_not_null().alias("hidden"))
        )

    started = time.perf_counter()
    result = audit_by_year(years, published_cells, CELL_MINIMUM, None).result
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "audit_s": round(seconds, 1),
                "failures": None if result is None else result.failures.height,
                "suppressed": None if result is None else result.suppressed,
                "linear_programs": None if result is None else result.linear_programs,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
