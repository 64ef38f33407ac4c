"""EL01-EL03, FI01-FI04, PA01-PA03, DQ01 and DQ02 end to end.

A small hand-written raw layer (tests/fixtures/indicators_eligibility_funding/, every row's `note`
says why it is there) is loaded into a fresh DuckDB file, `dbt build` runs against it once for the
module, and the tests read marts.indicator_values (unsuppressed) and published.indicator_values
(EL rows suppressed where 0 < base_n < 5, and v2's secondary cells; FI, PA and DQ rows never).

Fixture in short — providers 08115003 ("A", a Gemeinde in Kreis 08115, RB 081), 08115 ("B", the
Kreis itself) and 08212 ("C", Stadtkreis Karlsruhe, RB 082); the funding authority '08' delivers
grants, payout requests, proofs of use and the budget. Current snapshots have stand 2026-01-15 and
the first case starts 2024-05-01, so the periods run from 2024 to 2026. KREIS 08115 and RB 081 hold
A and B; RB 082 holds C alone; LAND holds all three. Checked: 2025 and a quarter of 2025 at every
level, plus the edge cases named in each test.

Contacts (2025 unless a year is given; status at the date; "out" = outside AU):
  A: a_p1 02-10, 05-05 (JA) | a_p2 04-30 (GEST_SONST, NEIN), 05-01 (status changed that day:
     AE_25_2_SUB, JA) | a_p3 03-01 (DUL_60A, AUSREISEPFLICHTIG), 06-15 (periods touch: the newer
     AE_25_5, JA) | a_p4 07-01 (no status: UNBEKANNT; before au_beginn 08-01: out) |
     a_p5 06-30 (DUL_60C: AUSREISEPFLICHTIG, BEDINGT; on au_ende: inside), 07-01 (same; out) |
     a_p6 01-02, 12-31, 2024-12-31 (JA)
  B: b_p1 04-10, 09-01 (JA) | b_p2 05-20 (DUL_60A: AUSREISEPFLICHTIG; after au_ende 2024-12-31: out)
  C: c_p1 01-15, 04-01 (JA) | c_p2 06-01 (GEST_GUT, BEDINGT) | c_p3 08-15 (status ended 2024:
     UNBEKANNT)

Grant-years with a proof of use (costs = staff + material; paid(g, Y) by funding year jahr):
  A g_a24/2024: costs 55000, FTE 1.0, recovery 0, paid 30000 + 28000 (paid 2025-01-15) = 58000
  A g_a25/2025: costs 66000, FTE 1.0, recovery 2000, paid 35000 + 30000 = 65000 (r_a25_3 unpaid)
  B g_b/2024:   costs 22000, FTE 0.5, recovery 1000, paid 21000
  C g_c/2025:   costs 34000, FTE 0.5, recovery 0, paid 20000 + 15000 = 35000
  B g_b/2025 has no proof of use: its payout r_b25 (25000) is in no grant-year.

Secondary suppression of EL rows (v2, docs/indicators.md "Output"): published numbers are linked by
the sums Land = RB 081 + RB 082, RB 081 = Kreis 08115 (alone), RB 082 = Kreis 08212 = C (alone),
Kreis 08115 = A + B, and a Land row is never chosen as a secondary cell. Hence:
  (C) where C is primary, Kreis 08212 and RB 082 are the same primary cell, so RB 081 must be
      withheld (else RB 082 = Land - RB 081) and with it Kreis 08115 (else RB 081 = Kreis 08115);
  (AB) where one of A and B is primary, the sum Kreis 08115 = A + B holds a suppressed cell and
      one more cell of it is sacrificed, the one with the smallest base_n: the other provider.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from dbt_fixture import (
    Row,
    assert_rows_follow_the_disclosure_pattern,
    built_warehouse,
    indicator_row,
    indicator_suppression,
)

ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = ROOT / "dbt_project"
FIXTURES = Path(__file__).parent / "fixtures" / "indicators_eligibility_funding"

pytestmark = pytest.mark.slow

A, B, C = "08115003", "08115", "08212"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    con = built_warehouse(tmp_path_factory.mktemp("indicators_eligibility_funding"), FIXTURES)
    yield con
    con.close()


def marts(con: duckdb.DuckDBPyConnection, *key: str) -> Row:
    return indicator_row(con, "marts", *key)


def published(con: duckdb.DuckDBPyConnection, *key: str) -> Row:
    return indicator_row(con, "published", *key)


suppression = indicator_suppression


def shown(numerator: float, denominator: float, base_n: int | None = None) -> Row:
    """A row that is no primary cell: EL with base_n >= 5, or FI/PA/DQ (never suppressed).
    Published as it is unless secondary suppression takes an EL row."""
    value = numerator / denominator if denominator else None
    return Row(numerator, denominator, value, base_n, False)


def hidden(numerator: float, denominator: float, base_n: int) -> Row:
    """An EL primary cell's (0 < base_n < 5) unsuppressed numbers in marts."""
    value = numerator / denominator if denominator else None
    return Row(numerator, denominator, value, base_n, True)


