"""Fördersatz-Simulator on a hand-computed two-grant fixture (every figure worked out below).

Grant-years (both funding year 2023, each with a proof of use):
- G1, applicant Kreis 08115 (RB 081): proven costs 50,000 staff + 10,000 material = 60,000;
  1.0 FTE proven. Two payouts for 2023: 30,000 paid 2023-06-01 and 34,000 paid 2024-02-01 —
  paid in the FOLLOWING year, still funding year 2023 → paid(G1, 2023) = 64,000. A recovery
  (rueckforderung) of 4,000, proof checked 2024-09-30 → returned in cash year 2024.
- G2, applicant Gemeinde 08221001 (Kreis 08221, RB 082): costs 40,000; 0.5 FTE; one payout of
  25,000 paid 2023-10-01; no recovery.
- A third payout (G2, 5,000 for funding year 2024) has no proof of use for 2024: it belongs to no
  grant-year and must change nothing.
Budget: 2023 appropriation 50,000 with 20,000 residues from 2022; 2024 appropriation 60,000
(its reported residues are replaced by the simulated chain).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from funding_sim.rules import CASELOAD, COST_SHARE, FLAT, IST_GROSS, IST_NET, Rule
from funding_sim.simulate import (
    BUDGET_SCHEMA,
    CASES_SCHEMA,
    GRANT_YEARS_SCHEMA,
    PAYOUTS_SCHEMA,
    PROOFS_SCHEMA,
    case_years,
    scenario_table,
)

GRANT_YEARS = pl.DataFrame(
    {
        "grant_id": ["G1", "G2"],
        "provider": ["08115", "08221001"],
        "funding_year": [2023, 2023],
        "actual_cost_eur": [60_000.0, 40_000.0],
        "fte_actual": [1.0, 0.5],
        "recovery_eur": [4_000.0, 0.0],
        "paid_eur": [64_000.0, 25_000.0],  # 30,000 + 34,000; 25,000
    },
    schema=GRANT_YEARS_SCHEMA,
)
PAYOUTS = pl.DataFrame(
    {
        "grant_id": ["G1", "G1", "G2", "G2"],
        "funding_year": [2023, 2023, 2023, 2024],
        "paid_on": [date(2023, 6, 1), date(2024, 2, 1), date(2023, 10, 1), date(2024, 5, 1)],
        "amount_paid_eur": [30_000.0, 34_000.0, 25_000.0, 5_000.0],  # last: no grant-year
    },
    schema=PAYOUTS_SCHEMA,
)
PROOFS = pl.DataFrame(
    {
        "grant_id": ["G1", "G2"],
        "funding_year": [2023, 2023],
        "received_on": [date(2024, 5, 1), date(2024, 6, 1)],
        "checked_on": [date(2024, 9, 30), None],
    },
    schema=PROOFS_SCHEMA,
)
BUDGET = pl.DataFrame(
    {
        "budget_year": [2023, 2024],
        "appropriation_eur": [50_000.0, 60_000.0],
        "carryover_eur": [20_000.0, 999_999.0],  # 2024's reported residues are not used
    },
    schema=BUDGET_SCHEMA,
)
# G1 funds 2.0 weighted case-years, G2 1.0 (the caseload rule's input; case_years() is tested
# below on its own)
WITH_CASES = GRANT_YEARS.with_columns(pl.Series("case_years", [2.0, 1.0]))


def _table(*rules: Rule) -> pl.DataFrame:
    return scenario_table(WITH_CASES, PAYOUTS, PROOFS, BUDGET, list(rules))


def _row(table: pl.DataFrame, view: str, rule: str, year: int, level: str = "LAND", **kw) -> dict:
    f = table.filter(
        (pl.col("view") == view)
        & (pl.col("rule") == rule)
        & (pl.col("year") == year)
        & (pl.col("level") == level)
    )
    for k, v in kw.items():
        f = f.filter(pl.col(k) == v)
    assert f.height == 1, f
    return f.row(0, named=True)


def test_status_quo_gross_and_net() -> None:
    t = _table(Rule(IST_GROSS), Rule(IST_NET))
    gross = _row(t, "grant_year", IST_GROSS, 2023)
    # paid 64,000 + 25,000 = 89,000 against costs 60,000 + 40,000 = 100,000;
    # G1 over by 4,000, G2 under by 15,000
    assert gross["paid_eur"] == pytest.approx(89_000)
    assert gross["cost_eur"] == pytest.approx(100_000)
    assert gross["overfinancing_eur"] == pytest.approx(4_000)
    assert gross["underfinancing_eur"] == pytest.approx(15_000)
    assert (gross["grants_overfinanced"], gross["grants_underfinanced"]) == (1, 1)
    assert gross["grant_years"] == 2
    net = _row(t, "grant_year", IST_NET, 2023)
    # G1 after the 4,000 recovery: 60,000 = its cost, neither over nor under; G2 unchanged
    assert net["paid_eur"] == pytest.approx(85_000)
    assert net["overfinancing_eur"] == pytest.approx(0)
    assert net["underfinancing_eur"] == pytest.approx(15_000)
    assert (net["grants_overfinanced"], net["grants_underfinanced"]) == (0, 1)


def test_status_quo_budget_follows_the_cash() -> None:
    t = _table(Rule(IST_GROSS), Rule(IST_NET))
    g23 = _row(t, "budget", IST_GROSS, 2023)
    # cash 2023: G1 30,000 + G2 25,000 = 55,000; available 50,000 + 20,000 residues = 70,000
    assert g23["spent_eur"] == pytest.approx(55_000)
    assert g23["residues_in_eur"] == pytest.approx(20_000)
    assert g23["unspent_eur"] == pytest.approx(15_000)  # 70,000 - 55,000
    assert g23["residues_cover_eur"] == pytest.approx(20_000)  # min(20,000, 55,000)
    assert g23["fresh_need_eur"] == pytest.approx(35_000)  # 55,000 - 20,000
    g24 = _row(t, "budget", IST_GROSS, 2024)
    # cash 2024: G1's 34,000 paid in the following year (G2's 5,000 for 2024 has no grant-year);
    # residues carried in: 15,000 (not the reported 999,999)
    assert g24["spent_eur"] == pytest.approx(34_000)
    assert g24["residues_in_eur"] == pytest.approx(15_000)
    assert g24["unspent_eur"] == pytest.approx(41_000)  # 60,000 + 15,000 - 34,000
    assert g24["residues_cover_eur"] == pytest.approx(15_000)
    assert g24["fresh_need_eur"] == pytest.approx(19_000)  # 34,000 - 15,000
    n24 = _row(t, "budget", IST_NET, 2024)
    # the 4,000 recovery comes back in 2024 (proof checked 2024-09-30): 34,000 - 4,000
    assert n24["spent_eur"] == pytest.approx(30_000)
    assert n24["unspent_eur"] == pytest.approx(45_000)  # 60,000 + 15,000 - 30,000


def test_flat_rate_with_and_without_cap() -> None:
    t = _table(
        Rule(FLAT, "satz_eur_je_vzae", 70_000, cap_at_cost=False),
        Rule(FLAT, "satz_eur_je_vzae", 70_000, cap_at_cost=True),
        Rule(FLAT, "satz_eur_je_vzae", 55_000, cap_at_cost=False),
    )
    free = _row(t, "grant_year", FLAT, 2023, parameter_value=70_000.0, cap_at_cost=False)
    # G1 70,000 × 1.0 = 70,000 (10,000 over); G2 70,000 × 0.5 = 35,000 (5,000 under)
    assert free["paid_eur"] == pytest.approx(105_000)
    assert free["overfinancing_eur"] == pytest.approx(10_000)
    assert free["underfinancing_eur"] == pytest.approx(5_000)
    capped = _row(t, "grant_year", FLAT, 2023, parameter_value=70_000.0, cap_at_cost=True)
    # the cap cuts G1 to its cost 60,000; G2 stays at 35,000
    assert capped["paid_eur"] == pytest.approx(95_000)
    assert capped["overfinancing_eur"] == pytest.approx(0)
    assert capped["underfinancing_eur"] == pytest.approx(5_000)
    assert (capped["grants_overfinanced"], capped["grants_underfinanced"]) == (0, 1)
    low = _row(t, "grant_year", FLAT, 2023, parameter_value=55_000.0)
    # 55,000 + 27,500 = 82,500; under by 5,000 + 12,500 = 17,500
    assert low["paid_eur"] == pytest.approx(82_500)
    assert low["underfinancing_eur"] == pytest.approx(17_500)
    b23 = _row(t, "budget", FLAT, 2023, parameter_value=70_000.0, cap_at_cost=False)
    # G1's 70,000 lands like its real payouts: 30/64 in 2023 = 32,812.50, 34/64 in 2024 =
    # 37,187.50; G2's 35,000 all in 2023 → 2023 spent 67,812.50, unspent 70,000 - 67,812.50
    assert b23["spent_eur"] == pytest.approx(67_812.5)
    assert b23["unspent_eur"] == pytest.approx(2_187.5)
    b24 = _row(t, "budget", FLAT, 2024, parameter_value=70_000.0, cap_at_cost=False)
    assert b24["residues_in_eur"] == pytest.approx(2_187.5)
    assert b24["spent_eur"] == pytest.approx(37_187.5)
    assert b24["unspent_eur"] == pytest.approx(25_000)  # 60,000 + 2,187.50 - 37,187.50
    assert b24["residues_cover_eur"] == pytest.approx(2_187.5)


def test_cost_share_and_caseload_rules_and_units() -> None:
    t = _table(
        Rule(COST_SHARE, "anteil", 0.9, cap_eur_per_fte=50_000),
        Rule(CASELOAD, "satz_eur_je_falljahr", 30_000, cap_at_cost=True),
    )
    share = _row(t, "grant_year", COST_SHARE, 2023)
    # G1: min(0.9 × 60,000 = 54,000, 50,000 × 1.0) = 50,000; G2: min(36,000, 25,000) = 25,000
    assert share["paid_eur"] == pytest.approx(75_000)
    assert share["underfinancing_eur"] == pytest.approx(25_000)  # 10,000 + 15,000
    case = _row(t, "grant_year", CASELOAD, 2023)
    # G1: 30,000 × 2.0 = 60,000, capped at cost 60,000; G2: 30,000 × 1.0 = 30,000
    assert case["paid_eur"] == pytest.approx(90_000)
    assert case["underfinancing_eur"] == pytest.approx(10_000)
    rb081 = _row(t, "grant_year", CASELOAD, 2023, level="RB", unit_code="081")
    kreis = _row(t, "grant_year", CASELOAD, 2023, level="KREIS", unit_code="08221")
    assert rb081["paid_eur"] == pytest.approx(60_000)  # G1 only
    assert kreis["paid_eur"] == pytest.approx(30_000)  # G2 (Gemeinde 08221001) in Kreis 08221
    assert set(t.filter(pl.col("view") == "budget")["level"]) == {"LAND"}


def test_case_years_go_to_the_applicant() -> None:
    cases = pl.DataFrame(
        {
            "provider": ["08115", "08115007", "08221001", "08221001", "08221001"],
            "case_type": ["CM", "KB", "CM", "CM", "KB"],
            "first_contact": [
                date(2022, 7, 1),  # open all of 2023: 365 days
                date(2023, 3, 1),  # Gemeinde without own grant → Kreis 08115: 2023-03-01..31
                date(2023, 1, 1),  # closed 2023-07-01: 182 days
                date(2024, 1, 5),  # starts after 2023: nothing
                date(2023, 12, 1),  # open at R = 2023-12-10: 10 days
            ],
            "closure": [None, date(2023, 3, 31), date(2023, 7, 1), None, None],
        },
        schema=CASES_SCHEMA,
    )
    out = case_years(GRANT_YEARS, cases, {"CM": 1.0, "KB": 0.5}, date(2023, 12, 10))
    got = dict(zip(out["grant_id"], out["case_years"], strict=True))
    # R = 2023-12-10 also ends the first case's year: 2023-01-01..12-10 = 344 days (CM, 1.0);
    # the Gemeinde 08115007's KB case 31 days × 0.5 → G1 = (344 + 15.5) / 365.25
    assert got["G1"] == pytest.approx((344 + 15.5) / 365.25)
    # G2: 182 days CM + 10 days KB × 0.5 = 187 / 365.25
    assert got["G2"] == pytest.approx((182 + 5) / 365.25)


def test_case_years_do_not_depend_on_the_cases_order() -> None:
    """Many cases, summed for one grant-year: the same case-years to the last bit in any order of
    the rows (a table built by provider holds them in the order its builds appended them, and
    polars sums over threads). 200,000 open cases, their first contacts spread over 2019-2023,
    in their order, reversed and shuffled."""
    n = 200_000
    cases = pl.DataFrame(
        {
            "provider": ["08115"] * n,
            "case_type": ["CM", "KB"] * (n // 2),
            # first contacts drawn from the 1,826 days of 2019-2023
            "first_contact": pl.date_range(date(2019, 1, 1), date(2023, 12, 31), eager=True).sample(
                n, with_replacement=True, seed=1
            ),
            "closure": [None] * n,
        },
        schema=CASES_SCHEMA,
    )
    weights = {"CM": 1.0, "KB": 0.3}  # 0.3: no sum of thirds is exact in binary

    def g1(frame: pl.DataFrame) -> float:
        out = case_years(GRANT_YEARS, frame, weights, date(2023, 12, 10))
        return out.filter(pl.col("grant_id") == "G1")["case_years"].item()

    first = g1(cases)
    assert first > 0
    assert g1(cases.reverse()) == first
    assert g1(cases.sample(fraction=1.0, shuffle=True, seed=7)) == first
