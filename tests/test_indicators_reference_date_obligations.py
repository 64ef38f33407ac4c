"""The reference date and the delivery obligations (docs/indicators.md version 2) end to end:
reference date R, P.eend, period_complete, CM03–CM06 on CM cases only, CM06's 14 days before R,
DQ01 and FI03 from delivery obligations (meldepflichten), DQ02 with a file rejected whole, units —
on one hand-written fixture, built twice: with the data's R and with `--reference-date
2025-05-31` (the dbt var `imw build --reference-date` passes).

Fixture (tests/fixtures/indicators_reference_date_obligations/*.csv, every row's `note` says why
it is there):
  G = 08115003, a Gemeinde in Kreis 08115: snapshots with stand 2025-08-15, except `stellen`
      (2025-06-30: delivered late). Cases g1 CM 01-10 open, g2 KB 02-01 open WITH plan pl2 and goal
      z2, g3 CM 03-01 -> 07-20 ZIELE_ERREICHT. Plan pl1 (g1): v1 due 05-01, v2 drawn up 05-10 due
      08-05. Goal z1 (pl1) SMART, ERREICHT assessed 06-01. Contacts kt1 07-05 (g1), kt2 07-10 (g3).
      Positions s1 1.0 FTE from 2025-01-01, s2 0.5 FTE from 2025-09-01.
  K = 08115, the Kreis itself: stand 2025-08-15, case k1 CM 02-01 open.
  H = 08115004: obliged, never delivered anything.
  W = 08212: delivers (stand 2025-06-30, case w1) without any obligation.
  08 (funding authority), stand 2026-03-31: grant im_k25 of K for 2025 obliging K, G and H from
  2025-01-01; proof of use for 2025 received 2026-02-15 (costs 50,000 + 5,000); a payout paid
  2026-02-01; a budget for 2026.
All dates 2025 unless a year is given. R = the newest provider stand = 2025-08-15 (the authority's
2026-03-31 does not count).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import built_warehouse

from reports.data_quality import data_quality_facts

FIXTURES = Path(__file__).parent / "fixtures" / "indicators_reference_date_obligations"
DAYS_PER_MONTH = 30.4375
G, K, H, W = "08115003", "08115", "08115004", "08212"
EXPLICIT_R = "2025-05-31"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def natural(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    tmp = tmp_path_factory.mktemp("indicators_reference_date_obligations")
    con = built_warehouse(tmp, FIXTURES, generic_tests=True)
    con.execute("SET VARIABLE build_db = ?", [str(tmp / "build.duckdb")])
    yield con
    con.close()


@pytest.fixture(scope="module")
def explicit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = built_warehouse(
        tmp_path_factory.mktemp("indicators_reference_date_obligations_r"),
        FIXTURES,
        reference_date=EXPLICIT_R,
    )
    yield con
    con.close()


def row(con: duckdb.DuckDBPyConnection, indicator: str, period: str, level: str, unit: str):
    found = con.execute(
        """
        SELECT numerator, denominator, base_n FROM marts.indicator_values
        WHERE indicator_id = ? AND period = ? AND level = ? AND unit_code = ?
        """,
        [indicator, period, level, unit],
    ).fetchall()
    assert len(found) == 1, (indicator, period, level, unit, found)
    return found[0]


def periods(con: duckdb.DuckDBPyConnection) -> dict[str, bool]:
    return dict(
        con.execute(
            "SELECT DISTINCT period, period_complete FROM published.indicator_values"
        ).fetchall()
    )


# ---------------------------------------------------------------------------------------------
# R, periods, period_complete
# ---------------------------------------------------------------------------------------------
def test_reference_date_is_the_newest_provider_stand(natural):
    # 2025-08-15 (G and K), not the authority's 2026-03-31
    assert natural.execute(
        "SELECT reference_date, is_explicit FROM intermediate.int_reference_date"
    ).fetchone() == (date(2025, 8, 15), False)


def test_no_period_after_r_even_with_a_later_authority_stand(natural):
    # v1 ran to the end of the newest stand's year (2026: the authority's file) — v2 ends with
    # the quarter R falls in; the 2026 budget and the payout paid 2026-02-01 add no period
    assert periods(natural) == {
        "2025": False,  # to date: ends 2025-12-31 > R
        "2025Q1": True,
        "2025Q2": True,
        "2025Q3": False,  # R = 2025-08-15 falls in it
    }


def test_explicit_reference_date_cuts_the_periods(explicit):
    assert explicit.execute(
        "SELECT reference_date, is_explicit FROM intermediate.int_reference_date"
    ).fetchone() == (date(2025, 5, 31), True)
    # 2025Q3 starts after R 2025-05-31; 2025Q2 is to date
    assert periods(explicit) == {"2025": False, "2025Q1": True, "2025Q2": False}


@pytest.mark.parametrize("build", ["natural", "explicit"])
def test_every_published_table_with_a_period_has_period_complete_and_no_period_after_r(
    build, request
):
    con = request.getfixturevalue(build)
    reference = con.execute("SELECT reference_date FROM intermediate.int_reference_date").fetchone()
    tables = [
        t
        for (t,) in con.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE table_schema = 'published' AND column_name = 'period'"
        ).fetchall()
    ]
    assert len(tables) == 8  # indicator_values + 5 wide marts + goal fields + contact topics
    for table in tables:
        bad = con.execute(
            f"""
            SELECT count(*) FROM published.{table}
            WHERE period_complete IS NULL
               OR make_date(cast(left(period, 4) AS INTEGER),
                            CASE WHEN period LIKE '%Q%'
                                 THEN 3 * cast(right(period, 1) AS INTEGER) - 2 ELSE 1 END, 1) > ?
            """,
            [reference[0]],
        ).fetchone()[0]
        assert bad == 0, table


# ---------------------------------------------------------------------------------------------
# P.eend: case-days, open cases and FTE stop at R
# ---------------------------------------------------------------------------------------------
def test_cm07_case_days_end_at_r(natural):
    # 2025Q3 to date 07-01..08-15: g1 46 days, g2 (KB counts in CM07) 46, g3 07-01..07-20 20
    # = 112 case-days (v1: to 09-30, 92 + 92 + 20 = 204); contacts kt1, kt2 = 2
    numerator, denominator, base_n = row(natural, "CM07", "2025Q3", "TRAEGER", G)
    assert (numerator, base_n) == (2, 3)
    assert denominator == pytest.approx(112 / DAYS_PER_MONTH)


def test_cm10_open_cases_and_fte_at_r(natural):
    # open at P.eend 2025-08-15: g1, g2 (g3 closed 07-20) = 2; FTE held at 08-15: s1 1.0 (s2
    # starts 09-01 — v1 counted it at P.end 09-30: 1.5)
    assert row(natural, "CM10", "2025Q3", "TRAEGER", G) == (2, 1.0, 2)


def test_closure_after_an_explicit_r_has_not_happened(explicit):
    # R 2025-05-31: g3's closure 07-20 is after R, so g3 is open at R: g1, g2, g3 = 3 / 1.0 FTE
    assert row(explicit, "CM10", "2025Q2", "TRAEGER", G) == (3, 1.0, 3)
    # and CM09 has no closure in 2025 (the data's R gives g3's positive closure: 1 / 1)
    assert row(explicit, "CM09", "2025", "TRAEGER", G)[:2] == (0, 0)


def test_cm09_positive_closure_with_the_data_r(natural):
    assert row(natural, "CM09", "2025", "TRAEGER", G) == (1, 1, 1)


# ---------------------------------------------------------------------------------------------
# CM03–CM06 on CM cases only; CM06 and the 14 days before R
# ---------------------------------------------------------------------------------------------
def test_cm03_to_cm05_leave_out_the_kb_case_with_a_plan(natural):
    # v1 counted the KB case g2's plan pl2 and goal z2 too: CM03 2/2, CM04 2/2, CM05 2/2
    assert row(natural, "CM03", "2025", "TRAEGER", G) == (1, 1, 1)  # pl1 with goal z1
    assert row(natural, "CM04", "2025", "TRAEGER", G) == (1, 1, 1)  # z1 SMART
    assert row(natural, "CM05", "2025", "TRAEGER", G) == (1, 1, 1)  # z1 ERREICHT 06-01


def test_cm06_leaves_out_kb_and_reviews_due_less_than_14_days_before_r(natural):
    # pl1 v1 due 05-01, v2 drawn up 05-10: on time. pl1 v2 due 08-05 is 10 days before R 08-15:
    # outcome unknown, left out (v1: 1/2). pl2 v1 is the KB case's (v1: 1/3 with it).
    assert row(natural, "CM06", "2025", "TRAEGER", G) == (1, 1, 1)


def test_rows_dated_after_an_explicit_r_are_not_known(explicit):
    # R 2025-05-31: pl1 v1 due 05-01 <= R - 14 counts, its v2 (05-10) is known: on time 1/1
    assert row(explicit, "CM06", "2025", "TRAEGER", G) == (1, 1, 1)
    # z1 was assessed 06-01, after R: not yet assessed, so CM05 has nothing (natural R: 1/1)
    assert row(explicit, "CM05", "2025", "TRAEGER", G)[:2] == (0, 0)


# ---------------------------------------------------------------------------------------------
# DQ01, FI03 from meldepflichten; DQ02 with a file rejected whole
# ---------------------------------------------------------------------------------------------
def test_dq01_denominator_is_the_obliged_providers(natural):
    # 2025Q2 (P.eend 06-30): K complete (all 8 current stands 08-15), G complete (stellen 06-30),
    # H obliged but never delivered: 2 / 3 at the Kreis. W delivers without obligation: no row
    # of its own in the denominator (v1 counted grant applicants: K alone, 1/1).
    assert row(natural, "DQ01", "2025Q2", "KREIS", K)[:2] == (2, 3)
    assert row(natural, "DQ01", "2025Q2", "TRAEGER", H)[:2] == (0, 1)
    assert row(natural, "DQ01", "2025Q2", "TRAEGER", W)[:2] == (0, 0)
    # 2025Q3 to date (P.eend = R 08-15): G's stellen (06-30) is late, so only K is complete
    assert row(natural, "DQ01", "2025Q3", "KREIS", K)[:2] == (1, 3)
    assert row(natural, "DQ01", "2025Q3", "TRAEGER", G)[:2] == (0, 1)


def test_dq01_with_an_explicit_r(explicit):
    # P.eend 2025-05-31: G's stellen 06-30 is after it, so G is complete; H still 0: 2 / 3
    assert row(explicit, "DQ01", "2025Q2", "KREIS", K)[:2] == (2, 3)


def test_fi03_cases_of_the_obliged_providers_at_the_applicant(natural):
    # grant-year (im_k25, 2025): costs 50,000 + 5,000 at K; cases active in 2025 of the obliged
    # K (k1), G (g1, g2, g3) and H (none) = 4, counted at K (v1: K's own case only, 1)
    assert row(natural, "FI03", "2025", "TRAEGER", K) == (55000, 4, 4)
    # G is no applicant: its cases count at K, not at G
    assert row(natural, "FI03", "2025", "TRAEGER", G) == (0, 0, 0)


def test_fi03_without_the_proof_received_after_an_explicit_r(explicit):
    # the proof for 2025 came in 2026-02-15, after R 2025-05-31: no grant-year, 0 / 0
    assert row(explicit, "FI03", "2025", "TRAEGER", K)[:2] == (0, 0)


def test_dq02_counts_the_rows_of_a_file_rejected_whole(natural):
    # G's accepted files with stand 08-15: personen 3 + aufenthalt 3 + faelle 3 + plaene 3 +
    # ziele 2 + kontakte 2 + ergebnisse 1 = 17 rows; the ziele file of 08-10 rejected whole
    # with 12 readable rows adds 12 delivered, 0 accepted (v1 left a whole rejection at 0 / 0
    # only when its rows were unknown): 17 / 29
    assert row(natural, "DQ02", "2025Q3", "TRAEGER", G)[:2] == (17, 29)
    # the year adds G's stellen file (stand 06-30, 2 rows): 19 / 31
    assert row(natural, "DQ02", "2025", "TRAEGER", G)[:2] == (19, 31)


def test_dq02_files_dated_after_an_explicit_r_are_not_known(explicit):
    # every file of G has a stand after 2025-05-31
    assert row(explicit, "DQ02", "2025", "TRAEGER", G)[:2] == (0, 0)


def test_data_quality_report_lists_never_delivered_and_unobliged(natural):
    build_db = natural.execute("SELECT getvariable('build_db')").fetchone()[0]
    facts = data_quality_facts(Path(build_db))  # a second read-only connection of this process
    assert facts.obliged_never_delivered == [H]
    assert facts.delivering_without_obligation == [W]
    assert facts.obligations == 3
    assert str(facts.reference_date) == "2025-08-15"


# ---------------------------------------------------------------------------------------------
# units
# ---------------------------------------------------------------------------------------------
def test_units_name_every_kreis_and_indicator_values_carry_unit_name(explicit):
    counts = dict(
        explicit.execute("SELECT level, count(*) FROM published.units GROUP BY level").fetchall()
    )
    # the 44 Kreise, 4 RB and the Land of the reference data; providers G, K, H, W
    assert counts == {"KREIS": 44, "RB": 4, "LAND": 1, "TRAEGER": 4}
    assert (
        explicit.execute(
            "SELECT count(*) FROM published.units WHERE level <> 'TRAEGER' AND unit_name IS NULL"
        ).fetchone()[0]
        == 0
    )
    names = dict(
        explicit.execute(
            "SELECT level || ':' || unit_code, unit_name FROM published.indicator_values "
            "WHERE indicator_id = 'CM01' AND period = '2025'"
        ).fetchall()
    )
    assert names["KREIS:08115"] == "Böblingen"
    assert names["TRAEGER:08115"] == "Böblingen"  # a Kreis provider carries its Kreis's name
    assert names["TRAEGER:08115003"] is None  # no Gemeinde names in the reference data
    assert names["RB:081"] == "Stuttgart"
    assert names["LAND:08"] == "Baden-Württemberg"
