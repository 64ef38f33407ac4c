"""`imw simulate-funding` on a hand-made build database (the two-grant fixture of
test_funding_sim): a German table on stdout and every figure in the CSV."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest
from dbt_fixture import fixture_id_sql
from test_funding_sim import BUDGET, GRANT_YEARS, PAYOUTS, PROOFS

from cli.main import main


@pytest.fixture
def home(tmp_path):
    (tmp_path / "warehouse").mkdir()
    cases = pl.DataFrame(
        {
            "provider": ["08115"],
            "case_type": ["CM"],
            "first_contact_date": [date(2023, 1, 1)],
            "closure_date": [None],
        },
        schema={
            "provider": pl.String,
            "case_type": pl.String,
            "first_contact_date": pl.Date,
            "closure_date": pl.Date,
        },
    )
    batches = pl.DataFrame({"provider": ["08115", "08"], "stand": [date(2024, 12, 31)] * 2})
    tables = {
        "intermediate.int_grant_years": GRANT_YEARS,
        "intermediate.int_payout_requests": PAYOUTS.with_columns(pl.lit(True).alias("is_paid")),
        "intermediate.int_cases": cases,
        "staging.stg_proofs_of_use": PROOFS,
        "staging.stg_budget": BUDGET,
        "staging.stg_current_batches": batches,
    }
    with duckdb.connect(str(tmp_path / "warehouse" / "build.duckdb")) as con:
        con.execute("CREATE SCHEMA intermediate")
        con.execute("CREATE SCHEMA staging")
        for name, frame in tables.items():
            # grant ids as a build stores them: warehouse ids (UHUGEINT), here "G1"'s bytes padded
            as_id = (
                f" REPLACE ({fixture_id_sql('grant_id')} AS grant_id)"
                if "grant_id" in frame.columns
                else ""
            )
            con.register("f", frame.to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT *{as_id} FROM f")
            con.unregister("f")
    return tmp_path


def test_simulate_funding_prints_german_figures_and_writes_csv(home, capsys):
    out = home / "flat.csv"
    code = main(
        ["simulate-funding", "--home", str(home), "--rule", "flat", "--rate", "70000", "--cap",
         "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    # capped flat rate 70,000: G1 60,000 (its cost) + G2 35,000 = 95,000 paid against 100,000
    assert "95.000" in text and "100.000" in text
    assert "Überfinanzierung" in text and "aus Resten gedeckt" in text
    csv = pl.read_csv(out)
    land = csv.filter((pl.col("view") == "grant_year") & (pl.col("level") == "LAND"))
    assert land["paid_eur"].to_list() == [95_000.0]
    assert land["underfinancing_eur"].to_list() == [5_000.0]  # G2: 40,000 - 35,000


def test_simulate_funding_needs_a_rate(home, capsys):
    assert main(["simulate-funding", "--home", str(home), "--rule", "flat"]) == 2
    assert "--rate" in capsys.readouterr().err
