"""The forecast/simulator tables reach the analysts with the assumptions file's sha256 in
build_info, and are written all together or not at all."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from forecast.warehouse import write_published
from publish.analyst_db import publish


def _build_db(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA published")
        con.execute("CREATE TABLE published.indicator_values AS SELECT 1 AS v")


def test_build_info_names_the_scenario_file_and_its_hash(tmp_path):
    build, pub = tmp_path / "build.duckdb", tmp_path / "pub" / "indicators.duckdb"
    _build_db(build)
    frames = {
        "forecast_caseload": pl.DataFrame({"open_p50": [1.0, 2.0]}),
        "funding_scenarios": pl.DataFrame({"paid_eur": [3.0]}),
    }
    counts = write_published(build, frames, "forecast/scenarios.yaml", "ab" * 32)
    assert counts == {"forecast_caseload": 2, "funding_scenarios": 1}
    publish(build, pub)
    with duckdb.connect(str(pub), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, row_count, input_file, input_sha256 FROM build_info ORDER BY 1"
        ).fetchall()
    assert rows == [
        ("forecast_caseload", 2, "forecast/scenarios.yaml", "ab" * 32),
        ("funding_scenarios", 1, "forecast/scenarios.yaml", "ab" * 32),
        ("indicator_values", 1, None, None),  # a dbt table rests on no assumptions file
    ]


def test_a_failing_table_leaves_the_previous_set_in_place(tmp_path):
    build = tmp_path / "build.duckdb"
    _build_db(build)
    write_published(build, {"forecast_caseload": pl.DataFrame({"x": [1]})}, "f.yaml", "old")
    # the second table cannot be written: its (deliberately broken) name ends the SQL identifier
    with pytest.raises(duckdb.Error):
        write_published(
            build,
            {"forecast_caseload": pl.DataFrame({"x": [2, 3]}), 'forecast"backtest': pl.DataFrame()},
            "f.yaml",
            "new",
        )
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("SELECT x FROM published.forecast_caseload").fetchall() == [(1,)]
        assert con.execute("SELECT input_sha256 FROM meta.published_inputs").fetchall() == [
            ("old",)
        ]
        tables = {r[0] for r in con.execute("SHOW ALL TABLES").fetchall()}
    assert not any("backtest" in t for t in tables)


def test_a_build_without_cases_publishes_empty_forecast_tables(tmp_path):
    from forecast import scenarios
    from forecast.warehouse import CASELOAD_SCHEMA, run_forecast

    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("CREATE SCHEMA staging")
        con.execute("CREATE SCHEMA intermediate")
        # only the funding authority delivered: no provider snapshot, so no R and no cases
        con.execute("CREATE TABLE staging.stg_current_batches AS SELECT '08' AS provider, "
                    "DATE '2026-06-30' AS stand")  # fmt: skip
        con.execute(
            "CREATE TABLE intermediate.int_cases (provider VARCHAR, case_type VARCHAR, "
            "first_contact_date DATE, closure_date DATE)"
        )
    with duckdb.connect(str(build), read_only=True) as con:
        result = run_forecast(con, scenarios.load())
    assert result.reason and "nothing to forecast" in result.reason
    assert result.caseload.is_empty() and result.backtest.is_empty()
    assert result.caseload.schema == pl.Schema(CASELOAD_SCHEMA)
    assert not result.assumptions.is_empty()  # the assumptions are published all the same


def _inputs(**changes):
    """Two Kreise's cases, one position, one grant: a forecast's inputs, by hand."""
    from forecast.warehouse import ForecastInputs

    cases = pl.DataFrame(
        {
            "kreis": ["08111", "08111", "08212"],
            "case_type": ["CM", "KB", "CM"],
            "first_contact": [date(2025, 1, 6), date(2025, 3, 2), date(2026, 2, 1)],
            "closure": [date(2025, 9, 30), None, None],  # two cases still open
        }
    )
    positions = pl.DataFrame(
        {"fte": [1.0], "start_date": [date(2024, 1, 1)], "end_date": [None]},
        schema={"fte": pl.Float64, "start_date": pl.Date, "end_date": pl.Date},
    )
    grants = pl.DataFrame(
        {
            "period_from": [date(2025, 1, 1)],
            "period_to": [date(2026, 12, 31)],
            "amount_eur": [120_000.0],
            "fte_granted": [1.5],
        }
    )
    values = {
        "cases": cases,
        "positions": positions,
        "grants": grants,
        "reference_date": date(2026, 6, 30),
    }
    return ForecastInputs(**{**values, **changes})


def test_the_forecast_digest_changes_with_every_input_and_not_with_row_order():
    from forecast import scenarios
    from forecast.warehouse import inputs_digest

    assumptions = scenarios.load()
    base = _inputs()
    digest = inputs_digest(base, assumptions)
    # the same rows in another order (DuckDB returns them in any): the same forecast
    assert inputs_digest(_inputs(cases=base.cases.reverse()), assumptions) == digest
    one_closed = base.cases.with_columns(
        closure=pl.when(pl.col("case_type") == "KB")
        .then(date(2026, 5, 31))  # the open KB case closes
        .otherwise(pl.col("closure"))
    )
    changed = {
        "a case closed": _inputs(cases=one_closed),
        "a case less": _inputs(cases=base.cases.head(2)),
        # R 2026-07-31: the origin moves from 2026-06-30 to 2026-07-31
        "R a month later": _inputs(reference_date=date(2026, 7, 31)),
        "a position of half the time": _inputs(positions=base.positions.with_columns(fte=0.5)),
        "a grant of another amount": _inputs(grants=base.grants.with_columns(amount_eur=1.0)),
    }
    digests = {why: inputs_digest(inputs, assumptions) for why, inputs in changed.items()}
    assert digest not in digests.values()
    assert len(set(digests.values())) == len(changed)  # and each change another digest
    # What the forecast does not read: R within its origin's month (R 2026-06-30 and 2026-07-15
    # both have the origin 2026-06-30), and what happens to the cases after the origin.
    closed_later = base.cases.with_columns(
        closure=pl.when(pl.col("case_type") == "KB")
        .then(date(2026, 7, 3))  # the open KB case closes after the origin: open at it
        .otherwise(pl.col("closure"))
    )
    after_origin = {"kreis": "08111", "case_type": "CM", "first_contact": date(2026, 7, 2)}
    opened_later = pl.concat(  # a case first contacted after the origin
        [base.cases, pl.DataFrame([{**after_origin, "closure": None}], schema=base.cases.schema)]
    )
    unread = {
        "R later in the month": _inputs(reference_date=date(2026, 7, 15)),
        "a closure after the origin": _inputs(cases=closed_later, reference_date=date(2026, 7, 15)),
        "a case after the origin": _inputs(cases=opened_later, reference_date=date(2026, 7, 15)),
    }
    assert {why: inputs_digest(i, assumptions) for why, i in unread.items()} == dict.fromkeys(
        unread, digest
    )
    other = dataclasses.replace(assumptions, sha256="0" * 64)  # another assumptions file
    assert inputs_digest(base, other) != digest


def test_a_build_keeps_the_forecast_its_inputs_give(tiny_world):
    """The shared tiny world's build recorded the digest of its forecast's inputs: read again,
    the inputs give that digest, the kept tables are those a fresh forecast computes, and other
    inputs find none."""
    from forecast import scenarios
    from forecast.warehouse import (
        build_forecast,
        forecast_from,
        inputs_digest,
        kept_forecast,
        read_inputs,
    )

    assumptions = scenarios.load()
    with duckdb.connect(str(tiny_world.settings.build_db), read_only=True) as con:
        inputs = read_inputs(con)
        built = build_forecast(con, assumptions)
        assert built.kept, "the build recorded no digest, or another one"
        assert built.digest == inputs_digest(inputs, assumptions)
        # R a month later: another origin, nothing kept
        later = dataclasses.replace(inputs, reference_date=inputs.reference_date + timedelta(31))
        assert later.reference_date.month != inputs.reference_date.month
        assert kept_forecast(con, inputs_digest(later, assumptions)) is None
        anew = build_forecast(con, assumptions, anew=True)  # imw build --full-refresh
    kept = built.result
    assert not anew.kept
    fresh = forecast_from(inputs, assumptions)
    assert anew.result.caseload.equals(fresh.caseload)
    assert kept.caseload.height > 0 and kept.backtest.height > 0
    assert kept.caseload.equals(fresh.caseload)
    assert kept.backtest.equals(fresh.backtest)
    assert kept.assumptions.equals(fresh.assumptions)
    assert (kept.origin, kept.reference_date) == (fresh.origin, fresh.reference_date)
    assert (kept.caseload_target, kept.rate_eur_per_fte) == (
        fresh.caseload_target,
        fresh.rate_eur_per_fte,
    )


def test_a_forecast_kept_with_r_later_in_the_month_is_the_one_computed_for_that_r(
    tiny_world, monkeypatch
):
    """R a day later, in the same month as the forecast's origin, and the same cases: the build
    keeps the published forecast with the new R (`restamped`), and that is exactly the forecast
    computed for the new R."""
    import forecast.warehouse
    from forecast import scenarios
    from forecast.needs import forecast_origin
    from forecast.warehouse import build_forecast, forecast_from, read_inputs

    assumptions = scenarios.load()
    with duckdb.connect(str(tiny_world.settings.build_db), read_only=True) as con:
        inputs = read_inputs(con)
        r = inputs.reference_date
        later = dataclasses.replace(inputs, reference_date=r + timedelta(1))
        assert forecast_origin(later.reference_date) == forecast_origin(r)  # the same origin
        monkeypatch.setattr(forecast.warehouse, "read_inputs", lambda _: later)
        built = build_forecast(con, assumptions)
    assert built.restamped and not built.kept  # kept, but its tables must be written again
    fresh = forecast_from(later, assumptions)
    assert built.result.caseload.height > 0
    assert built.result.caseload.equals(fresh.caseload)
    assert built.result.caseload["reference_date"].unique().to_list() == [r + timedelta(1)]
    assert built.result.backtest.equals(fresh.backtest)
    assert built.result.assumptions.equals(fresh.assumptions)
    assert (built.result.origin, built.result.reference_date) == (
        fresh.origin,
        fresh.reference_date,
    )


def test_tables_written_without_a_digest_leave_the_forecasts_digest(tmp_path):
    from forecast.warehouse import kept_forecast

    build = tmp_path / "build.duckdb"
    _build_db(build)
    with duckdb.connect(str(build), read_only=True) as con:
        assert kept_forecast(con, "d" * 64) is None  # nothing recorded yet
    frame = pl.DataFrame({"x": [1]})
    write_published(
        build, {"forecast_caseload": frame}, "f.yaml", "s", digests={"forecast_inputs": "d" * 64}
    )
    write_published(build, {"funding_scenarios": frame}, "f.yaml", "s")  # the simulator's
    with duckdb.connect(str(build), read_only=True) as con:
        assert con.execute("SELECT digest FROM meta.forecast_inputs").fetchall() == [("d" * 64,)]


def _simulator_inputs() -> dict[str, pl.DataFrame]:
    """One grant-year with its payout and proof of use, a budget year, two cases: the funding
    simulator's inputs (`funding_sim.warehouse.read_inputs`), by hand."""
    from funding_sim.simulate import (
        BUDGET_SCHEMA,
        CASES_SCHEMA,
        GRANT_YEARS_SCHEMA,
        PAYOUTS_SCHEMA,
        PROOFS_SCHEMA,
    )

    return {
        "grant_years": pl.DataFrame(
            [("g1", "08111", 2025, 90_000.0, 1.5, 0.0, 100_000.0)],
            schema=GRANT_YEARS_SCHEMA,
            orient="row",
        ),
        "payouts": pl.DataFrame(
            [("g1", 2025, date(2025, 3, 1), 100_000.0)], schema=PAYOUTS_SCHEMA, orient="row"
        ),
        "proofs": pl.DataFrame(
            [("g1", 2025, date(2026, 3, 1), None)], schema=PROOFS_SCHEMA, orient="row"
        ),
        "budget": pl.DataFrame([(2025, 5e6, 0.0)], schema=BUDGET_SCHEMA, orient="row"),
        "cases": pl.DataFrame(
            [
                ("08111", "CM", date(2025, 1, 6), date(2025, 9, 30)),
                ("08111", "KB", date(2025, 3, 2), None),  # still open
            ],
            schema=CASES_SCHEMA,
            orient="row",
        ),
    }


