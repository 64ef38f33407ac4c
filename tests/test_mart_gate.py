"""Mart gate: a hand-written build database passes; each rule catches one corruption; moves are
warnings; a gate that cannot run raises; the gate passes on a real `imw build` of `tiny` data.

The fixture database holds only what the gate reads: the catalogue, int_periods,
int_unit_levels, marts.indicator_values, a suppression pattern (`PATTERN`, as
marts.disclosure_pattern) and the published tables derived from them the way dbt derives them.
Units: provider 08115 (a Kreis: TRAEGER and KREIS 08115, RB 081), provider 08317033 (a
Gemeinde: KREIS 08317, RB 083), and the authority 08 (LAND only).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import pytest
from tiny_world import TinyWorld

from expectations import mart_gate, mart_suites
from expectations.gx_runtime import BrokenGateError
from expectations.mart_gate import RULES, MartGateResult, check_marts, write_mart_data_docs

CATALOGUE = [
    # indicator_id, name_en, unit, period_types, levels, base_n_entity, suppress_small_cells
    ("CM01", "plan coverage", "share", "YEAR,QUARTER", "TRAEGER,KREIS,RB,LAND", "case", True),
    ("PA02", "queries per payout request", "queries per request", "YEAR",
     "TRAEGER,KREIS,RB,LAND", None, False),
    ("FI04", "budget execution", "ratio", "YEAR", "LAND", None, False),
]  # fmt: skip

PERIODS = [("2025", "YEAR"), ("2025Q4", "QUARTER")]

UNIT_LEVELS = [
    ("08115", "TRAEGER", "08115"),
    ("08115", "KREIS", "08115"),
    ("08115", "RB", "081"),
    ("08115", "LAND", "08"),
    ("08317033", "TRAEGER", "08317033"),
    ("08317033", "KREIS", "08317"),
    ("08317033", "RB", "083"),
    ("08317033", "LAND", "08"),
    ("08", "LAND", "08"),
]

VALUES = [
    # indicator_id, period, period_type, level, unit_code, numerator, denominator, base_n
    # v2: the 08115 branch (8 and 5 cases) is secondary: LAND minus RB 081 would give RB 083 away
    ("CM01", "2025", "YEAR", "TRAEGER", "08115", 6, 8, 8),  # secondary
    ("CM01", "2025", "YEAR", "TRAEGER", "08317033", 2, 4, 4),  # small cell: primary
    ("CM01", "2025", "YEAR", "KREIS", "08115", 6, 8, 8),  # secondary
    ("CM01", "2025", "YEAR", "KREIS", "08317", 2, 4, 4),  # primary
    ("CM01", "2025", "YEAR", "RB", "081", 6, 8, 8),  # secondary
    ("CM01", "2025", "YEAR", "RB", "083", 2, 4, 4),  # primary
    ("CM01", "2025", "YEAR", "LAND", "08", 8, 12, 12),  # published: RB 083 lies in [0, 12]
    ("CM01", "2025Q4", "QUARTER", "TRAEGER", "08115", 3, 5, 5),  # secondary
    ("CM01", "2025Q4", "QUARTER", "TRAEGER", "08317033", 1, 3, 3),  # primary
    ("CM01", "2025Q4", "QUARTER", "KREIS", "08115", 3, 5, 5),  # secondary
    ("CM01", "2025Q4", "QUARTER", "KREIS", "08317", 1, 3, 3),  # primary
    ("CM01", "2025Q4", "QUARTER", "RB", "081", 3, 5, 5),  # secondary
    ("CM01", "2025Q4", "QUARTER", "RB", "083", 1, 3, 3),  # primary
    ("CM01", "2025Q4", "QUARTER", "LAND", "08", 4, 8, 8),  # published: RB 083 in [0, 8]
    # not a share: 9 queries on 4 requests is fine; never suppressed, no base_n
    ("PA02", "2025", "YEAR", "TRAEGER", "08115", 9, 4, None),
    ("PA02", "2025", "YEAR", "TRAEGER", "08317033", 0, 0, None),  # no requests: value NULL
    ("PA02", "2025", "YEAR", "KREIS", "08115", 9, 4, None),
    ("PA02", "2025", "YEAR", "KREIS", "08317", 0, 0, None),
    ("PA02", "2025", "YEAR", "RB", "081", 9, 4, None),
    ("PA02", "2025", "YEAR", "RB", "083", 0, 0, None),
    ("PA02", "2025", "YEAR", "LAND", "08", 9, 4, None),
    # LAND only: no RB rows to add up to it
    ("FI04", "2025", "YEAR", "LAND", "08", 900_000, 1_000_000, None),
]

PATTERN = {
    # (indicator_id, period, level, unit_code): suppression, as marts.disclosure_pattern says
    **{("CM01", p, lv, u): "primary" for p in ("2025", "2025Q4")
       for lv, u in (("TRAEGER", "08317033"), ("KREIS", "08317"), ("RB", "083"))},
    **{("CM01", p, lv, u): "secondary" for p in ("2025", "2025Q4")
       for lv, u in (("TRAEGER", "08115"), ("KREIS", "08115"), ("RB", "081"))},
}  # fmt: skip

CONTACT_TOPICS = [
    # v2: a consistent breakdown (group = Σ topics, LAND = Σ RB) with its pattern applied.
    # level, unit_code, period, period_type, topic, topic_group, contacts, contact_share, base_n,
    # suppressed, suppression, topic_group_contacts, topic_group_share, topic_group_base_n,
    # topic_group_suppressed, topic_group_suppression
    # LAND: SPRACHE 12 contacts of 9 cases + ARBEIT 8 of 6 = group 20 contacts of 10 cases
    ("LAND", "08", "2025", "YEAR", "SPRACHE", "integration", 12, 0.6, 9, False, None,
     20, 1.0, 10, False, None),
    ("LAND", "08", "2025", "YEAR", "ARBEIT", "integration", 8, 0.4, 6, False, None,
     20, 1.0, 10, False, None),
    # RB 083: SPRACHE 3 of 3 cases, ARBEIT 2 of 1, group 5 of 3: all primary
    ("RB", "083", "2025", "YEAR", "SPRACHE", "integration", None, None, None, True, "primary",
     None, None, None, True, "primary"),
    ("RB", "083", "2025", "YEAR", "ARBEIT", "integration", None, None, None, True, "primary",
     None, None, None, True, "primary"),
    # RB 081: SPRACHE 9 of 6, ARBEIT 6 of 5, group 15 of 7: secondary (LAND − RB 081 = RB 083)
    ("RB", "081", "2025", "YEAR", "SPRACHE", "integration", None, None, None, True, "secondary",
     None, None, None, True, "secondary"),
    ("RB", "081", "2025", "YEAR", "ARBEIT", "integration", None, None, None, True, "secondary",
     None, None, None, True, "secondary"),
]  # fmt: skip


def make_build_db(path: Path, marts_sql: tuple[str, ...] = (), published_sql: tuple[str, ...] = ()):
    """Write the fixture database; `marts_sql` runs on marts.indicator_values before the
    published tables are derived from it (a wrong dbt model), `published_sql` after (a wrong
    published model)."""
    with duckdb.connect(str(path)) as con:
        for schema in ("reference", "intermediate", "marts", "published"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            "CREATE TABLE reference.indicator_catalogue (indicator_id VARCHAR, name_en VARCHAR,"
            " unit VARCHAR, period_types VARCHAR, levels VARCHAR, base_n_entity VARCHAR,"
            " suppress_small_cells BOOLEAN)"
        )
        con.executemany(
            "INSERT INTO reference.indicator_catalogue VALUES (?,?,?,?,?,?,?)", CATALOGUE
        )
        con.execute("CREATE TABLE intermediate.int_periods (period VARCHAR, period_type VARCHAR)")
        con.executemany("INSERT INTO intermediate.int_periods VALUES (?, ?)", PERIODS)
        con.execute(
            "CREATE TABLE intermediate.int_unit_levels"
            " (provider VARCHAR, level VARCHAR, unit_code VARCHAR)"
        )
        con.executemany("INSERT INTO intermediate.int_unit_levels VALUES (?, ?, ?)", UNIT_LEVELS)
        # R = 2025-12-31: every fixture period (2025, 2025Q4) is complete
        con.execute(
            "CREATE TABLE intermediate.int_reference_date AS"
            " SELECT DATE '2025-12-31' AS reference_date"
        )
        con.execute(
            "CREATE TABLE marts.indicator_values (indicator_id VARCHAR, period VARCHAR,"
            " period_type VARCHAR, level VARCHAR, unit_code VARCHAR, numerator DOUBLE,"
            " denominator DOUBLE, value DOUBLE, base_n BIGINT)"
        )
        con.executemany(
            "INSERT INTO marts.indicator_values VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)", VALUES
        )
        # value as models/marts/indicator_values.sql computes it
        con.execute(
            "UPDATE marts.indicator_values"
            " SET value = CASE WHEN denominator <> 0 THEN numerator / denominator END"
        )
        con.execute(
            "CREATE TABLE marts.disclosure_pattern (indicator_id VARCHAR, period VARCHAR,"
            " level VARCHAR, unit_code VARCHAR, suppression VARCHAR)"
        )
        con.executemany(
            "INSERT INTO marts.disclosure_pattern VALUES (?, ?, ?, ?, ?)",
            [(*key, kind) for key, kind in PATTERN.items()],
        )
        for sql in marts_sql:
            con.execute(sql)
        # as models/published/*.sql derive them
        con.execute(
            """
            CREATE TABLE published.indicator_values AS SELECT
                v.indicator_id, v.period, period_type, true AS period_complete, v.level,
                v.unit_code,
                CASE WHEN suppression IS NULL THEN numerator END AS numerator,
                CASE WHEN suppression IS NULL THEN denominator END AS denominator,
                CASE WHEN suppression IS NULL THEN value END AS value,
                CASE WHEN suppression IS NULL THEN base_n END AS base_n,
                suppression IS NOT NULL AS suppressed, suppression
            FROM marts.indicator_values AS v
            LEFT JOIN marts.disclosure_pattern USING (indicator_id, period, level, unit_code)
            """
        )
        con.execute(
            "CREATE TABLE published.indicator_definitions AS"
            " SELECT indicator_id, name_en FROM reference.indicator_catalogue"
        )
        con.execute(
            """
            CREATE TABLE published.mart_case_management_quality AS SELECT
                level, unit_code, period, period_type,
                max(value) FILTER (WHERE indicator_id = 'CM01') AS cm01_plan_coverage,
                string_agg(indicator_id, ',') FILTER (WHERE suppressed) AS suppressed_indicators
            FROM published.indicator_values WHERE indicator_id LIKE 'CM%'
            GROUP BY level, unit_code, period, period_type
            """
        )
        con.execute(
            "CREATE TABLE published.mart_contact_topics (level VARCHAR, unit_code VARCHAR,"
            " period VARCHAR, period_type VARCHAR, topic VARCHAR, topic_group VARCHAR,"
            " contacts BIGINT, contact_share DOUBLE, base_n BIGINT, suppressed BOOLEAN,"
            " suppression VARCHAR, topic_group_contacts BIGINT, topic_group_share DOUBLE,"
            " topic_group_base_n BIGINT, topic_group_suppressed BOOLEAN,"
            " topic_group_suppression VARCHAR)"
        )
        con.executemany(
            "INSERT INTO published.mart_contact_topics VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            CONTACT_TOPICS,
        )
        for sql in published_sql:
            con.execute(sql)


def failures(result: MartGateResult) -> set[tuple[str, str]]:
    return {(f["table"], f["rule"]) for f in result.errors}


@pytest.fixture
def build_db(tmp_path) -> Path:
    path = tmp_path / "build.duckdb"
    make_build_db(path)
    return path


# --------------------------------------------------------------------------------------------
# A valid database passes
# --------------------------------------------------------------------------------------------
def test_valid_build_passes(build_db):
    result = check_marts(build_db, None)
    assert result.passed, result.message()
    assert result.errors == [] and result.warnings == []
    checked = set(result.summary.get_column("rule"))
    assert checked == set(RULES) - {"movement_within_factor"}
    tables = set(result.summary.get_column("table"))
    assert {
        "published.indicator_values",
        "marts.indicator_values",
        "published.indicator_definitions",
        "published.mart_case_management_quality",
        "published.mart_contact_topics",
    } == tables


def test_suites_carry_meta_and_catalogue_lists(build_db):
    result = check_marts(build_db, None)
    for suite in result.suites.values():
        for expectation in suite.expectations:
            assert {"rule", "table", "text_de", "text_en"} <= set(expectation.meta)
    texts = {
        e.meta["rule"]: e.meta["text_en"]
        for e in result.suites["published.indicator_values"].expectations
    }
    assert "CM01" in texts["share_range"] and "PA02" not in texts["share_range"]
    suppression = texts["suppression_only_suppressible"]
    assert suppression.endswith("(suppress_small_cells = false: FI04, PA02).")


def test_empty_build_passes(tmp_path):
    """A fresh warehouse without data: no periods, so no grid and empty tables."""
    path = tmp_path / "build.duckdb"
    make_build_db(
        path,
        ("DELETE FROM marts.indicator_values",),
        ("DELETE FROM intermediate.int_periods", "DELETE FROM published.mart_contact_topics"),
    )
    assert check_marts(path, None).passed


# --------------------------------------------------------------------------------------------
# Each rule catches a corrupted table
# --------------------------------------------------------------------------------------------
PUB = "published.indicator_values"
MARTS = "marts.indicator_values"
CORRUPTIONS = [
    pytest.param(
        (),
        # a row published twice
        ("INSERT INTO published.indicator_values"
         " SELECT * FROM published.indicator_values WHERE indicator_id = 'FI04'",),
        {(PUB, "key_unique")},
        id="duplicate key",
    ),
    pytest.param(
        (),
        # the Kreis 08317 has no PA02 row
        ("DELETE FROM published.indicator_values"
         " WHERE indicator_id = 'PA02' AND level = 'KREIS' AND unit_code = '08317'",),
        {(PUB, "grid_complete")},
        id="missing grid row",
    ),
    pytest.param(
        # FI04 for 2024, a period int_periods does not have
        ("INSERT INTO marts.indicator_values"
         " VALUES ('FI04', '2024', 'YEAR', 'LAND', '08', 1, 2, 0.5, NULL)",),
        (),
        {(PUB, "grid_only")},
        id="row outside grid",
    ),
    pytest.param(
        # a share of 1.2 (value no longer numerator / denominator: the other way to get there
        # breaks numerator <= denominator); v2: on LAND, the 08115 rows are suppressed now
        ("UPDATE marts.indicator_values SET value = 1.2 WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'LAND'",),
        (),
        {(PUB, "share_range"), (PUB, "value_is_ratio"),
         ("published.mart_case_management_quality", "share_range")},
        id="share 1.2",
    ),
    pytest.param(
        # 13 of 12 cases on LAND, 11 of 8 along the 08115 branch (sums still add up); v2: the
        # branch is suppressed, so only LAND shows it
        ("UPDATE marts.indicator_values SET numerator = numerator + 5,"
         " value = (numerator + 5) / denominator WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND unit_code IN ('08115', '081', '08')",),
        (),
        {(PUB, "share_numerator_le_denominator"), (PUB, "share_range"),
         ("published.mart_case_management_quality", "share_range")},
        id="numerator > denominator",
    ),
    pytest.param(
        # a value although no payout request was received (0 / 0)
        ("UPDATE marts.indicator_values SET value = 0.5 WHERE indicator_id = 'PA02'"
         " AND level = 'TRAEGER' AND unit_code = '08317033'",),
        (),
        {(PUB, "value_needs_denominator")},
        id="value without denominator",
    ),
    pytest.param(
        # base_n 3, but the pattern left it out: its Kreis 08317 (3) then gives it away too
        ("DELETE FROM marts.disclosure_pattern WHERE indicator_id = 'CM01'"
         " AND period = '2025Q4' AND level = 'TRAEGER' AND unit_code = '08317033'",),
        (),
        {(PUB, "suppression_applied"), (PUB, "disclosure_protected")},
        id="base_n 3 not suppressed",
    ),
    pytest.param(
        (),
        # flagged, but the value is still published
        ("UPDATE published.indicator_values SET value = 0.5 WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'RB' AND unit_code = '083'",),
        # (its denominator is NULL there, so it is also a value without a denominator)
        {(PUB, "suppressed_numbers_null"), (PUB, "value_needs_denominator")},
        id="suppressed row with a value",
    ),
    pytest.param(
        # PA02 is never suppressed
        ("INSERT INTO marts.disclosure_pattern VALUES ('PA02', '2025', 'TRAEGER', '08115',"
         " 'secondary')",),
        (),
        # (v2: and a row without base_n is no candidate for a secondary cell either)
        {(PUB, "suppression_only_suppressible"), (PUB, "secondary_allowed")},
        id="non-suppressible indicator suppressed",
    ),
    pytest.param(
        # 8 cases behind the row, suppressed as primary
        ("UPDATE marts.disclosure_pattern SET suppression = 'primary' WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'RB' AND unit_code = '081'",),
        (),
        {(PUB, "primary_only_small_cells")},
        id="primary with base_n 8",
    ),
    pytest.param(
        # v2: a secondary cell without cases protects nothing (PA02 of 08317033: 0 / 0; its
        # indicator is never suppressed either)
        ("INSERT INTO marts.disclosure_pattern VALUES ('PA02', '2025', 'TRAEGER', '08317033',"
         " 'secondary')",),
        (),
        {(PUB, "secondary_allowed"), (PUB, "suppression_only_suppressible")},
        id="secondary without cases",
    ),
    pytest.param(
        # v2: without the secondary 08115 branch of 2025, LAND 12 − RB 081 8 = RB 083 4, and
        # the numerators 8 − 6 = 2: the audit catches what no row-wise rule can
        ("DELETE FROM marts.disclosure_pattern WHERE period = '2025'"
         " AND suppression = 'secondary'",),
        (),
        {(PUB, "disclosure_protected")},
        id="primary cell recoverable from its total",
    ),
    pytest.param(
        (),
        # v2: a suppressed row that still shows its base_n
        ("UPDATE published.indicator_values SET base_n = 4 WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'RB' AND unit_code = '083'",),
        {(PUB, "suppressed_numbers_null")},
        id="suppressed row with its base_n",
    ),
    pytest.param(
        (),
        # v2: suppressed without saying why
        ("UPDATE published.indicator_values SET suppression = NULL WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'RB' AND unit_code = '083'",),
        # and, with no suppression left, the primary cell of 3 cases counts as shown
        {(PUB, "suppression_flag_agrees"), (PUB, "suppression_applied")},
        id="suppressed without suppression",
    ),
    pytest.param(
        # CM01 counts cases, so base_n must be there
        ("UPDATE marts.indicator_values SET base_n = NULL WHERE indicator_id = 'CM01'"
         " AND period = '2025' AND level = 'LAND'",),
        (),
        # and the published sums cannot be set up without that base_n
        {(PUB, "base_n_as_catalogue"), (PUB, "disclosure_equations_hold")},
        id="base_n missing",
    ),
    pytest.param(
        # LAND 9 of 12, but the RB rows add up to 8 of 12
        ("UPDATE marts.indicator_values SET numerator = 9, value = 0.75"
         " WHERE indicator_id = 'CM01' AND period = '2025' AND level = 'LAND'",),
        (),
        {(MARTS, "land_equals_rb_sum")},
        id="LAND != sum of RB",
    ),
    pytest.param(
        # provider 08115: 8 queries, its Kreis still 9
        ("UPDATE marts.indicator_values SET numerator = 8, value = 2"
         " WHERE indicator_id = 'PA02' AND level = 'TRAEGER' AND unit_code = '08115'",),
        (),
        {(MARTS, "kreis_equals_traeger_sum")},
        id="KREIS != sum of TRAEGER",
    ),
    pytest.param(
        (),
        # published 10 queries where the mart has 9
        ("UPDATE published.indicator_values SET numerator = 10, value = 2.5"
         " WHERE indicator_id = 'PA02' AND level = 'LAND'",),
        {(PUB, "published_matches_marts")},
        id="published differs from marts",
    ),
    pytest.param(
        (),
        # FI04 without a definition
        ("DELETE FROM published.indicator_definitions WHERE indicator_id = 'FI04'",),
        {("published.indicator_definitions", "definitions_complete")},
        id="definition missing",
    ),
    pytest.param(
        (),
        # one (unit, period, topic) twice
        ("INSERT INTO published.mart_contact_topics"
         " SELECT * FROM published.mart_contact_topics WHERE level = 'LAND'",),
        {("published.mart_contact_topics", "key_unique")},
        id="wide mart duplicate key",
    ),
    pytest.param(
        (),
        # RB 083's SPRACHE, 3 contacts of 3 cases, shown (v2: base_n shown too): the rule
        # and the audit (LAND 12 − 3 = RB 081's 9) both catch it
        ("UPDATE published.mart_contact_topics SET suppressed = false, suppression = NULL,"
         " contacts = 3, contact_share = 0.6, base_n = 3"
         " WHERE unit_code = '083' AND topic = 'SPRACHE'",),
        {("published.mart_contact_topics", "suppression_applied"),
         (PUB, "disclosure_protected")},
        id="wide mart small cell shown",
    ),
    pytest.param(
        (),
        # topic group flagged, but its count still there (and no reason given)
        ("UPDATE published.mart_contact_topics SET topic_group_suppressed = true"
         " WHERE level = 'LAND'",),
        # the LAND group now counts as suppressed, and it is recoverable from the published
        # numbers (the audit sees it too)
        {("published.mart_contact_topics", "suppressed_numbers_null"),
         ("published.mart_contact_topics", "suppression_known"),
         (PUB, "disclosure_protected")},
        id="wide mart suppressed block with numbers",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("marts_sql", "published_sql", "expected"), CORRUPTIONS)
def test_rule_catches_corruption(tmp_path, marts_sql, published_sql, expected):
    path = tmp_path / "build.duckdb"
    make_build_db(path, marts_sql, published_sql)
    result = check_marts(path, None)
    assert not result.passed
    assert failures(result) == expected, result.message()
    for finding in result.errors:
        assert finding["unexpected_count"] >= 1
        assert finding["sample"], finding
        assert finding["text_en"] and finding["text_de"]


def test_land_secondary_is_a_warning(tmp_path):
    path = tmp_path / "build.duckdb"
    # the engine's last resort: a LAND row as a secondary cell is flagged, not blocking
    make_build_db(
        path,
        ("INSERT INTO marts.disclosure_pattern VALUES ('CM01', '2025', 'LAND', '08',"
         " 'secondary')",),
    )  # fmt: skip
    result = check_marts(path, None)
    assert result.passed, result.message()
    assert [(w["rule"], w["unexpected_count"]) for w in result.warnings] == [("land_secondary", 1)]


def test_findings_name_the_rows(tmp_path):
    path = tmp_path / "build.duckdb"
    make_build_db(
        path,
        # LAND 9 of 12, but the RB rows add up to 8 of 12
        ("UPDATE marts.indicator_values SET numerator = 9, value = 0.75"
         " WHERE indicator_id = 'CM01' AND period = '2025' AND level = 'LAND'",),
    )  # fmt: skip
    (finding,) = check_marts(path, None).errors
    (row,) = finding["sample"]
    assert (row["indicator_id"], row["period"], row["level"], row["unit_code"]) == (
        "CM01",
        "2025",
        "LAND",
        "08",
    )
    assert (row["numerator"], row["rb_numerator_sum"]) == (9, 8)


# --------------------------------------------------------------------------------------------
# The needs forecast's pattern is audited too
# --------------------------------------------------------------------------------------------
FORECAST = "published.forecast_caseload"

# Open cases at the forecast's origin (CM, KB; ALLE = CM + KB), the world of
# tests/test_forecast.py::test_a_kreis_hidden_alone_cannot_be_its_rb_minus_the_other_kreise:
# RB 081 = Kreise 08115 + 08127 + 08128, the Land = RB 081.
FORECAST_COUNTS = {
    ("KREIS", "08115"): (9, 1),
    ("KREIS", "08127"): (20, 0),
    ("KREIS", "08128"): (25, 5),
    ("RB", "081"): (54, 6),  # 9 + 20 + 25, 1 + 0 + 5
    ("LAND", "08"): (54, 6),
}
# The pattern derived by hand there: 08115 KB (1) primary, six cells secondary.
FORECAST_HIDDEN = {
    ("08115", "KB"), ("08115", "CM"), ("08115", "ALLE"),
    ("08127", "CM"), ("08127", "ALLE"),
    ("08128", "KB"), ("08128", "CM"),
}  # fmt: skip


def add_forecast(path: Path, hidden=FORECAST_HIDDEN, counts=FORECAST_COUNTS, keep=()) -> None:
    """published.forecast_caseload with two months per (unit, case type); the rows of `hidden`
    cells suppressed with every number NULL, except the columns in `keep` (a broken model)."""
    numbers = ("open_p10", "open_p50", "open_p90", "new_cases", "open_at_origin",
               "fte_needed", "funding_needed_eur_per_year")  # fmt: skip
    rows = []
    for (level, unit), (cm, kb) in counts.items():
        for case_type, n in (("CM", cm), ("KB", kb), ("ALLE", cm + kb)):
            withheld = (unit, case_type) in hidden
            values = dict(
                zip(numbers, (0.9 * n, n, 1.1 * n, 1.0, n, n / 40, 1000.0 * n), strict=True)
            )
            for month in (0, 1):
                rows.append(
                    (level, unit, case_type, month, "mid", withheld,
                     *(None if withheld and c not in keep else float(values[c])
                       for c in numbers))
                )  # fmt: skip
    with duckdb.connect(str(path)) as con:
        con.execute(
            f"CREATE TABLE {FORECAST} (level VARCHAR, unit_code VARCHAR, case_type VARCHAR,"
            " horizon_months BIGINT, scenario VARCHAR, suppressed BOOLEAN, "
            + ", ".join(f"{c} DOUBLE" for c in numbers)
            + ")"
        )
        con.executemany(f"INSERT INTO {FORECAST} VALUES ({', '.join('?' * 13)})", rows)


def test_forecast_pattern_is_audited(build_db):
    add_forecast(build_db)
    result = check_marts(build_db, None)
    assert result.passed, result.message()
    assert FORECAST in set(result.summary.get_column("table"))
    f = result.forecast_disclosure
    # 5 units x 3 case types; sums: RB = Σ Kreise and LAND = RB per case type (3 + 3), ALLE =
    # CM + KB per unit (5)
    assert (f["cells"], f["equations"], f["suppressed"], f["land_suppressed"]) == (15, 11, 7, 0)
    # 08115 KB: RB KB 6 − 08127 KB 0 = 6 = 08115 KB + 08128 KB, and 08115 ALLE = CM + KB with
    # both hidden: KB can be anything from 0 to 6, a range of 6 ≥ 5
    assert f["narrowest_base_n_range"] >= 5 and f["failures"] == 0
    assert f["equations_consistent"] is True


FORECAST_CORRUPTIONS = [
    pytest.param(
        # the interim rule: the small Kreis hidden alone; RB KB 6 − 08127 KB 0 − 08128 KB 5
        # gives back its KB of 1 (and RB CM − the others its CM of 9)
        {("08115", "KB"), ("08115", "CM"), ("08115", "ALLE")}, FORECAST_COUNTS, (),
        {(FORECAST, "disclosure_protected")},
        id="small kreis hidden alone",
    ),
    pytest.param(
        # nothing withheld: 08115 KB publishes a count of 1
        set(), FORECAST_COUNTS, (),
        {(FORECAST, "suppression_applied")},
        id="small count published",
    ),
    pytest.param(
        # the pattern is right, but withheld rows still show their median
        FORECAST_HIDDEN, FORECAST_COUNTS, ("open_p50",),
        {(FORECAST, "suppressed_numbers_null")},
        id="suppressed row with a number",
    ),
    pytest.param(
        # the Land's ALLE 61 is not RB 081's 60: the published counts contradict the sums
        FORECAST_HIDDEN, {**FORECAST_COUNTS, ("LAND", "08"): (55, 6)}, (),
        {(FORECAST, "disclosure_equations_hold")},
        id="sums contradicted",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("hidden", "counts", "keep", "expected"), FORECAST_CORRUPTIONS)
def test_forecast_rule_catches_corruption(build_db, hidden, counts, keep, expected):
    add_forecast(build_db, hidden, counts, keep)
    result = check_marts(build_db, None)
    assert failures(result) == expected, result.message()


# --------------------------------------------------------------------------------------------
# Movement against the last published database: warnings, never errors
# --------------------------------------------------------------------------------------------
def make_previous(build_db: Path, path: Path, updates: tuple[str, ...] = ()) -> Path:
    """A published database as `publish` writes it (tables in schema main)."""
    with duckdb.connect(str(path)) as con:
        con.execute("ATTACH ? AS build (READ_ONLY)", [str(build_db)])
        con.execute(
            "CREATE TABLE main.indicator_values AS SELECT * FROM build.published.indicator_values"
        )
        for sql in updates:
            con.execute(sql)
    return path


def test_large_move_is_a_warning_not_an_error(build_db, tmp_path):
    previous = make_previous(
        build_db,
        tmp_path / "indicators.duckdb",
        (
            # CM01 LAND 2025 was 0.2, now 8 / 12: factor 3.33 > 3, flagged
            "UPDATE indicator_values SET value = 0.2"
            " WHERE indicator_id = 'CM01' AND period = '2025' AND level = 'LAND'",
            # PA02 RB 081 was 1.0, now 2.25: factor 2.25, within 3
            "UPDATE indicator_values SET value = 1.0"
            " WHERE indicator_id = 'PA02' AND level = 'RB' AND unit_code = '081'",
            # FI04 was 0: no ratio, ignored
            "UPDATE indicator_values SET value = 0 WHERE indicator_id = 'FI04'",
            # a TRAEGER value moved tenfold: level not compared
            "UPDATE indicator_values SET value = 0.075"
            " WHERE indicator_id = 'CM01' AND period = '2025' AND unit_code = '08115'"
            " AND level = 'TRAEGER'",
        ),
    )
    result = check_marts(build_db, previous)
    assert result.passed, result.message()
    assert [(w["rule"], w["severity"], w["unexpected_count"]) for w in result.warnings] == [
        ("movement_within_factor", "warning", 1)
    ]
    (move,) = result.moves
    assert (move["indicator_id"], move["period"], move["level"]) == ("CM01", "2025", "LAND")
    assert move["old_value"] == 0.2 and move["move_factor"] == pytest.approx(10 / 3)
    # a lower threshold flags the RB move too
    assert len(check_marts(build_db, previous, max_move_factor=2.0).moves) == 2


def test_move_factor_must_exceed_one(build_db):
    with pytest.raises(ValueError, match="max_move_factor"):
        check_marts(build_db, None, max_move_factor=1.0)


def test_same_values_and_absent_previous_give_no_warning(build_db, tmp_path):
    previous = make_previous(build_db, tmp_path / "indicators.duckdb")
    assert check_marts(build_db, previous).warnings == []
    result = check_marts(build_db, tmp_path / "never_published.duckdb")
    assert result.passed and result.warnings == []
    assert "published.indicator_values.movement" not in result.validations


# --------------------------------------------------------------------------------------------
# A gate that cannot run fails loudly
# --------------------------------------------------------------------------------------------
def test_raising_expectation_breaks_the_gate(build_db, monkeypatch):
    original = mart_suites.marts_expectations

    def with_missing_column(table):
        return [
            *original(table),
            mart_suites.rule_expectation(
                "ExpectColumnValuesToNotBeNull", "numbers_present", table, column="no_such_column"
            ),
        ]

    monkeypatch.setattr(mart_gate, "marts_expectations", with_missing_column)
    with pytest.raises(BrokenGateError, match="no_such_column"):
        check_marts(build_db, None)


def test_missing_table_or_database_breaks_the_gate(build_db, tmp_path):
    with pytest.raises(BrokenGateError, match="does not exist"):
        check_marts(tmp_path / "nothing.duckdb", None)
    with duckdb.connect(str(build_db)) as con:
        con.execute("DROP TABLE marts.indicator_values")
    with pytest.raises(BrokenGateError, match=r"marts\.indicator_values"):
        check_marts(build_db, None)


def test_renamed_mart_column_breaks_the_gate(build_db):
    with duckdb.connect(str(build_db)) as con:
        # the small-cell block's base_n is gone: the suppression rule cannot be checked
        con.execute(
            "ALTER TABLE published.mart_contact_topics RENAME topic_group_base_n TO group_n"
        )
    with pytest.raises(BrokenGateError, match="topic_group_base_n"):
        check_marts(build_db, None)


def test_gate_reads_the_build_database_read_only(build_db):
    before = build_db.stat().st_mtime_ns, build_db.read_bytes()
    check_marts(build_db, None)
    assert (build_db.stat().st_mtime_ns, build_db.read_bytes()) == before


# --------------------------------------------------------------------------------------------
# Data Docs
# --------------------------------------------------------------------------------------------
def test_data_docs(tmp_path):
    path = tmp_path / "build.duckdb"
    make_build_db(
        path,
        # LAND 9 of 12, but the RB rows add up to 8 of 12
        ("UPDATE marts.indicator_values SET numerator = 9, value = 0.75"
         " WHERE indicator_id = 'CM01' AND period = '2025' AND level = 'LAND'",),
    )  # fmt: skip
    result = check_marts(path, None)
    index = write_mart_data_docs(result, tmp_path / "docs")
    assert index.exists()
    pages = "".join(p.read_text() for p in (tmp_path / "docs").rglob("*.html"))
    assert "land_equals_rb_sum" in pages or "RB rows below" in pages
    assert "mart_gate.marts.indicator_values" in pages
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(ValueError, match="refusing"):
        write_mart_data_docs(result, tmp_path / "other")


# --------------------------------------------------------------------------------------------
# A real build: the gate is not too strict
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_build_passes(tiny_world: TinyWorld):
    """The shared tiny world (an `imw build` in a subprocess): the gate is not too strict."""
    build_db = tiny_world.settings.build_db
    published = tiny_world.settings.published_db
    started = time.perf_counter()
    result = check_marts(build_db, published)
    seconds = time.perf_counter() - started
    assert result.passed, result.message()
    # no value moved (the published copy of this very build); the only warnings allowed are the
    # engine's last-resort LAND secondary cells, which tiny data needs (README, disclosure)
    assert {w["rule"] for w in result.warnings} <= {"land_secondary"}
    assert set(result.summary.get_column("rule")) == set(RULES)
    print(f"mart gate on tiny: {seconds:.2f} s", result.timings)
