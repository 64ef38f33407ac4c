"""Funding rules: each turns grant-years into what the state pays for them.

A grant-year (g, Y) exists where a proof of use exists (INDICATORS.md). Inputs per grant-year:
`paid_eur` (payouts for funding year Y, whenever paid), `recovery_eur`, `actual_cost_eur`
(staff + material costs proven), `fte_actual` (proven FTE) and `case_years` (weighted active
case-years, `funding_sim.simulate.case_years`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

IST_GROSS = "IST_BRUTTO"
IST_NET = "IST_NETTO"
FLAT = "PAUSCHALE"
COST_SHARE = "KOSTENANTEIL"
CASELOAD = "FALLPAUSCHALE"


@dataclass(frozen=True)
class Rule:
    name: str
    parameter_name: str | None = None
    parameter_value: float | None = None
    cap_at_cost: bool = False
    cap_eur_per_fte: float | None = None

    def paid(self) -> pl.Expr:
        """What the rule pays for one grant-year (column expression)."""
        v = self.parameter_value
        if self.name == IST_GROSS:
            amount = pl.col("paid_eur")
        elif self.name == IST_NET:
            amount = pl.col("paid_eur") - pl.col("recovery_eur")
        elif self.name == FLAT:
            amount = pl.lit(v) * pl.col("fte_actual")
        elif self.name == COST_SHARE:
            amount = pl.lit(v) * pl.col("actual_cost_eur")
        elif self.name == CASELOAD:
            amount = pl.lit(v) * pl.col("case_years")
        else:
            raise ValueError(f"unknown funding rule {self.name!r}")
        if self.cap_eur_per_fte is not None:
            amount = pl.min_horizontal(amount, pl.lit(self.cap_eur_per_fte) * pl.col("fte_actual"))
        if self.cap_at_cost:
            amount = pl.min_horizontal(amount, pl.col("actual_cost_eur"))
        return amount.cast(pl.Float64)

    @property
    def label(self) -> str:
        parts = [self.name]
        if self.parameter_name:
            parts.append(f"{self.parameter_name}={self.parameter_value:g}")
        if self.cap_eur_per_fte is not None:
            parts.append(f"deckel_je_vzae={self.cap_eur_per_fte:g}")
        if self.cap_at_cost:
            parts.append("deckel_ist_kosten")
        return " ".join(parts)


def default_rules(
    flat_rates: tuple[float, ...],
    cost_shares: tuple[float, ...],
    cost_share_cap: float,
    caseload_rates: tuple[float, ...],
) -> list[Rule]:
    """The status quo (gross and net of recoveries) and every alternative of the grid."""
    rules = [Rule(IST_GROSS), Rule(IST_NET)]
    for rate in flat_rates:
        for cap in (False, True):
            rules.append(Rule(FLAT, "satz_eur_je_vzae", rate, cap_at_cost=cap))
    for share in cost_shares:
        rules.append(Rule(COST_SHARE, "anteil", share, cap_eur_per_fte=cost_share_cap))
    for rate in caseload_rates:
        for cap in (False, True):
            rules.append(Rule(CASELOAD, "satz_eur_je_falljahr", rate, cap_at_cost=cap))
    return rules
