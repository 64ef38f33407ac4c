"""What each funding rule would have paid per grant-year and unit, and the budget it leaves.

Two views, both in `funding_scenarios`:

- `grant_year` (per funding year Y and unit: Land, RB, Kreis of the grant's applicant): paid,
  proven costs, overfinancing Σ max(0, paid − cost), underfinancing Σ max(0, cost − paid), and
  the number of grant-years over- and under-financed.
- `budget` (Land, per cash year): the rule's payments land in the cash years in which the grant-year
  was actually paid (pro rata to its payouts by `ausgezahlt_am`; the funding year when nothing was
  paid), recoveries (IST_NETTO only) in the year the proof was checked (else received). Starting
  from the first budget year's reported residues, each year has appropriation + residues carried
  in available; what is not spent is carried into the next year (Ausgabereste), a shortfall
  carries nothing. `residues_cover_eur` = min(residues carried in, spent): how much of the
  year's need the residues of earlier years could have covered (request 2: spend residues
  first); `fresh_need_eur` = the rest, the appropriation actually needed.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from funding_sim.rules import IST_NET, Rule

GRANT_YEARS_SCHEMA = {
    "grant_id": pl.String,
    "provider": pl.String,
    "funding_year": pl.Int64,
    "actual_cost_eur": pl.Float64,
    "fte_actual": pl.Float64,
    "recovery_eur": pl.Float64,
    "paid_eur": pl.Float64,
}
PAYOUTS_SCHEMA = {
    "grant_id": pl.String,
    "funding_year": pl.Int64,
    "paid_on": pl.Date,
    "amount_paid_eur": pl.Float64,
}
PROOFS_SCHEMA = {
    "grant_id": pl.String,
    "funding_year": pl.Int64,
    "received_on": pl.Date,
    "checked_on": pl.Date,
}
BUDGET_SCHEMA = {
    "budget_year": pl.Int64,
    "appropriation_eur": pl.Float64,
    "carryover_eur": pl.Float64,
}
CASES_SCHEMA = {
    "provider": pl.String,
    "case_type": pl.String,
    "first_contact": pl.Date,
    "closure": pl.Date,
}
GY_KEY = ["grant_id", "funding_year"]
OUTPUT_SCHEMA = {
    "view": pl.String,
    "rule": pl.String,
    "parameter_name": pl.String,
    "parameter_value": pl.Float64,
    "cap_at_cost": pl.Boolean,
    "cap_eur_per_fte": pl.Float64,
    "rule_label": pl.String,
    "year": pl.Int64,
    "level": pl.String,
    "unit_code": pl.String,
    "grant_years": pl.Int64,
    "paid_eur": pl.Float64,
    "cost_eur": pl.Float64,
    "overfinancing_eur": pl.Float64,
    "underfinancing_eur": pl.Float64,
    "grants_overfinanced": pl.Int64,
    "grants_underfinanced": pl.Int64,
    "appropriation_eur": pl.Float64,
    "residues_in_eur": pl.Float64,
    "spent_eur": pl.Float64,
    "unspent_eur": pl.Float64,
    "residues_cover_eur": pl.Float64,
    "fresh_need_eur": pl.Float64,
}


def case_years(
    grant_years: pl.DataFrame,
    cases: pl.DataFrame,
    weights: dict[str, float],
    reference_date: date,
) -> pl.DataFrame:
    """`grant_years` with `case_years`: weighted active case-years of the cases the grant-year
    funds — the applicant's own cases and, for a Kreis applicant, those of the Gemeinden in it
    that have no grant-year of their own that year — split among the applicant's grant-years of
    the year by proven FTE. A case's years in Y = days in [max(first contact, Y-01-01),
    min(closure or R, Y-12-31)], both ends counted, / 365.25, times its type's weight."""
    years = grant_years.select("funding_year").unique()
    own = (
        grant_years.select("provider", "funding_year")
        .unique()
        .with_columns(pl.lit(True).alias("has_own"))
    )
    c = cases.join(years, how="cross").with_columns(
        pl.max_horizontal(pl.col("first_contact"), pl.date(pl.col("funding_year"), 1, 1)).alias(
            "a"
        ),
        pl.min_horizontal(
            pl.coalesce("closure", pl.lit(reference_date)),
            pl.lit(reference_date),
            pl.date(pl.col("funding_year"), 12, 31),
        ).alias("b"),
    )
    c = c.filter(pl.col("b") >= pl.col("a")).with_columns(
        ((pl.col("b") - pl.col("a")).dt.total_days() + 1).alias("days")
    )
    c = c.join(own, on=["provider", "funding_year"], how="left").with_columns(
        pl.when(pl.col("has_own").fill_null(False))
        .then(pl.col("provider"))
        .otherwise(pl.col("provider").str.slice(0, 5))
        .alias("applicant")
    )
    # The days summed per case type as integers, then weighted, the types in one order: a sum of
    # millions of float case-years over polars' threads came out different in its last digits
    # from one run to the next (case_years by up to 2.5e-11 on `bw`, 2026-12-07), and with it
    # every published figure of the simulation. An integer sum is exact in any order.
    types = sorted(weights)
    per_applicant = (
        c.group_by("applicant", "funding_year")
        .agg(
            pl.col("days").filter(pl.col("case_type") == t).sum().alias(f"days_{t}") for t in types
        )
        .with_columns(
            pl.sum_horizontal(pl.col(f"days_{t}") / 365.25 * weights[t] for t in types).alias("cy")
        )
        .select("applicant", "funding_year", "cy")
    )
    fte_total = pl.col("fte_actual").sum().over("provider", "funding_year")
    return (
        grant_years.join(
            per_applicant.rename({"applicant": "provider"}),
            on=["provider", "funding_year"],
            how="left",
        )
        .with_columns(
            (
                pl.col("cy").fill_null(0.0)
                * pl.when(fte_total > 0)
                .then(pl.col("fte_actual") / fte_total)
                .otherwise(1.0 / pl.len().over("provider", "funding_year"))
            ).alias("case_years")
        )
        .drop("cy")
    )


