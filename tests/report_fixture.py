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
    # Deliveries in Kreis Esslingen, whose only provider is the Gemeinde 08116003: the Kreis's
    # rows equal the provider's, at every period set here. The delivery calendar shows the last 8
    # quarters, 2024Q3 … 2026Q2.
    for unit, level in (("08116003", "TRAEGER"), ("08116", "KREIS")):
        # DQ02 in 2025: 1.000 rows delivered, 950 accepted (95,0 %), so 50 rejected; by quarter
        # 250 + 250 + 0 + 500 = 1.000 delivered, 240 + 240 + 0 + 470 = 950 accepted.
        _set(con, "DQ02", "2025", level, unit, 950, 1000, 0.95, None)
        _set(con, "DQ02", "2025Q1", level, unit, 240, 250, 0.96, None)
        _set(con, "DQ02", "2025Q2", level, unit, 240, 250, 0.96, None)
        _set(con, "DQ02", "2025Q3", level, unit, 0, 0, None, None)  # nothing delivered
        _set(con, "DQ02", "2025Q4", level, unit, 470, 500, 0.94, None)
        # DQ02 in the latest quarter 2026Q2 (to date): 50 of 100 rows accepted, 50 rejected.
        _set(con, "DQ02", "2026Q2", level, unit, 50, 100, 0.50, None)
        # DQ01: 1 obliged provider in each of the 8 quarters, complete (1/1) in 6 of them;
        # 2025Q1 0/1 with 250 rows delivered ("unvollständig"), 2025Q3 0/1 with none ("fehlt").
        # The year 2025 counts the stand at its end, complete in 2025Q4: 1/1.
        for period, complete in (
            ("2024Q3", 1), ("2024Q4", 1), ("2025Q1", 0), ("2025Q2", 1), ("2025Q3", 0),
            ("2025Q4", 1), ("2026Q1", 1), ("2026Q2", 1), ("2025", 1),
        ):  # fmt: skip
            _set(con, "DQ01", period, level, unit, complete, 1, float(complete), None)


# --- the published outcome analysis (the Wirkung page) ------------------------------------------
# What `imw analyse-outcomes` publishes into published/outcomes/, by hand. The cells the report
# must not show carry numbers that occur nowhere else; each string is how one would print.
OUTCOME_LEAK_STRINGS = (
    "3,46", "3.4567", "9,88", "9.8765",  # the model on 4 events (below the minimum 5)
    "73,1", "0.7312", "0.2688",  # the curve row with 3 at risk
    "38,3", "0.383", "0.617",  # the curve whose first row has 4 at risk (all of it withheld)
)  # fmt: skip
OUTCOME_LABELS = {
    "first_employment": "erste sozialversicherungspflichtige Beschäftigung oder Ausbildung",
    "first_b1": "erstmals Sprachniveau B1 oder besser",
    "moved_out_of_au": "Auszug aus der AU",
}