def test_the_simulation_digest_changes_with_every_input_and_not_with_row_order():
    from funding_sim.warehouse import inputs_digest

    base, r, sha = _simulator_inputs(), date(2026, 6, 30), "ab" * 32
    digest = inputs_digest(base, r, sha)
    # the same rows in another order (DuckDB returns them in any): the same simulation
    assert inputs_digest({**base, "cases": base["cases"].reverse()}, r, sha) == digest

    def changed(name: str, **values) -> dict[str, pl.DataFrame]:
        return {**base, name: base[name].with_columns(**values)}

    variants = {
        "another actual cost": (changed("grant_years", actual_cost_eur=80_000.0), r, sha),
        "paid a day later": (changed("payouts", paid_on=date(2025, 3, 2)), r, sha),
        "the proof checked": (changed("proofs", checked_on=date(2026, 4, 1)), r, sha),
        "a carryover": (changed("budget", carryover_eur=1.0), r, sha),
        "the open case closed": (changed("cases", closure=date(2026, 1, 31)), r, sha),
        "a case less": ({**base, "cases": base["cases"].head(1)}, r, sha),
        "R a day later": (base, date(2026, 7, 1), sha),
        "no R": (base, None, sha),
        "another assumptions file": (base, r, "0" * 64),
    }
    digests = {why: inputs_digest(*args) for why, args in variants.items()}
    assert digest not in digests.values()
    assert len(set(digests.values())) == len(variants)  # and each change another digest