def _rule_columns(rule: Rule) -> dict[str, pl.Expr]:
    return {
        "rule": pl.lit(rule.name),
        "parameter_name": pl.lit(rule.parameter_name, pl.String),
        "parameter_value": pl.lit(rule.parameter_value, pl.Float64),
        "cap_at_cost": pl.lit(rule.cap_at_cost),
        "cap_eur_per_fte": pl.lit(rule.cap_eur_per_fte, pl.Float64),
        "rule_label": pl.lit(rule.label),
    }


RULE_KEY = [
    "rule",
    "parameter_name",
    "parameter_value",
    "cap_at_cost",
    "cap_eur_per_fte",
    "rule_label",
]


def simulated_payments(grant_years: pl.DataFrame, rules: list[Rule]) -> pl.DataFrame:
    """One row per rule and grant-year with `sim_paid_eur`."""
    return pl.concat(
        [
            grant_years.with_columns(rule.paid().alias("sim_paid_eur"), **_rule_columns(rule))
            for rule in rules
        ]
    )


def grant_year_view(payments: pl.DataFrame) -> pl.DataFrame:
    units = pl.concat(
        [
            payments.with_columns(pl.lit("LAND").alias("level"), pl.lit("08").alias("unit_code")),
            payments.with_columns(
                pl.lit("RB").alias("level"), pl.col("provider").str.slice(0, 3).alias("unit_code")
            ),
            payments.with_columns(
                pl.lit("KREIS").alias("level"),
                pl.col("provider").str.slice(0, 5).alias("unit_code"),
            ),
        ]
    )
    diff = pl.col("sim_paid_eur") - pl.col("actual_cost_eur")
    return (
        units.group_by([*RULE_KEY, "funding_year", "level", "unit_code"])
        .agg(
            pl.len().cast(pl.Int64).alias("grant_years"),
            pl.col("sim_paid_eur").sum().alias("paid_eur"),
            pl.col("actual_cost_eur").sum().alias("cost_eur"),
            diff.clip(lower_bound=0).sum().alias("overfinancing_eur"),
            (-diff).clip(lower_bound=0).sum().alias("underfinancing_eur"),
            (diff > 0).sum().cast(pl.Int64).alias("grants_overfinanced"),
            (diff < 0).sum().cast(pl.Int64).alias("grants_underfinanced"),
        )
        .rename({"funding_year": "year"})
        .with_columns(pl.lit("grant_year").alias("view"))
    )


def cash_shares(grant_years: pl.DataFrame, payouts: pl.DataFrame) -> pl.DataFrame:
    """Per grant-year, the share of its payouts made in each cash year (1.0 in the funding year
    when nothing was paid)."""
    paid = (
        payouts.filter(pl.col("paid_on").is_not_null() & (pl.col("amount_paid_eur") > 0))
        .group_by(*GY_KEY, pl.col("paid_on").dt.year().cast(pl.Int64).alias("cash_year"))
        .agg(pl.col("amount_paid_eur").sum().alias("amount"))
        .join(grant_years.select(GY_KEY), on=GY_KEY, how="semi")
        .with_columns((pl.col("amount") / pl.col("amount").sum().over(GY_KEY)).alias("share"))
        .select(*GY_KEY, "cash_year", "share")
    )
    unpaid = (
        grant_years.select(GY_KEY)
        .join(paid, on=GY_KEY, how="anti")
        .with_columns(pl.col("funding_year").alias("cash_year"), pl.lit(1.0).alias("share"))
    )
    return pl.concat([paid, unpaid])


