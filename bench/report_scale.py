"""Time the Kennzahlenbericht on a published database of `bw` shape (not part of `make bench`).

Until the version-2 published shape (issue #13) comes out of a real build, this makes one with
the magnitudes of `bw`: Land, 4 RB, the 44 Kreise of the seed, 300 providers (each Kreis and
256 Gemeinden), every catalogue indicator for every year 2017–2026 and quarter to 2026Q2,
random values, 10 % of the Kreis cells of case and person indicators suppressed.

    .venv/bin/python -m bench.report_scale --out /tmp/report-bw
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import duckdb

from indicator_report.render import build_report

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "dbt_project" / "seeds"
REFERENCE_DATE = date(2026, 6, 30)


def make_bw_shaped(path: Path, seed: float = 0.42) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("SELECT setseed(?)", [seed])
        con.execute(
            "CREATE TABLE indicator_definitions AS SELECT * FROM read_csv(?, header = true, "
            "all_varchar = true)",
            [str(SEEDS / "indicator_catalogue.csv")],
        )
        con.execute(
            "ALTER TABLE indicator_definitions ALTER suppress_small_cells TYPE BOOLEAN "
            "USING suppress_small_cells = 'true'"
        )
        con.execute(
            """
            CREATE TABLE units AS
            WITH kreise AS (
                SELECT * FROM read_csv(?, delim = ';', header = true, all_varchar = true)
            )
            SELECT 'LAND' AS level, '08' AS unit_code, 'Baden-Württemberg' AS unit_name,
                NULL::VARCHAR AS parent_code
            UNION ALL SELECT DISTINCT 'RB', rb_ags, rb_name, '08' FROM kreise
            UNION ALL SELECT 'KREIS', kreis_ags, kreis_name, rb_ags FROM kreise
            UNION ALL SELECT 'TRAEGER', kreis_ags, kreis_name, kreis_ags FROM kreise
            UNION ALL
            SELECT 'TRAEGER', k.kreis_ags || lpad(CAST(g AS VARCHAR), 3, '0'), NULL, k.kreis_ags
            FROM kreise AS k, range(1, 7) AS t (g)
            WHERE (hash(k.kreis_ags) + g) % 7 <> 0 OR g < 6
            """,
            [str(SEEDS / "kreise_bw.csv")],
        )
        con.execute(
            """
            CREATE TABLE indicator_values AS
            WITH years AS (SELECT y FROM range(2017, 2027) AS t (y)),
            periods AS (
                SELECT CAST(y AS VARCHAR) AS period, 'YEAR' AS period_type,
                    make_date(y, 12, 31) <= ?::DATE AS period_complete
                FROM years
                UNION ALL
                SELECT y || 'Q' || q, 'QUARTER', last_day(make_date(y, 3 * q, 1)) <= ?::DATE
                FROM years, range(1, 5) AS t (q)
                WHERE make_date(y, 3 * q - 2, 1) <= ?::DATE
            ),
            grid AS (
                SELECT d.indicator_id, d.unit, d.suppress_small_cells, p.*, u.level,
                    u.unit_code, u.unit_name,
                    CASE u.level WHEN 'LAND' THEN 40000 WHEN 'RB' THEN 10000
                        WHEN 'KREIS' THEN 900 ELSE 150 END * (0.5 + random()) AS den
                FROM indicator_definitions AS d
                CROSS JOIN periods AS p
                CROSS JOIN units AS u
                WHERE list_contains(string_split(d.period_types, ','), p.period_type)
                    AND list_contains(string_split(d.levels, ','), u.level)
            ),
            valued AS (
                SELECT *, round(den) AS denominator,
                    round(den) * CASE unit WHEN 'share' THEN 0.2 + 0.6 * random()
                        WHEN 'EUR per FTE' THEN 55000 + 15000 * random()
                        WHEN 'EUR per case' THEN 800 + 600 * random()
                        WHEN 'cases per FTE' THEN 45 + 15 * random()
                        ELSE 0.5 + random() END AS numerator,
                    suppress_small_cells AND level = 'KREIS' AND random() < 0.1 AS suppressed
                FROM grid
            )
            SELECT indicator_id, period, period_type, period_complete, level, unit_code,
                unit_name,
                CASE WHEN NOT suppressed THEN numerator END AS numerator,
                CASE WHEN NOT suppressed THEN denominator END AS denominator,
                CASE WHEN NOT suppressed THEN numerator / denominator END AS value,
                CASE WHEN NOT suppressed AND suppress_small_cells
                    THEN CAST(denominator / 4 AS BIGINT) END AS base_n,
                suppressed,
                CASE WHEN suppressed THEN 'primary' END AS suppression
            FROM valued
            """,
            [REFERENCE_DATE, REFERENCE_DATE, REFERENCE_DATE],
        )
        con.execute(
            """
            CREATE TABLE build_info AS
            SELECT 'indicator_values' AS table_name, count(*) AS row_count,
                'BWSHAPE' AS publish_id, now()::TIMESTAMP AS published_at_utc,
                NULL::TIMESTAMP AS latest_load_at_utc, ?::DATE AS reference_date
            FROM indicator_values
            """,
            [REFERENCE_DATE],
        )
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("/tmp/imw-report-bw"))
    args = p.parse_args()
    db = make_bw_shaped(args.out / "indicators.duckdb")
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT count(*) FROM indicator_values").fetchone()[0]
    started = time.perf_counter()
    cpu = time.process_time()
    result = build_report(db, args.out / "report")
    print(
        f"{rows:,} indicator rows → {result.pages} pages, {result.bytes / 1e6:.2f} MB, "
        f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU"
    )
    print(f"index.html: {(result.path / 'index.html').stat().st_size / 1e3:.0f} kB")
    print(result.index)


if __name__ == "__main__":
    main()