def suppressed(base_n: int) -> Row:
    """The published form of a primary cell: numbers gone (v2: base_n too, so `base_n` is only
    the marts' count behind it, checked to be small)."""
    assert 0 < base_n < 5
    return WITHHELD


# The published form of a suppressed row, primary or secondary: no number (v2: base_n neither).
WITHHELD = Row(None, None, None, None, True)


def assert_el(
    con: duckdb.DuckDBPyConnection,
    period: str,
    level: str,
    unit: str,
    contacts: int,
    numerators: tuple[int, int, int],
    persons: int,
    *,
    secondary: bool = False,
) -> None:
    """EL01-EL03 share the denominator (contacts in P) and base_n (their persons): check all
    three in marts and published: a primary cell exactly when 0 < persons < 5; with 5 or more
    persons shown, or, with `secondary` (the reason is said at the call), a secondary cell."""
    for indicator_id, numerator in zip(("EL01", "EL02", "EL03"), numerators, strict=True):
        key = (indicator_id, period, level, unit)
        if persons >= 5:
            assert marts(con, *key) == shown(numerator, contacts, persons), key
            if secondary:
                assert published(con, *key) == WITHHELD, key
                assert suppression(con, *key) == "secondary", key
            else:
                assert published(con, *key) == shown(numerator, contacts, persons), key
                assert suppression(con, *key) is None, key
        else:
            assert not secondary, key
            assert marts(con, *key) == hidden(numerator, contacts, persons), key
            assert published(con, *key) == suppressed(persons), key
            assert suppression(con, *key) == "primary", key


# --- EL01-EL03 ----------------------------------------------------------------------------------
# Denominator: contacts dated in P. Numerators: status at datum has prospect JA (EL01), is in
# category AUSREISEPFLICHTIG (EL02); datum < au_beginn or > au_ende (EL03). base_n: persons.


def test_el_year_traeger(warehouse: duckdb.DuckDBPyConnection) -> None:
    # A 2025: 11 contacts of 6 persons (a_k12 is 2024). JA: a_p1 x2, a_p2 05-01, a_p3 06-15,
    # a_p6 x2 = 6. AUSREISEPFLICHTIG: a_p3 03-01, a_p5 06-30 and 07-01 = 3. Out: a_p4 07-01
    # (before au_beginn), a_p5 07-01 (after au_ende; 06-30 = au_ende is inside) = 2. 6 persons:
    # no primary cell. v2: secondary (AB): B is primary in 2025 (2 persons, below), and A's 6
    # persons are fewer than the Kreis's 8.
    assert_el(warehouse, "2025", "TRAEGER", A, 11, (6, 3, 2), 6, secondary=True)
    # B 2025: b_p1 x2 (JA), b_p2 05-20 (AUSREISEPFLICHTIG, out) -> 2, 1, 1 of 3; 2 persons.
    assert_el(warehouse, "2025", "TRAEGER", B, 3, (2, 1, 1), 2)
    # C 2025: c_p1 x2 (JA), c_p2 (BEDINGT), c_p3 (UNBEKANNT: status ended 2024) -> 2, 0, 0 of 4.
    assert_el(warehouse, "2025", "TRAEGER", C, 4, (2, 0, 0), 3)


