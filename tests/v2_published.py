"""DEV-ONLY helper (drop once issue #13 publishes the version-2 shape): upgrade a published
database of today's shape to the version-2 shape the report reads (INDICATORS.md "Output").

- `units`: LAND, the 4 RB and 44 Kreise with names from the seed `kreise_bw.csv`; every TRAEGER
  code published, with its Kreis as parent and no name (the seed has no Gemeinde names).
- `indicator_values` gains `period_complete` (the period ends on or before the reference date),
  `unit_name` (from `units`) and `suppression` ('primary' where `suppressed`); suppressed rows
  lose base_n, as version 2 publishes them.
- quarters that start after the reference date are dropped (version 2 has no such periods).
- `build_info` gains `reference_date`.

    .venv/bin/python -m tests.v2_published data/demo/published/indicators.duckdb /tmp/v2.duckdb \
        --reference-date 2026-06-30
"""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path

import duckdb

SEED = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "kreise_bw.csv"


def upgrade(source: Path, target: Path, reference_date: date) -> Path:
    target.unlink(missing_ok=True)
    shutil.copyfile(source, target)
    with duckdb.connect(str(target)) as con:
        con.execute(
            """
            CREATE TABLE units AS
            WITH kreise AS (
                SELECT * FROM read_csv(?, delim = ';', header = true, all_varchar = true)
            )
            SELECT 'LAND' AS level, '08' AS unit_code, 'Baden-Württemberg' AS unit_name,
                NULL::VARCHAR AS parent_code
            UNION ALL
            SELECT DISTINCT 'RB', rb_ags, rb_name, '08' FROM kreise
            UNION ALL
            SELECT 'KREIS', kreis_ags, kreis_name, rb_ags FROM kreise
            UNION ALL
            SELECT DISTINCT 'TRAEGER', unit_code, NULL, left(unit_code, 5)
            FROM indicator_values WHERE level = 'TRAEGER'
            """,
            [str(SEED)],
        )
        con.execute(
            """
            CREATE OR REPLACE TABLE indicator_values AS
            WITH ends AS (
                SELECT *,
                    CASE WHEN period_type = 'YEAR'
                        THEN make_date(CAST(period AS INTEGER), 12, 31)
                        ELSE last_day(make_date(CAST(left(period, 4) AS INTEGER),
                            3 * CAST(right(period, 1) AS INTEGER), 1))
                    END AS period_end
                FROM indicator_values
            )
            SELECT
                e.indicator_id, e.period, e.period_type, e.period_end <= ? AS period_complete,
                e.level, e.unit_code, u.unit_name, e.numerator, e.denominator, e.value,
                CASE WHEN NOT e.suppressed THEN e.base_n END AS base_n, e.suppressed,
                CASE WHEN e.suppressed THEN 'primary' END AS suppression
            FROM ends AS e
            LEFT JOIN units AS u USING (level, unit_code)
            -- version 2: a quarter is a period only when it starts on or before R
            WHERE e.period_type = 'YEAR' OR date_trunc('quarter', e.period_end) <= ?
            """,
            [reference_date, reference_date],
        )
        con.execute("ALTER TABLE build_info ADD COLUMN reference_date DATE")
        con.execute("UPDATE build_info SET reference_date = ?", [reference_date])
    return target


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("source", type=Path)
    p.add_argument("target", type=Path)
    p.add_argument("--reference-date", type=date.fromisoformat, default=date(2026, 6, 30))
    args = p.parse_args()
    print(upgrade(args.source, args.target, args.reference_date))


if __name__ == "__main__":
    main()