def test_a_build_keeps_the_simulation_its_inputs_give(tiny_world):
    """The shared tiny world's build recorded the digest of its simulation's inputs: read again,
    the inputs give that digest and the published table is kept, and computed anew (`imw build
    --full-refresh`) it is the table published."""
    from forecast import scenarios
    from funding_sim.warehouse import build_simulation

    assumptions = scenarios.load()
    with duckdb.connect(str(tiny_world.settings.build_db), read_only=True) as con:
        published = con.sql("SELECT * FROM published.funding_scenarios").pl()
        built = build_simulation(con, assumptions.funding, assumptions.sha256, "funding_scenarios")
        assert built.kept, "the build recorded no digest, or another one"
        assert built.rows == published.height > 0
        anew = build_simulation(
            con, assumptions.funding, assumptions.sha256, "funding_scenarios", anew=True
        )
        other = build_simulation(con, assumptions.funding, "0" * 64, "funding_scenarios")
    assert not anew.kept and anew.digest == built.digest
    assert not other.kept  # another assumptions file: computed
    assert anew.table is not None
    order = list(published.columns)
    assert (
        anew.table.select(order)
        .sort(order, nulls_last=True)
        .equals(published.sort(order, nulls_last=True))
    )


def test_the_simulation_reads_its_inputs_in_one_order(tiny_world, tmp_path):
    """The simulator's inputs come sorted by all their columns, whatever order the tables hold
    their rows in (a table built by provider holds them in the order its builds appended them):
    its sums of floats run in one order, so an incremental build publishes the funding
    scenarios a full build publishes, to the last digit."""
    import shutil

    from funding_sim.warehouse import read_inputs

    copy = tmp_path / "build.duckdb"
    shutil.copy2(tiny_world.settings.build_db, copy)
    with duckdb.connect(str(copy)) as con:
        before = read_inputs(con)
        as_stored = con.sql("SELECT provider, case_id FROM intermediate.int_cases").fetchall()
        for table in ("intermediate.int_cases", "intermediate.int_grant_years"):
            # the same rows, stored in the reverse of their order by all columns
            con.execute(f"CREATE OR REPLACE TABLE {table} AS FROM {table} ORDER BY ALL DESC")
        # the premise: the table now gives its rows in another order
        assert con.sql("SELECT provider, case_id FROM intermediate.int_cases").fetchall() != (
            as_stored
        )
        after = read_inputs(con)
    assert before.keys() == after.keys()
    for name in before:
        assert before[name].height > 0, name
        assert before[name].equals(after[name]), name
