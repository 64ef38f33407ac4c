"""Analyst marts end to end: wide case-management mart, goal attainment by field, contact topics.

A tiny hand-written raw layer (tests/fixtures/analyst_marts/*.csv) is loaded into a fresh DuckDB
file, `dbt build` runs against it once for the module (its data tests, the marts' singular tests
included, must pass), and the tests read the published marts and their unsuppressed marts copies.

Fixture in short — providers 08115003 (Gemeinde in Kreis 08115) and 08115 (the Kreis itself); every
case starts in 2025 and the snapshots have stand 2026-01-15 = R, so the periods are 2025 and its
quarters, 2026 and 2026Q1 (v2: no period starts after R; v1 had all of 2026's quarters, 10 periods),
and the units TRAEGER 08115003 and 08115, KREIS 08115, RB 081 and LAND 08.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import built_warehouse

from contract import catalogue

FIXTURES = Path(__file__).parent / "fixtures" / "analyst_marts"
N_UNITS, N_PERIODS = 5, 7

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = built_warehouse(tmp_path_factory.mktemp("analyst_marts"), FIXTURES)
    yield con
    con.close()


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: list[str]) -> dict[str, object]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    assert len(rows) == 1, (params, rows)
    return dict(zip(names, rows[0], strict=True))


def cm_wide(con: duckdb.DuckDBPyConnection, level: str, unit_code: str, period: str) -> dict:
    return one_row(
        con,
        "SELECT * FROM published.mart_case_management_quality "
        "WHERE level = ? AND unit_code = ? AND period = ?",
        [level, unit_code, period],
    )


def goals(
    con: duckdb.DuckDBPyConnection, schema: str, level: str, unit_code: str, period: str, field: str
) -> dict:
    # schema is one of two literals in this module, never data
    return one_row(
        con,
        f"SELECT * FROM {schema}.mart_goal_attainment_by_field "
        "WHERE level = ? AND unit_code = ? AND period = ? AND field = ?",
        [level, unit_code, period, field],
    )


def topics(
    con: duckdb.DuckDBPyConnection, schema: str, level: str, unit_code: str, period: str, topic: str
) -> dict:
    return one_row(
        con,
        f"SELECT * FROM {schema}.mart_contact_topics "
        "WHERE level = ? AND unit_code = ? AND period = ? AND topic = ?",
        [level, unit_code, period, topic],
    )


def columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'published' AND table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


# --- wide marts --------------------------------------------------------------------------------


def test_wide_marts_have_a_column_for_every_catalogue_indicator(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # v2: every row also says whether its period is complete and names its unit
    keys = ["level", "unit_code", "period", "period_type", "period_complete", "unit_name"]
    assert columns(warehouse, "mart_case_management_quality") == [
        *keys,
        "cm01_plan_coverage",
        "cm02_plan_within_8_weeks",
        "cm03_plans_with_agreed_goals",
        "cm04_smart_goals",
        "cm05_goals_met",
        "cm06_plan_reviewed_on_time",
        "cm07_contacts_per_case_month",
        "cm08_goal_linked_contacts",
        "cm09_positive_closures",
        "cm10_caseload_per_fte",
        "suppressed_indicators",
    ]
    assert columns(warehouse, "mart_funding") == [
        *keys,
        "fi01_funding_to_cost_ratio",
        "fi02_funding_per_fte",
        "fi03_cost_per_active_case",
        "fi04_budget_execution",
    ]
    for table, n_indicators in (
        ("mart_eligibility", 3),
        ("mart_payout_process", 3),
        ("mart_data_quality", 2),
    ):
        assert len(columns(warehouse, table)) == len(keys) + n_indicators + (
            table == "mart_eligibility"
        )


def test_wide_cm_mart_has_one_row_per_unit_and_period(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    (n,) = warehouse.execute(
        "SELECT count(*) FROM published.mart_case_management_quality"
    ).fetchone()
    assert n == N_UNITS * N_PERIODS


def test_wide_cm01_and_cm05_values(warehouse: duckdb.DuckDBPyConnection) -> None:
    # CM01 2025 at 08115003: a_c1..a_c4 signed 2025-02-03, a_c5 and a_c6 have no plan (a_c7 is KB)
    # -> 4 of 6. CM05 2025 there: a_g1 E, a_g2 E, a_g3 T, a_g4 N -> 2 of 4 on 4 cases (v2:
    # a_g7 without a known case is left out; v1: 3 of 5): suppressed, so NULL and listed.
    row = cm_wide(warehouse, "TRAEGER", "08115003", "2025")
    assert row["period_type"] == "YEAR"
    assert row["cm01_plan_coverage"] == pytest.approx(4 / 6)
    assert row["cm05_goals_met"] is None
    suppressed = row["suppressed_indicators"].split(",")
    assert "CM05" in suppressed and "CM01" not in suppressed
    # Kreis 08115: CM01 4/6 + b_c1 signed, b_c2 not -> 5 of 8; CM05 2/4 + b_g1 E -> 3 of 5 on 5
    # cases (v1: 4 of 6): both shown.
    row = cm_wide(warehouse, "KREIS", "08115", "2025")
    assert row["cm01_plan_coverage"] == pytest.approx(5 / 8)
    assert row["cm05_goals_met"] == pytest.approx(3 / 5)
    assert "CM01" not in (row["suppressed_indicators"] or "")
    assert "CM05" not in (row["suppressed_indicators"] or "")
    # 08115 alone: CM01 1 of 2 cases -> withheld
    row = cm_wide(warehouse, "TRAEGER", "08115", "2025")
    assert row["cm01_plan_coverage"] is None
    assert "CM01" in row["suppressed_indicators"].split(",")


def test_wide_marts_have_one_column_per_catalogue_indicator(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # The wide marts' value columns are generated from the catalogue (contract/catalogue.py):
    # each mart has exactly its domain's indicators, in id order, between the 4 key columns and
    # (for suppressible domains) suppressed_indicators.
    for mart in catalogue.WIDE_MARTS:
        expected = [i.column_name for i in catalogue.by_domain(mart.domain)]
        got = [c for c in columns(warehouse, mart.alias) if c[:2] in ("cm", "el", "fi", "pa", "dq")]
        assert got == expected, mart.alias


# --- goal attainment by field ------------------------------------------------------------------


def test_goal_attainment_by_field_kreis_shown(warehouse: duckdb.DuckDBPyConnection) -> None:
    # SPRACHE in 2025, Kreis 08115: agreed a_g1..a_g4 and b_g1 (5 cases), SMART all but a_g3
    # (no target date) -> 4 of 5; assessed the same five: met a_g1, a_g2, b_g1 (on 12-31 = P.end),
    # partly a_g3, not met a_g4 -> 3 of 5.
    row = goals(warehouse, "published", "KREIS", "08115", "2025", "SPRACHE")
    assert row["field_label_de"] == "Sprache"
    assert (row["cm04_goals_agreed"], row["cm04_goals_smart"], row["cm04_base_n"]) == (5, 4, 5)
    assert row["cm04_smart_share"] == pytest.approx(0.8)
    assert row["cm04_suppressed"] is False
    assert (
        row["cm05_goals_assessed"],
        row["cm05_goals_met"],
        row["cm05_goals_partly_met"],
        row["cm05_base_n"],
    ) == (5, 3, 1, 5)
    assert row["cm05_met_share"] == pytest.approx(0.6)
    assert row["cm05_suppressed"] is False


def test_goal_attainment_by_field_suppressed_and_goal_without_case(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # ARBEIT in 2025 at 08115003: agreed a_g5 (no criterion: not SMART), a_g6 (SMART, later
    # ENTFALLEN: no assessment) -> 1 of 2 on 1 case. v2: a_g7, whose plan a_pl9 is missing, is
    # not known to be a CM case's goal and counts in neither CM04 nor CM05 (v1: 2 of 3 agreed,
    # and 1 of 1 assessed on 0 cases); nothing is assessed -> 0 of 0 on 0 cases.
    unsuppressed = goals(warehouse, "marts", "TRAEGER", "08115003", "2025", "ARBEIT")
    # v2: the marts carry no suppressed flag (the pattern is marts.disclosure_pattern)
    assert (
        unsuppressed["cm04_goals_agreed"],
        unsuppressed["cm04_goals_smart"],
        unsuppressed["cm04_base_n"],
    ) == (2, 1, 1)
    assert (
        unsuppressed["cm05_goals_assessed"],
        unsuppressed["cm05_goals_met"],
        unsuppressed["cm05_base_n"],
    ) == (0, 0, 0)
    published = goals(warehouse, "published", "TRAEGER", "08115003", "2025", "ARBEIT")
    assert published["cm04_goals_agreed"] is None and published["cm04_smart_share"] is None
    # v2: CM04 on 1 case is primary and withholds base_n too
    assert (published["cm04_base_n"], published["cm04_suppressed"]) == (None, True)
    assert published["cm04_suppression"] == "primary"
    # v2: CM05 rests on 0 cases (its goal's case is unknown): "no cases" is not a primary cell
    assert published["cm05_suppression"] != "primary"


def test_goal_attainment_by_field_adds_up_to_cm05(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Over the fields, Kreis 08115 in 2025: agreed 5 SPRACHE + 2 ARBEIT; assessed 5 + 0 = the
    # CM05 denominator 5, met 3 + 0 = its numerator 3 (v2: a_g7 without a known case is left
    # out; v1: 8, 6, 4).
    totals = warehouse.execute(
        """
        SELECT sum(cm04_goals_agreed), sum(cm05_goals_assessed), sum(cm05_goals_met)
        FROM marts.mart_goal_attainment_by_field
        WHERE level = 'KREIS' AND unit_code = '08115' AND period = '2025'
        """
    ).fetchone()
    assert totals == (7, 5, 3)
    cm05 = warehouse.execute(
        "SELECT numerator, denominator FROM marts.indicator_values WHERE indicator_id = 'CM05' "
        "AND level = 'KREIS' AND unit_code = '08115' AND period = '2025'"
    ).fetchone()
    assert cm05 == (3, 5)


def test_goal_attainment_grid_and_quarters(warehouse: duckdb.DuckDBPyConnection) -> None:
    (n,) = warehouse.execute(
        "SELECT count(*) FROM published.mart_goal_attainment_by_field"
    ).fetchone()
    assert n == N_UNITS * N_PERIODS * 9  # nine fields of action
    # BILDUNG has no goals: zeros, no share, and withheld like any cell on fewer than 5 cases
    empty = goals(warehouse, "marts", "KREIS", "08115", "2025", "BILDUNG")
    assert (empty["cm04_goals_agreed"], empty["cm04_smart_share"], empty["cm04_base_n"]) == (
        0,
        None,
        0,
    )
    # assessed in 2025Q3: a_g1 (07-01), a_g2 (07-15), a_g3 (08-01) -> 2 of 3 on 3 cases
    q3 = goals(warehouse, "marts", "KREIS", "08115", "2025Q3", "SPRACHE")
    assert (q3["period_type"], q3["cm05_goals_assessed"], q3["cm05_goals_met"]) == ("QUARTER", 3, 2)
    # v2: 3 cases -> a primary cell of the published pattern (marts carry no flag)
    published_q3 = goals(warehouse, "published", "KREIS", "08115", "2025Q3", "SPRACHE")
    assert (published_q3["cm05_suppressed"], published_q3["cm05_suppression"]) == (True, "primary")


# --- contact topics ----------------------------------------------------------------------------


def test_contact_topics_traeger(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 08115003 in 2025: 11 contacts. ALLTAG: a_k1..a_k6 = 6 contacts of 5 cases (a_c1 twice) ->
    # 6/11, shown. Classic social work = ALLTAG 6 + FAMILIE 1 = 7/11 on 5 cases, shown.
    alltag = topics(warehouse, "published", "TRAEGER", "08115003", "2025", "ALLTAG")
    assert (alltag["contacts"], alltag["base_n"], alltag["suppressed"]) == (6, 5, False)
    assert alltag["contact_share"] == pytest.approx(6 / 11)
    assert alltag["topic_group"] == "classic_social_work"
    assert alltag["topic_group_contacts"] == 7
    assert alltag["topic_group_share"] == pytest.approx(7 / 11)
    assert (alltag["topic_group_base_n"], alltag["topic_group_suppressed"]) == (5, False)
    # WOHNEN: 2 contacts of a_c1 and a_c2 -> withheld; its group, integration (WOHNEN 2 +
    # SPRACHE 2 of a_c1, a_c2, a_c6, a_c7), rests on 4 cases -> withheld as well.
    wohnen = topics(warehouse, "published", "TRAEGER", "08115003", "2025", "WOHNEN")
    assert (wohnen["contacts"], wohnen["contact_share"]) == (None, None)
    # v2: suppressed cells withhold base_n too (2 cases, group 4 cases: both primary)
    assert (wohnen["base_n"], wohnen["suppressed"], wohnen["topic_group"]) == (
        None,
        True,
        "integration",
    )
    assert (wohnen["suppression"], wohnen["topic_group_suppression"]) == ("primary", "primary")
    assert (wohnen["topic_group_contacts"], wohnen["topic_group_base_n"]) == (None, None)
    unsuppressed = topics(warehouse, "marts", "TRAEGER", "08115003", "2025", "WOHNEN")
    assert unsuppressed["contacts"] == 2
    assert unsuppressed["contact_share"] == pytest.approx(2 / 11)


def test_contact_topics_kreis(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Kreis 08115 in 2025: 11 + b_k1 (ALLTAG) + b_k2 (ARBEIT) = 13 contacts. ALLTAG 7 on 6 cases;
    # integration WOHNEN 2 + SPRACHE 2 + ARBEIT 1 = 5 on a_c1, a_c2, a_c6, a_c7, b_c2 -> shown.
    alltag = topics(warehouse, "published", "KREIS", "08115", "2025", "ALLTAG")
    assert (alltag["contacts"], alltag["base_n"]) == (7, 6)
    assert alltag["contact_share"] == pytest.approx(7 / 13)
    assert alltag["topic_group_share"] == pytest.approx(8 / 13)
    arbeit = topics(warehouse, "published", "KREIS", "08115", "2025", "ARBEIT")
    assert (arbeit["contacts"], arbeit["suppressed"]) == (None, True)
    assert (arbeit["topic_group_contacts"], arbeit["topic_group_base_n"]) == (5, 5)
    assert arbeit["topic_group_share"] == pytest.approx(5 / 13)
    shares = warehouse.execute(
        "SELECT sum(contact_share), count(*) FROM marts.mart_contact_topics "
        "WHERE level = 'KREIS' AND unit_code = '08115' AND period = '2025'"
    ).fetchone()
    assert shares[0] == pytest.approx(1.0)
    assert shares[1] == 11  # every topic of the code list, SONSTIGES and unused ones included


def test_contact_topics_quarter_from_date(warehouse: duckdb.DuckDBPyConnection) -> None:
    # a_k6 on 2025-03-31 is the only contact of 08115003 in 2025Q1; in 2025Q2 ALLTAG has a_k1..
    # a_k5 = 5 contacts but only 4 cases -> withheld.
    q1 = topics(warehouse, "marts", "TRAEGER", "08115003", "2025Q1", "ALLTAG")
    assert (q1["period_type"], q1["contacts"], q1["contact_share"]) == ("QUARTER", 1, 1.0)
    q2 = topics(warehouse, "published", "TRAEGER", "08115003", "2025Q2", "ALLTAG")
    assert (q2["contacts"], q2["base_n"], q2["suppressed"]) == (None, 4, True)
    (n,) = warehouse.execute("SELECT count(*) FROM published.mart_contact_topics").fetchone()
    assert n == N_UNITS * N_PERIODS * 11


def test_published_schema_lists_the_analyst_marts(warehouse: duckdb.DuckDBPyConnection) -> None:
    tables = {
        r[0]
        for r in warehouse.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'published'"
        ).fetchall()
    }
    assert {
        "mart_case_management_quality",
        "mart_eligibility",
        "mart_funding",
        "mart_payout_process",
        "mart_data_quality",
        "mart_goal_attainment_by_field",
        "mart_contact_topics",
    } <= tables
