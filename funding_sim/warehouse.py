"""The funding simulator's inputs from the build database (dbt models)."""

from __future__ import annotations

import duckdb
import polars as pl

from forecast.scenarios import FundingSettings
from forecast.warehouse import reference_date
from funding_sim.rules import Rule, default_rules
from funding_sim.simulate import (
    BUDGET_SCHEMA,
    CASES_SCHEMA,
    GRANT_YEARS_SCHEMA,
    OUTPUT_SCHEMA,
    PAYOUTS_SCHEMA,
    PROOFS_SCHEMA,
    case_years,
    scenario_table,
)
from ingest.pseudonymise import id_sql_text


def read_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, pl.DataFrame]:
    # a grant's warehouse id (UHUGEINT, which Arrow and polars do not hold) as its 32 hex characters
    gid = f"{id_sql_text('grant_id')} AS grant_id"
    q = {
        "grant_years": """
            SELECT {gid}, provider, funding_year, actual_cost_eur, fte_actual, recovery_eur,
                   paid_eur
            FROM intermediate.int_grant_years WHERE provider IS NOT NULL""",
        "payouts": """
            SELECT {gid}, funding_year, paid_on, amount_paid_eur
            FROM intermediate.int_payout_requests WHERE is_paid""",
        "proofs": """
            SELECT {gid}, funding_year, received_on, checked_on
            FROM staging.stg_proofs_of_use""",
        "budget": "SELECT budget_year, appropriation_eur, carryover_eur FROM staging.stg_budget",
        "cases": """
            SELECT provider, case_type, first_contact_date AS first_contact,
                   closure_date AS closure
            FROM intermediate.int_cases WHERE first_contact_date IS NOT NULL""",
    }
    schemas = {
        "grant_years": GRANT_YEARS_SCHEMA,
        "payouts": PAYOUTS_SCHEMA,
        "proofs": PROOFS_SCHEMA,
        "budget": BUDGET_SCHEMA,
        "cases": CASES_SCHEMA,
    }
    return {k: con.sql(sql.format(gid=gid)).pl().cast(schemas[k]) for k, sql in q.items()}


def run_simulation(
    con: duckdb.DuckDBPyConnection, settings: FundingSettings, rules: list[Rule] | None = None
) -> pl.DataFrame:
    """`funding_scenarios` for `rules` (default: the grid of the assumptions file)."""
    data = read_inputs(con)
    if data["grant_years"].is_empty():
        # no proof of use yet: nothing to simulate, an empty table (not a failed build)
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    grant_years = case_years(
        data["grant_years"], data["cases"], settings.caseload_weights, reference_date(con)
    )
    rules = rules or default_rules(
        settings.flat_rates_eur,
        settings.cost_shares,
        settings.cost_share_cap_eur_per_fte,
        settings.caseload_rates_eur_per_case_year,
    )
    return scenario_table(grant_years, data["payouts"], data["proofs"], data["budget"], rules)
