"""The funding simulator's inputs from the build database (dbt models), and the nightly build's
simulation: the published one when nothing it is computed from changed since it was computed.

`inputs_digest` hashes what the simulation reads — the grant-years, payouts, proofs of use,
budget and cases as `read_inputs` gives them (sorted by all their columns, whatever the tables'
layout: `core.digests.frame_digest`), R,
the assumptions file's sha256 (its funding grid) — with this package's source and the versions of
numpy and polars. `forecast.warehouse.write_published` records it in `meta.funding_inputs` in the
same transaction as the table; a build whose digest is the recorded one leaves the table as
published (`build_simulation`). A correction that changes only contacts (which the simulator
does not read) no longer pays the simulation (1.1 s on `bw`, 2026-12-05).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from core.digests import code_digest, frame_digest
from forecast.scenarios import FundingSettings
from forecast.warehouse import recorded_digest, reference_date
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
    # each sorted by all its columns: DuckDB returns the rows in any order (a table built by
    # provider holds them in the order its builds appended them), so the frames, and the order of
    # the simulation's sums over them, do not depend on the tables' layout. (The case-years, the
    # one sum over millions of rows, polars' threads sum in an order of their own: they are
    # summed exactly, as whole days, `simulate.case_years`.)
    return {
        k: con.sql(sql.format(gid=gid)).pl().cast(schemas[k]).sort(pl.all(), nulls_last=True)
        for k, sql in q.items()
    }


def run_simulation(
    con: duckdb.DuckDBPyConnection, settings: FundingSettings, rules: list[Rule] | None = None
) -> pl.DataFrame:
    """`funding_scenarios` for `rules` (default: the grid of the assumptions file)."""
    return _simulated(con, read_inputs(con), settings, rules)


def _simulated(
    con: duckdb.DuckDBPyConnection,
    data: dict[str, pl.DataFrame],
    settings: FundingSettings,
    rules: list[Rule] | None = None,
) -> pl.DataFrame:
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


DIGEST_TABLE = "funding_inputs"
"""`meta.funding_inputs`: the digest of the inputs the published simulation was computed from."""
_CODE_VERSION = code_digest(sorted(Path(__file__).parent.glob("*.py")), ("numpy", "polars"))
"""The simulator's code (this package) and the libraries it computes with."""


def inputs_digest(data: dict[str, pl.DataFrame], r: date | None, assumptions_sha256: str) -> str:
    """Hex SHA-256 of everything the build's simulation is computed from (module docstring):
    `read_inputs`' frames, R (None without a provider snapshot) and the assumptions file."""
    digest = hashlib.sha256(_CODE_VERSION)
    digest.update(f"{assumptions_sha256}|R={r}|".encode())
    for name in sorted(data):
        frame = data[name]
        # in any row order (`read_inputs` sorts them; the digest does not rely on it)
        digest.update(name.encode() + frame_digest(frame.sort(frame.columns, nulls_last=True)))
    return digest.hexdigest()


def _reference_date(con: duckdb.DuckDBPyConnection) -> date | None:
    try:
        return reference_date(con)
    except ValueError:  # no provider snapshot: no R (and nothing to simulate)
        return None


@dataclass(frozen=True)
class BuildSimulation:
    """The build's simulation: the table computed anew (None when `kept`: the published one is
    the one these inputs give), its rows, and the digest of its inputs."""

    table: pl.DataFrame | None
    rows: int
    digest: str

    @property
    def kept(self) -> bool:
        return self.table is None


def build_simulation(
    con: duckdb.DuckDBPyConnection,
    settings: FundingSettings,
    assumptions_sha256: str,
    published_table: str,
    *,
    anew: bool = False,
) -> BuildSimulation:
    """The nightly build's simulation of the assumptions file's grid: `published_table` as
    published when the recorded digest is its inputs' (module docstring), else computed; `anew`
    (`imw build --full-refresh`): computed in any case."""
    data = read_inputs(con)
    digest = inputs_digest(data, _reference_date(con), assumptions_sha256)
    if not anew and recorded_digest(con, DIGEST_TABLE) == digest:
        try:
            rows = con.execute(f'SELECT count(*) FROM published."{published_table}"').fetchall()
            return BuildSimulation(None, rows[0][0], digest)
        except duckdb.CatalogException:  # the table gone: computed again
            pass
    table = _simulated(con, data, settings)
    return BuildSimulation(table, table.height, digest)
