"""A small, hand-made published database in the version-2 shape (INDICATORS.md "Output") for the
report's tests.

Units: Land 08; RB 081 Stuttgart (Kreise 08115 Böblingen, 08116 Esslingen) and RB 082 Karlsruhe
(Kreis 08212 Karlsruhe); providers 08115 (a Kreis that counsels itself), 08116003 (a Gemeinde)
and 08212. Reference date 15.05.2026: 2024, 2025 and the quarters up to 2026Q1 are complete;
2026 and 2026Q2 are periods to date.

Every indicator of the real catalogue (the seed) gets a generic grid row per period and unit,
whose numbers are round (denominators of 10, 100, 200, 500, 1000; shares of 30,0 … 50,0 %), so
that no generic cell can print the distinctive numbers of the suppressed cells below. The
cells the tests assert on are set by hand after the grid, each with its expected output.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

SEED = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "indicator_catalogue.csv"
REFERENCE_DATE = date(2026, 5, 15)

# The suppressed cells hold numbers here, as a faulty upstream publish might: the report must
# blank them anyway. Their numbers occur nowhere else in the fixture; each string is how one of
# them would print (German format, or raw in a chart's data).
PRIMARY = {"numerator": 4321, "denominator": 8765, "base_n": 3}  # value 0.49298… → "49,3 %"
SECONDARY = {"numerator": 6543, "denominator": 9871, "base_n": 7}  # value 0.66285… → "66,3 %"
LEAK_STRINGS = (
    "4321", "4.321", "8765", "8.765", "49,3", "0.4929", "0,4929",
    "6543", "6.543", "9871", "9.871", "66,3", "0.6628", "0,6628",
)  # fmt: skip


def make_published(path: Path, only: tuple[str, ...] | None = None) -> Path:
    """The fixture database at `path`; `only` keeps just those indicators (a quick report for
    tests of wiring rather than content)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            CREATE TABLE indicator_definitions AS
            SELECT * FROM read_csv(?, header = true, delim = ',', quote = '"', all_varchar = true)
            """,
            [str(SEED)],
        )
        con.execute(
            "ALTER TABLE indicator_definitions ALTER suppress_small_cells TYPE BOOLEAN "
            "USING suppress_small_cells = 'true'"
        )
        con.execute(
            """
            CREATE TABLE units (level VARCHAR, unit_code VARCHAR, unit_name VARCHAR,
                                parent_code VARCHAR);
            INSERT INTO units VALUES
                ('LAND', '08', 'Baden-Württemberg', NULL),
                ('RB', '081', 'Stuttgart', '08'),
                ('RB', '082', 'Karlsruhe', '08'),
                ('KREIS', '08115', 'Böblingen', '081'),
                ('KREIS', '08116', 'Esslingen', '081'),
                ('KREIS', '08212', 'Karlsruhe', '082'),
                ('TRAEGER', '08115', 'Böblingen', '08115'),
                ('TRAEGER', '08116003', NULL, '08116'),
                ('TRAEGER', '08212', 'Karlsruhe', '08212');
            CREATE TABLE build_info (table_name VARCHAR, row_count BIGINT, publish_id VARCHAR,
                                     published_at_utc TIMESTAMP, latest_load_at_utc TIMESTAMP,
                                     reference_date DATE);
            """
        )
        con.execute(
            """
            INSERT INTO build_info
            VALUES ('indicator_values', 0, 'PUBTEST', '2026-05-16 02:00:00', NULL, ?)
            """,
            [REFERENCE_DATE],
        )
        con.execute(
            """
            CREATE TABLE indicator_values AS
            WITH periods AS (
                SELECT * FROM (VALUES
                    ('2024', 'YEAR', true, 0), ('2025', 'YEAR', true, 1),
                    ('2026', 'YEAR', false, 2),
                    ('2024Q1', 'QUARTER', true, 0), ('2024Q2', 'QUARTER', true, 1),
                    ('2024Q3', 'QUARTER', true, 2), ('2024Q4', 'QUARTER', true, 3),
                    ('2025Q1', 'QUARTER', true, 4), ('2025Q2', 'QUARTER', true, 0),
                    ('2025Q3', 'QUARTER', true, 1), ('2025Q4', 'QUARTER', true, 2),
                    ('2026Q1', 'QUARTER', true, 3), ('2026Q2', 'QUARTER', false, 4)
                ) AS t (period, period_type, period_complete, i)
            ),
            grid AS (
                SELECT d.indicator_id, d.unit, p.*, u.level, u.unit_code, u.unit_name,
                    CASE u.level WHEN 'LAND' THEN 1000 WHEN 'RB' THEN 500
                        WHEN 'KREIS' THEN 200 ELSE 100 END AS den
                FROM indicator_definitions AS d
                CROSS JOIN periods AS p
                CROSS JOIN units AS u
                WHERE list_contains(string_split(d.period_types, ','), p.period_type)
                    AND list_contains(string_split(d.levels, ','), u.level)
                    AND (u.level <> 'TRAEGER' OR d.indicator_id IN ('DQ01', 'DQ02', 'FI01'))
            )
            SELECT
                indicator_id, period, period_type, period_complete, level, unit_code, unit_name,
                CAST(den * CASE unit
                    WHEN 'share' THEN 0.30 + 0.05 * i
                    WHEN 'EUR per FTE' THEN 60000 * (1 + 0.1 * (i % 3))
                    WHEN 'EUR per case' THEN 1000 * (1 + 0.1 * (i % 3))
                    WHEN 'cases per FTE' THEN 50 * (1 + 0.1 * (i % 3))
                    WHEN 'queries per request' THEN 0.5 * (1 + 0.1 * (i % 3))
                    ELSE 1 + 0.1 * (i % 3) END AS DOUBLE) AS numerator,
                CAST(den AS DOUBLE) AS denominator,
                CAST(NULL AS DOUBLE) AS value,
                CAST(den / 10 AS BIGINT) AS base_n,
                false AS suppressed,
                CAST(NULL AS VARCHAR) AS suppression
            FROM grid
            """
        )
        con.execute("UPDATE indicator_values SET value = numerator / denominator")
        _hand_set(con)
        if only is not None:
            for table in ("indicator_values", "indicator_definitions"):
                con.execute(
                    f"DELETE FROM {table} WHERE NOT list_contains(?, indicator_id)", [list(only)]
                )
        con.execute("UPDATE build_info SET row_count = (SELECT count(*) FROM indicator_values)")
    return path


def _set(con, indicator, period, level, unit, numerator, denominator, value, base_n,
         suppressed=False, suppression=None) -> None:  # fmt: skip
    updated = con.execute(
        """
        UPDATE indicator_values
        SET numerator = ?, denominator = ?, value = ?, base_n = ?, suppressed = ?,
            suppression = ?
        WHERE indicator_id = ? AND period = ? AND level = ? AND unit_code = ?
        RETURNING 1
        """,
        [numerator, denominator, value, base_n, suppressed, suppression,
         indicator, period, level, unit],
    ).fetchall()  # fmt: skip
    assert len(updated) == 1, (indicator, period, level, unit)


def _hand_set(con: duckdb.DuckDBPyConnection) -> None:
    # CM01 (higher is better), Land: 400/1000 = 40,0 % in 2024, 450/1000 = 45,0 % in 2025:
    # "+5,0 Pp.", an improvement.
    _set(con, "CM01", "2024", "LAND", "08", 400, 1000, 0.40, 300)
    _set(con, "CM01", "2025", "LAND", "08", 450, 1000, 0.45, 320)
    # Deliberately bad: a primary-suppressed Kreis cell that still carries its numbers (a faulty
    # upstream publish); the report must print "." and none of them.
    p, s = PRIMARY, SECONDARY
    _set(con, "CM01", "2025", "KREIS", "08116", p["numerator"], p["denominator"],
         p["numerator"] / p["denominator"], p["base_n"], True, "primary")  # fmt: skip
    # Deliberately bad in the same way: its secondary partner in the RB 081 equation.
    _set(con, "CM01", "2025", "KREIS", "08115", s["numerator"], s["denominator"],
         s["numerator"] / s["denominator"], s["base_n"], True, "secondary")  # fmt: skip
    # CM09 in Esslingen 2025: no closed cases. base_n 0 is "no cases", not suppressed: the
    # counts print "–" (nothing), the value "x" (denominator 0).
    _set(con, "CM09", "2025", "KREIS", "08116", 0, 0, None, 0)
    # Finding 7's three indicators, Land 2024 → 2025:
    # EL01 (higher better) 800/1000 → 850/1000: 80,0 % → 85,0 %, better, relative move 0,0625;
    # EL02 (lower better) 20/1000 → 30/1000: 2,0 % → 3,0 %, worse, relative move 0,5 (largest);
    # EL03 (lower better) 50/1000 → 40/1000: 5,0 % → 4,0 %, better, relative move 0,2.
    _set(con, "EL01", "2024", "LAND", "08", 800, 1000, 0.80, 400)
    _set(con, "EL01", "2025", "LAND", "08", 850, 1000, 0.85, 410)
    _set(con, "EL02", "2024", "LAND", "08", 20, 1000, 0.02, 400)
    _set(con, "EL02", "2025", "LAND", "08", 30, 1000, 0.03, 410)
    _set(con, "EL03", "2024", "LAND", "08", 50, 1000, 0.05, 400)
    _set(con, "EL03", "2025", "LAND", "08", 40, 1000, 0.04, 410)
    # FI02 Land 2025: 79.008.000 € paid over 1.234,5 FTE = 64.000 € per FTE.
    _set(con, "FI02", "2025", "LAND", "08", 79_008_000, 1234.5, 64_000.0, None)
    # FI01 per applicant 2025: 1100/1000 = 1,10 and 1300/1000 = 1,30 overfinanced, 900/1000 =
    # 0,90 not: 2 of 3, median 1,20, together (1100 − 1000) + (1300 − 1000) = 400 € too much.
    _set(con, "FI01", "2025", "TRAEGER", "08115", 1100, 1000, 1.10, None)
    _set(con, "FI01", "2025", "TRAEGER", "08116003", 900, 1000, 0.90, None)
    _set(con, "FI01", "2025", "TRAEGER", "08212", 1300, 1000, 1.30, None)
    # DQ02 of the Gemeinde 08116003 in 2025: 1.000 rows delivered, 950 accepted (95,0 %), so
    # 50 rejected.
    _set(con, "DQ02", "2025", "TRAEGER", "08116003", 950, 1000, 0.95, None)