def budget_view(
    payments: pl.DataFrame,
    grant_years: pl.DataFrame,
    payouts: pl.DataFrame,
    proofs: pl.DataFrame,
    budget: pl.DataFrame,
) -> pl.DataFrame:
    """Land rows per rule and cash year: appropriation, residues carried in (simulated), spent,
    unspent, the part of the need the residues covered and the fresh need."""
    shares = cash_shares(grant_years, payouts)
    cash = (
        payments.join(shares, on=GY_KEY)
        .group_by(*RULE_KEY, "cash_year")
        # IST_NETTO: the gross payouts leave when they were paid; the recovery comes back later
        .agg(
            pl.when(pl.col("rule") == IST_NET)
            .then(pl.col("paid_eur"))
            .otherwise(pl.col("sim_paid_eur"))
            .mul(pl.col("share"))
            .sum()
            .alias("spent")
        )
    )
    recovered = (
        grant_years.filter(pl.col("recovery_eur") > 0)
        .join(proofs, on=GY_KEY, how="left")
        .select(
            pl.coalesce(
                pl.col("checked_on").dt.year(),
                pl.col("received_on").dt.year(),
                pl.col("funding_year") + 1,
            )
            .cast(pl.Int64)
            .alias("cash_year"),
            (-pl.col("recovery_eur")).alias("spent"),
        )
    )
    rules = payments.select(RULE_KEY).unique()
    net_rules = rules.filter(pl.col("rule") == IST_NET)
    cash = pl.concat([cash, net_rules.join(recovered, how="cross").select(cash.columns)])
    years = sorted(
        set(budget["budget_year"].to_list()) | set(cash["cash_year"].drop_nulls().to_list())
    )
    if not years or budget.is_empty():
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    grid = rules.join(pl.DataFrame({"year": years}, schema={"year": pl.Int64}), how="cross")
    spent = cash.group_by(*RULE_KEY, "cash_year").agg(pl.col("spent").sum())
    frame = (
        grid.join(
            spent.rename({"cash_year": "year"}),
            on=[*RULE_KEY, "year"],
            how="left",
            nulls_equal=True,
        )
        .join(budget.rename({"budget_year": "year"}), on="year", how="left")
        .with_columns(pl.col("spent", "appropriation_eur").fill_null(0.0))
        .sort("year")
    )
    first = min(budget["budget_year"].to_list())
    start = float(budget.filter(pl.col("budget_year") == first)["carryover_eur"].fill_null(0)[0])
    # the residue chain runs year by year (each year's carry-in is last year's leftover),
    # vectorised over all rules
    rule_ids = rules.with_row_index("rid")
    frame = frame.join(rule_ids, on=RULE_KEY, nulls_equal=True)
    carry = pl.DataFrame({"rid": rule_ids["rid"], "residues_in_eur": start})
    out = []
    for year in years:
        if year < first:
            continue
        row = frame.filter(pl.col("year") == year).join(carry, on="rid")
        row = row.with_columns(
            (pl.col("appropriation_eur") + pl.col("residues_in_eur") - pl.col("spent")).alias(
                "unspent_eur"
            ),
            pl.min_horizontal(pl.col("residues_in_eur"), pl.col("spent").clip(lower_bound=0)).alias(
                "residues_cover_eur"
            ),
        )
        out.append(row)
        carry = row.select(
            "rid", pl.col("unspent_eur").clip(lower_bound=0).alias("residues_in_eur")
        )
    result = pl.concat(out).with_columns(
        (pl.col("spent") - pl.col("residues_cover_eur")).alias("fresh_need_eur"),
        pl.col("spent").alias("spent_eur"),
        pl.lit("budget").alias("view"),
        pl.lit("LAND").alias("level"),
        pl.lit("08").alias("unit_code"),
    )
    return result


def scenario_table(
    grant_years: pl.DataFrame,
    payouts: pl.DataFrame,
    proofs: pl.DataFrame,
    budget: pl.DataFrame,
    rules: list[Rule],
) -> pl.DataFrame:
    """`funding_scenarios`: both views for every rule (grant_years need `case_years`)."""
    payments = simulated_payments(grant_years, rules)
    views = [grant_year_view(payments), budget_view(payments, grant_years, payouts, proofs, budget)]
    out = pl.concat(
        [v.select([c for c in OUTPUT_SCHEMA if c in v.columns]) for v in views],
        how="diagonal_relaxed",
    )
    return out.select(
        [pl.col(c) if c in out.columns else pl.lit(None).alias(c) for c in OUTPUT_SCHEMA]
    ).cast(OUTPUT_SCHEMA).sort("view", "rule", "parameter_value", "cap_at_cost", "year", "level",
                              "unit_code", nulls_last=True)  # fmt: skip