def test_el_year_kreis_rb_land(warehouse: duckdb.DuckDBPyConnection) -> None:
    # KREIS 08115 = A + B: 14 contacts, 8 / 4 / 3, 8 persons; RB 081 is the same providers.
    # v2: both secondary (C): C is primary in 2025 (3 persons, below).
    assert_el(warehouse, "2025", "KREIS", "08115", 14, (8, 4, 3), 8, secondary=True)
    assert_el(warehouse, "2025", "RB", "081", 14, (8, 4, 3), 8, secondary=True)
    # RB 082 and KREIS 08212 = C alone: suppressed (3 persons).
    assert_el(warehouse, "2025", "RB", "082", 4, (2, 0, 0), 3)
    assert_el(warehouse, "2025", "KREIS", "08212", 4, (2, 0, 0), 3)
    # LAND: 18 contacts, 10 / 4 / 3, 11 persons (sums, not an average of the providers' shares).
    assert_el(warehouse, "2025", "LAND", "08", 18, (10, 4, 3), 11)


def test_el_quarter_at_every_level(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 2025Q2 = 04-01..06-30. A: a_k2 05-05 (JA), a_k3 04-30 (NEIN: the day before the change),
    # a_k4 05-01 (JA: the new status applies on its first day), a_k6 06-15 (touching periods: the
    # newer AE_25_5, JA, not AUSREISEPFLICHTIG), a_k8 06-30 (AUSREISEPFLICHTIG; on au_ende: inside)
    # -> 3, 1, 0 of 5 contacts of 4 persons: a primary cell although the year rests on 6.
    assert_el(warehouse, "2025Q2", "TRAEGER", A, 5, (3, 1, 0), 4)
    # B: b_k1 04-10 (JA), b_k3 05-20 (AUSREISEPFLICHTIG, out) -> 1, 1, 1 of 2.
    assert_el(warehouse, "2025Q2", "TRAEGER", B, 2, (1, 1, 1), 2)
    # C: c_k2 04-01 (JA; first day of the quarter), c_k3 06-01 (BEDINGT) -> 1, 0, 0 of 2.
    assert_el(warehouse, "2025Q2", "TRAEGER", C, 2, (1, 0, 0), 2)
    # KREIS 08115 = A + B: 7 contacts, 4 / 2 / 1, 6 persons: no primary cell although both
    # providers are. v2: secondary (C): C is primary in 2025Q2 (2 persons, above), so a
    # published RB 081 would give RB 082 = Land - RB 081 (8 - 6 = 2 persons), and a published
    # Kreis 08115 would give RB 081.
    assert_el(warehouse, "2025Q2", "KREIS", "08115", 7, (4, 2, 1), 6, secondary=True)
    assert_el(warehouse, "2025Q2", "RB", "081", 7, (4, 2, 1), 6, secondary=True)
    assert_el(warehouse, "2025Q2", "RB", "082", 2, (1, 0, 0), 2)
    # LAND: 9 contacts, 5 / 2 / 1, 8 persons.
    assert_el(warehouse, "2025Q2", "LAND", "08", 9, (5, 2, 1), 8)


def test_el_quarter_and_year_boundaries(warehouse: duckdb.DuckDBPyConnection) -> None:
    # a_k11 on 2025-12-31 is in 2025Q4 (with nothing else of A's); a_k12 on 2024-12-31 in 2024.
    assert_el(warehouse, "2025Q4", "TRAEGER", A, 1, (1, 0, 0), 1)
    assert_el(warehouse, "2024", "TRAEGER", A, 1, (1, 0, 0), 1)
    # 2025Q3 at A: a_k7 (UNBEKANNT, out), a_k9 (AUSREISEPFLICHTIG, out) -> 0, 1, 2 of 2.
    assert_el(warehouse, "2025Q3", "TRAEGER", A, 2, (0, 1, 2), 2)


# --- FI01-FI04, PA03: YEAR only -----------------------------------------------------------------


def test_fi01_funding_to_cost_ratio(warehouse: duckdb.DuckDBPyConnection) -> None:
    # paid(g, Y) / costs over grant-years with a proof of use. A 2025: 65000 / 66000. B 2025: its
    # grant-year has no proof of use, so r_b25's 25000 is not counted: 0 / 0. C 2025: 35000 /
    # 34000 (> 1: overfinanced). FI is never suppressed and has no base_n.
    assert published(warehouse, "FI01", "2025", "TRAEGER", A) == shown(65000, 66000)
    assert published(warehouse, "FI01", "2025", "TRAEGER", B) == shown(0, 0)
    assert published(warehouse, "FI01", "2025", "TRAEGER", C) == shown(35000, 34000)
    assert published(warehouse, "FI01", "2025", "KREIS", "08115") == shown(65000, 66000)
    assert published(warehouse, "FI01", "2025", "RB", "081") == shown(65000, 66000)
    assert published(warehouse, "FI01", "2025", "RB", "082") == shown(35000, 34000)
    assert published(warehouse, "FI01", "2025", "LAND", "08") == shown(100000, 100000)


def test_fi01_payout_for_last_year_counts_in_its_funding_year(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # A 2024: r_a24_1 30000 (paid 2024) + r_a24_2 28000 (jahr 2024, paid 2025-01-15) = 58000 of
    # costs 55000. B 2024: 21000 / 22000. Kreis 08115 and Land 2024: 79000 / 77000.
    assert published(warehouse, "FI01", "2024", "TRAEGER", A) == shown(58000, 55000)
    assert published(warehouse, "FI01", "2024", "TRAEGER", B) == shown(21000, 22000)
    assert published(warehouse, "FI01", "2024", "KREIS", "08115") == shown(79000, 77000)
    assert published(warehouse, "FI01", "2024", "LAND", "08") == shown(79000, 77000)


def test_fi02_funding_per_fte(warehouse: duckdb.DuckDBPyConnection) -> None:
    # paid(g, Y) / vzae_ist. 2025: A 65000 / 1.0, B none (no proof of use), C 35000 / 0.5;
    # Kreis 08115 65000 / 1.0; RB 082 35000 / 0.5; Land 100000 / 1.5.
    assert published(warehouse, "FI02", "2025", "TRAEGER", A) == shown(65000, 1.0)
    assert published(warehouse, "FI02", "2025", "TRAEGER", B) == shown(0, 0)
    assert published(warehouse, "FI02", "2025", "KREIS", "08115") == shown(65000, 1.0)
    assert published(warehouse, "FI02", "2025", "RB", "082") == shown(35000, 0.5)
    assert published(warehouse, "FI02", "2025", "LAND", "08") == shown(100000, 1.5)
    # 2024: A 58000 / 1.0 + B 21000 / 0.5 -> Kreis 79000 / 1.5.
    assert published(warehouse, "FI02", "2024", "KREIS", "08115") == shown(79000, 1.5)


def test_fi03_cost_per_active_case(warehouse: duckdb.DuckDBPyConnection) -> None:
    # v2: costs of the applicant's grant-years in Y / the cases (CM and KB) active in Y of the
    # providers those grants oblige to deliver in Y (meldepflichten.csv: here each grant obliges
    # its applicant, as until 2024); base_n = those cases, never suppressed. 2025: A 66000 / 6
    # cases (a_c5 closed 07-31 is active); C 34000 / 3. B has no grant-year in 2025 (g_b's proof
    # is for 2024 only), so no grant of B obliges anyone in 2025: 0 / 0 (v1 divided by B's own
    # cases: 0 / 2).
    assert published(warehouse, "FI03", "2025", "TRAEGER", A) == shown(66000, 6, 6)
    assert published(warehouse, "FI03", "2025", "TRAEGER", B) == shown(0, 0, 0)
    assert published(warehouse, "FI03", "2025", "TRAEGER", C) == shown(34000, 3, 3)
    # Kreis 08115: A's 66000 / 6 (v1: / 8 with B's cases)
    assert published(warehouse, "FI03", "2025", "KREIS", "08115") == shown(66000, 6, 6)
    assert published(warehouse, "FI03", "2025", "RB", "082") == shown(34000, 3, 3)
    # Land: 100000 / 9 (v1: / 11)
    assert published(warehouse, "FI03", "2025", "LAND", "08") == shown(100000, 9, 9)
    # 2024: A 55000 / 4 (a_c2, a_c3, a_c5, a_c6), B 22000 / 1 (b_c2, obliged from 2024-07-01),
    # C has no grant-year in 2024: 0 / 0 (v1: 0 / 1 with c_c1) -> Land 77000 / 5 (v1: / 6).
    assert published(warehouse, "FI03", "2024", "LAND", "08") == shown(77000, 5, 5)


def test_fi04_budget_execution_land_only(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Cash view: payouts by ausgezahlt_am / ansatz + reste. 2024: r_a24_1 30000 + r_b24 21000 =
    # 51000 of 100000. 2025: r_a24_2 28000 (for 2024, paid 2025-01-15) + 35000 + 30000 + r_b25
    # 25000 (no proof of use, still cash) + 20000 + 15000 = 153000 of 150000 + 10000.
    assert published(warehouse, "FI04", "2024", "LAND", "08") == shown(51000, 100000)
    assert published(warehouse, "FI04", "2025", "LAND", "08") == shown(153000, 160000)
    # 2026: no budget, no payouts: the grid row is 0 / 0.
    assert published(warehouse, "FI04", "2026", "LAND", "08") == shown(0, 0)
    (levels,) = warehouse.execute(
        "SELECT list(DISTINCT level) FROM published.indicator_values WHERE indicator_id = 'FI04'"
    ).fetchone()
    assert levels == ["LAND"]


def test_pa03_recovery_rate(warehouse: duckdb.DuckDBPyConnection) -> None:
    # rueckforderung / paid(g, Y) over grant-years with a proof of use. 2025: A 2000 / 65000,
    # C 0 / 35000, B none (r_b25 is in no grant-year) -> Land 2000 / 100000.
    assert published(warehouse, "PA03", "2025", "TRAEGER", A) == shown(2000, 65000)
    assert published(warehouse, "PA03", "2025", "TRAEGER", B) == shown(0, 0)
    assert published(warehouse, "PA03", "2025", "RB", "082") == shown(0, 35000)
    assert published(warehouse, "PA03", "2025", "LAND", "08") == shown(2000, 100000)
    # 2024: A 0 / 58000 (incl. the payout made in 2025), B 1000 / 21000 -> Kreis 1000 / 79000.
    assert published(warehouse, "PA03", "2024", "KREIS", "08115") == shown(1000, 79000)


def test_funding_indicators_are_yearly(warehouse: duckdb.DuckDBPyConnection) -> None:
    (types,) = warehouse.execute(
        "SELECT list(DISTINCT period_type) FROM marts.indicator_values "
        "WHERE indicator_id IN ('FI01', 'FI02', 'FI03', 'FI04', 'PA03')"
    ).fetchone()
    assert types == ["YEAR"]


# --- PA01, PA02: YEAR and QUARTER, provider = the grant's applicant ------------------------------


def test_pa01_payouts_within_30_days(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Requests paid in P; of those paid <= 30 days after receipt. 2025: A r_a24_2 (45 days: no),
    # r_a25_1 (exactly 30: yes), r_a25_2 (31: no) -> 1 / 3; B r_b25 (19) 1 / 1; C r_c25_1 (21),
    # r_c25_2 (exactly 30) 2 / 2. Unpaid r_a25_3 is not in the denominator.
    assert published(warehouse, "PA01", "2025", "TRAEGER", A) == shown(1, 3)
    assert published(warehouse, "PA01", "2025", "TRAEGER", B) == shown(1, 1)
    assert published(warehouse, "PA01", "2025", "KREIS", "08115") == shown(2, 4)
    assert published(warehouse, "PA01", "2025", "RB", "082") == shown(2, 2)
    assert published(warehouse, "PA01", "2025", "LAND", "08") == shown(4, 6)
    # 2024: r_a24_1 (exactly 30 days) and r_b24 -> 2 / 2.
    assert published(warehouse, "PA01", "2024", "LAND", "08") == shown(2, 2)


def test_pa01_quarter_of_payment(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 2025Q1 (paid 01-01..03-31): A r_a24_2 (no), r_a25_1 (yes) -> 1 / 2; B and C paid nothing.
    assert published(warehouse, "PA01", "2025Q1", "TRAEGER", A) == shown(1, 2)
    assert published(warehouse, "PA01", "2025Q1", "TRAEGER", B) == shown(0, 0)
    assert published(warehouse, "PA01", "2025Q1", "LAND", "08") == shown(1, 2)
    # 2025Q2: B r_b25 (04-20), C r_c25_1 (received in Q1, paid 04-10) -> Kreis 1 / 1, RB 082
    # 1 / 1, Land 2 / 2. 2025Q3: A r_a25_2 (31 days, paid 07-02) -> 0 / 1.
    assert published(warehouse, "PA01", "2025Q2", "KREIS", "08115") == shown(1, 1)
    assert published(warehouse, "PA01", "2025Q2", "RB", "082") == shown(1, 1)
    assert published(warehouse, "PA01", "2025Q2", "LAND", "08") == shown(2, 2)
    assert published(warehouse, "PA01", "2025Q3", "TRAEGER", A) == shown(0, 1)


def test_pa02_queries_per_request(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Requests received in P; sum of their rueckfragen. 2025: A r_a25_1 0 + r_a25_2 3 + r_a25_3 0
    # (unpaid requests count) -> 3 / 3; B r_b25 1 / 1; C r_c25_1 2 + r_c25_2 1 -> 3 / 2.
    assert published(warehouse, "PA02", "2025", "TRAEGER", A) == shown(3, 3)
    assert published(warehouse, "PA02", "2025", "TRAEGER", C) == shown(3, 2)
    assert published(warehouse, "PA02", "2025", "KREIS", "08115") == shown(4, 4)
    assert published(warehouse, "PA02", "2025", "RB", "082") == shown(3, 2)
    assert published(warehouse, "PA02", "2025", "LAND", "08") == shown(7, 6)
    # 2025Q2 (received 04-01..06-30): A r_a25_2 3 / 1, B r_b25 1 / 1, C none (r_c25_1 came in
    # Q1) -> Kreis 4 / 2, RB 082 0 / 0, Land 4 / 2.
    assert published(warehouse, "PA02", "2025Q2", "TRAEGER", A) == shown(3, 1)
    assert published(warehouse, "PA02", "2025Q2", "KREIS", "08115") == shown(4, 2)
    assert published(warehouse, "PA02", "2025Q2", "RB", "082") == shown(0, 0)
    assert published(warehouse, "PA02", "2025Q2", "LAND", "08") == shown(4, 2)


# --- DQ01, DQ02 ------------------------------------------------------------------------------


def test_dq01_complete_deliveries_year(warehouse: duckdb.DuckDBPyConnection) -> None:
    # v2 denominator: providers with a delivery obligation (meldepflichten.csv) overlapping P —
    # here each grant obliges its applicant for the grant's period, so the same providers as v1's
    # grant applicants: 2025: A (g_a25), B (g_b 2024-07..2026-06), C (g_c). Numerator: all 8
    # extracts with a current accepted snapshot with stand >= P.eend = 2025-12-31. A: everything at
    # 2026-01-15 (plaene, ziele as empty snapshots) -> yes. B: ergebnisse only 2025-09-30 -> no.
    # C: ergebnisse accepted only 2025-09-29 (the 2025-12-31 file was rejected) -> no.
    assert published(warehouse, "DQ01", "2025", "TRAEGER", A) == shown(1, 1)
    assert published(warehouse, "DQ01", "2025", "TRAEGER", B) == shown(0, 1)
    assert published(warehouse, "DQ01", "2025", "KREIS", "08115") == shown(1, 2)
    assert published(warehouse, "DQ01", "2025", "RB", "081") == shown(1, 2)
    assert published(warehouse, "DQ01", "2025", "RB", "082") == shown(0, 1)
    assert published(warehouse, "DQ01", "2025", "LAND", "08") == shown(1, 3)
    # 2024: A (g_a24) and B (g_b from 2024-07) are complete through 2024-12-31; C has no grant in
    # 2024 -> Land 2 / 2, RB 082 0 / 0. 2026 (to date: P.eend = R = 2026-01-15): only B's
    # obligation runs, its ergebnisse (2025-09-30) is older than R -> 0 / 1.
    assert published(warehouse, "DQ01", "2024", "LAND", "08") == shown(2, 2)
    assert published(warehouse, "DQ01", "2024", "RB", "082") == shown(0, 0)
    assert published(warehouse, "DQ01", "2026", "LAND", "08") == shown(0, 1)


def test_dq01_stand_on_period_end_counts(warehouse: duckdb.DuckDBPyConnection) -> None:
    # 2025Q3 ends 2025-09-30: B's ergebnisse stand 2025-09-30 = P.end counts; C's 2025-09-29 =
    # P.end - 1 does not; A is complete -> Kreis 2 / 2, RB 082 0 / 1, Land 2 / 3.
    assert published(warehouse, "DQ01", "2025Q3", "TRAEGER", B) == shown(1, 1)
    assert published(warehouse, "DQ01", "2025Q3", "TRAEGER", C) == shown(0, 1)
    assert published(warehouse, "DQ01", "2025Q3", "KREIS", "08115") == shown(2, 2)
    assert published(warehouse, "DQ01", "2025Q3", "RB", "082") == shown(0, 1)
    assert published(warehouse, "DQ01", "2025Q3", "LAND", "08") == shown(2, 3)
    # 2025Q2 (ends 06-30): all three complete.
    assert published(warehouse, "DQ01", "2025Q2", "LAND", "08") == shown(3, 3)


def test_dq02_accepted_rows_year(warehouse: duckdb.DuckDBPyConnection) -> None:
    # Files with stand in 2025: A kontakte 2025-06-30 (accepted, 39 of 40 rows) and faelle
    # 2025-03-31 (unreadable: rows unknown, 0 of 0) -> 39 / 40. B ergebnisse 2025-09-30 -> 1 / 1.
    # C ergebnisse 2025-09-29 (2 / 2) and 2025-12-31 (rejected whole: 0 of 10) -> 2 / 12.
    assert published(warehouse, "DQ02", "2025", "TRAEGER", A) == shown(39, 40)
    assert published(warehouse, "DQ02", "2025", "TRAEGER", B) == shown(1, 1)
    assert published(warehouse, "DQ02", "2025", "TRAEGER", C) == shown(2, 12)
    assert published(warehouse, "DQ02", "2025", "KREIS", "08115") == shown(40, 41)
    assert published(warehouse, "DQ02", "2025", "RB", "081") == shown(40, 41)
    assert published(warehouse, "DQ02", "2025", "RB", "082") == shown(2, 12)
    assert published(warehouse, "DQ02", "2025", "LAND", "08") == shown(42, 53)


def test_dq02_accepted_rows_quarters_and_current_snapshots(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    # 2025Q1: only A's unreadable file -> 0 / 0. 2025Q3: B 1 / 1 + C 2 / 2 -> Land 3 / 3.
    # 2025Q4: C's rejected file -> 0 / 10.
    assert published(warehouse, "DQ02", "2025Q1", "TRAEGER", A) == shown(0, 0)
    assert published(warehouse, "DQ02", "2025Q3", "KREIS", "08115") == shown(1, 1)
    assert published(warehouse, "DQ02", "2025Q3", "LAND", "08") == shown(3, 3)
    assert published(warehouse, "DQ02", "2025Q4", "RB", "082") == shown(0, 10)
    # 2026 (stand 2026-01-15): B personen 2 + aufenthalt 2 + faelle 2 + kontakte 3 + stellen 1
    # + empty plaene and ziele = 10 / 10; its DUPLICATE kontakte file is not counted again. A:
    # 6 + 7 + 6 + 12 + ergebnisse 1 + stellen 1 = 33; C: 3 + 3 + 3 + 4 + 1 = 14. The authority's
    # files are no provider's -> Land 57 / 57.
    assert published(warehouse, "DQ02", "2026", "TRAEGER", B) == shown(10, 10)
    assert published(warehouse, "DQ02", "2026", "LAND", "08") == shown(57, 57)


# --- cross-checks -------------------------------------------------------------------------------


def test_el_rows_follow_the_disclosure_pattern(warehouse: duckdb.DuckDBPyConnection) -> None:
    # every EL row: 2024 and 2025 with their quarters, 2026 and 2026Q1 (12 periods) x 8 units x 3
    # indicators; no Land EL row is a secondary cell
    ids = ["EL01", "EL02", "EL03"]
    assert assert_rows_follow_the_disclosure_pattern(warehouse, ids, land_secondary=False) == (
        3 * 12 * 8
    )


def test_funding_payout_and_dq_rows_are_never_suppressed(
    warehouse: duckdb.DuckDBPyConnection,
) -> None:
    (n,) = warehouse.execute(
        "SELECT count(*) FROM published.indicator_values "
        "WHERE regexp_matches(indicator_id, '^(FI|PA|DQ)') AND (suppressed OR numerator IS NULL)"
    ).fetchone()
    assert n == 0
    (base_ns,) = warehouse.execute(
        "SELECT list(DISTINCT indicator_id ORDER BY indicator_id) FROM marts.indicator_values "
        "WHERE regexp_matches(indicator_id, '^(FI|PA|DQ)') AND base_n IS NOT NULL"
    ).fetchone()
    assert base_ns == ["FI03"]