def make_published_outcomes(folder: Path) -> Path:
    """The three published files of an outcome analysis (core/outcome_results.py) in `folder`."""
    import json

    import polars as pl

    from core.outcome_results import DESIGN_DE

    folder.mkdir(parents=True, exist_ok=True)
    model = (
        "discrete-time hazard, logit GLM on case-months; SE heteroskedasticity-robust, not "
        "clustered: 4 rb value(s) in the export, fewer than the 10 clusters robust errors need"
    )
    # outcome, term, exposure, hazard ratio, CI, p, cases, events
    rows = [
        # shown: HR 2,02 [1,57–2,58], p < 0,001, 440 events of 1.700 cases
        ("first_employment", "has_signed_plan", True, 2.02, 1.57, 2.58, 0.00001, 1700, 440),
        # shown: 1,31 [0,91–1,88], p 0,147
        ("first_employment", "share_goal_linked", True, 1.31, 0.91, 1.88, 0.147, 1700, 440),
        # shown: 0,95 [0,90–1,01], p 0,061
        ("first_employment", "contacts_per_month", True, 0.95, 0.90, 1.01, 0.061, 1700, 440),
        # not an exposure (a baseline-hazard band): never on the page
        ("first_employment", "time_band[04-06]", False, 1.5, 1.1, 2.0, 0.01, 1700, 440),
        # shown: 1,10 [0,80–1,50], 270 events of 1.500 cases
        ("first_b1", "has_signed_plan", True, 1.10, 0.80, 1.50, 0.5, 1500, 270),
        # shown: 4,68 [2,23–9,83], p < 0,001
        ("first_b1", "share_goal_linked", True, 4.68, 2.23, 9.83, 0.0001, 1500, 270),
        # shown: 1,02 [0,97–1,07], p 0,400
        ("first_b1", "contacts_per_month", True, 1.02, 0.97, 1.07, 0.4, 1500, 270),
        # withheld: 4 events, below the minimum of 5 (HR 3,46 [1,23–9,88] must not print)
        ("moved_out_of_au", "has_signed_plan", True, 3.4567, 1.2345, 9.8765, 0.02, 60, 4),
    ]
    pl.DataFrame(
        rows,
        schema=["outcome", "term", "exposure", "hazard_ratio", "ci_low", "ci_high", "p_value",
                "n_cases", "n_events"],
        orient="row",
    ).with_columns(
        estimate=pl.col("hazard_ratio").log(),
        std_error=pl.lit(0.1),
        n_case_months=pl.lit(23_456),  # every shown model: 23.456 case-months
        n_clusters=pl.lit(4),  # 4 RB: not clustered, said on the page
        model=pl.lit(model),
        data_window=pl.lit("cases started 2023-01-01 to 2025-12-31"),
    ).write_parquet(folder / "outcome_models.parquet")  # fmt: skip
    curves = []

    def curve(outcome: str, group: str, points: list[tuple[int, int, float]]) -> None:
        for month, at_risk, survival in points:
            curves.append((outcome, group, month, at_risk, 1, survival,
                           max(survival - 0.05, 0.0), min(survival + 0.05, 1.0)))  # fmt: skip

    # (month, number at risk, survival). Shown up to month 20 (9 at risk); the row of month 30
    # has 3 at risk: cut, so 73,1 % (1 − 0,2688) never prints and month 24 shows ".".
    # Month 6: 1 − 0,80 = 20,0 % with 70 at risk; month 12: 40,0 % with 40 at risk.
    curve("first_employment", "plan within 8 weeks",
          [(2, 120, 0.95), (3, 100, 0.90), (6, 70, 0.80), (12, 40, 0.60), (20, 9, 0.50),
           (30, 3, 0.2688)])  # fmt: skip
    # Month 6: next event month 8 (150 at risk), 1 − 0,97 = 3,0 %; month 12: month 14 (60),
    # 7,0 %; month 24: no event after it → "–".
    curve("first_employment", "no plan within 8 weeks",
          [(3, 200, 0.97), (8, 150, 0.93), (14, 60, 0.88)])  # fmt: skip
    # 4 at risk from the start: the whole curve is withheld (38,3 % never prints), "." throughout.
    curve("first_b1", "plan within 8 weeks", [(2, 4, 0.617), (5, 2, 0.5)])
    # Month 24: next event month 26 with 12 at risk, 1 − 0,85 = 15,0 %.
    curve("first_b1", "no plan within 8 weeks",
          [(2, 300, 0.99), (4, 250, 0.97), (9, 180, 0.90), (13, 90, 0.85),
           (26, 12, 0.80)])  # fmt: skip
    # Month 6: next event month 7 with 45 at risk, 1 − 0,96 = 4,0 %.
    curve("moved_out_of_au", "no plan within 8 weeks", [(3, 50, 0.96), (7, 45, 0.92)])
    pl.DataFrame(
        curves,
        schema=["outcome", "group", "month", "at_risk", "events", "survival", "ci_low", "ci_high"],
        orient="row",
    ).with_columns(cumulative_incidence=1 - pl.col("survival"), n_cases=pl.lit(100)).write_parquet(
        folder / "outcome_curves.parquet"
    )
    summary = {
        "export": "integration-2026",
        "window": "cases started 2023-01-01 to 2025-12-31",
        "window_from": "2023-01-01",  # → "vom 01.01.2023"
        "window_to": "2025-12-31",  # → "bis 31.12.2025"
        "data_latest_load_at_utc": "2026-01-15T02:00:00+00:00",  # → "Datenstand 15.01.2026"
        "export_k": 5,
        "outcomes": OUTCOME_LABELS,
        "adjusted_for": ["age_band", None, None, "prospect_at_start", None, "start_quarter"],
        "area_fixed_effects_and_clusters": "rb",
        "landmark_month_for_curves": 2,
        "design": DESIGN_DE,
    }
    (folder / "outcome_analysis.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return folder
