"""Needs forecast: survival, caseload arithmetic and the whole simulation on hand-made series
(no warehouse build)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from forecast import inflow
from forecast.backtest import BacktestSettings, backtest
from forecast.caseload import DAYS_PER_MONTH, carried_stock, cohort_weights, new_case_stock
from forecast.disclosure import protect_forecasts
from forecast.needs import (
    CASE_TYPES,
    CASES_SCHEMA,
    caseload_frame,
    choose_models,
    forecast_origin,
    kreise_at,
    month_end,
    simulate,
)
from forecast.scenarios import Scenario
from forecast.survival import bootstrap_curves, km_curve, km_curves_weighted


def test_kaplan_meier_by_hand() -> None:
    # durations in days; closed = event, open = censored at that age
    durations = np.array([0, 5, 5, 10, 20, 20, 30])
    closed = np.array([1, 1, 0, 1, 1, 1, 0], dtype=bool)
    s = km_curve(durations, closed, 40)
    # d=0: 1 of 7 closes the first day → 6/7; d=5: 1 of 6 at risk (the case censored at 5 still
    # counts) → 6/7·5/6 = 5/7; d=10: 1 of 4 → 5/7·3/4 = 15/28; d=20: 2 of 3 → 15/28·1/3 = 5/28;
    # after 30 (censored) the curve stays flat
    assert s[[0, 4, 5, 9, 10, 19, 20, 39]] == pytest.approx(
        [6 / 7, 6 / 7, 5 / 7, 5 / 7, 15 / 28, 15 / 28, 5 / 28, 5 / 28]
    )
    # the vectorised estimator (used for bootstrap replicates) gives the same curve
    cells_d = np.array([0, 5, 5, 10, 20, 30])
    cells_e = np.array([1, 1, 0, 1, 1, 0], dtype=bool)
    weights = np.array([[1, 1, 1, 1, 2, 1.0]])  # two closures at 20
    assert km_curves_weighted(cells_d, cells_e, weights, 40)[0] == pytest.approx(s)


def test_bootstrap_replicates_scatter_around_the_curve() -> None:
    rng = np.random.default_rng(7)
    durations = rng.integers(0, 400, 2000)
    closed = rng.random(2000) < 0.8
    point = km_curve(durations, closed, 500)
    boot = bootstrap_curves(durations, closed, 500, 300, rng)
    assert boot.shape == (300, 500)
    # the replicates' mean is the curve (to Monte Carlo error), their spread is not zero
    assert np.abs(boot.mean(axis=0) - point).max() < 0.01
    assert boot[:, 200].std() > 0.003


def test_steady_state_stock_is_inflow_times_mean_duration() -> None:
    # every case lasts exactly 365 days: S(d) = 1 for d < 365
    curve = (np.arange(2000) < 365).astype(float)
    w = cohort_weights(curve, 24)
    stock = new_case_stock(np.full(24, 30.0), w)
    # after a year the stock is steady: 30 cases a month × 365 / 30.4375 months = 359.75
    assert stock[-1] == pytest.approx(30 * 365 / DAYS_PER_MONTH, rel=0.005)
    assert stock[12] == pytest.approx(stock[-1])
    # half the cases close at 91 days, the rest at 365: mean 91 + 0.5 × 274 = 228 days
    curve2 = np.where(np.arange(2000) < 91, 1.0, np.where(np.arange(2000) < 365, 0.5, 0.0))
    stock2 = new_case_stock(np.full(24, 30.0), cohort_weights(curve2, 24))
    assert stock2[-1] == pytest.approx(30 * 228 / DAYS_PER_MONTH, rel=0.005)
    # the first month holds its own cases on average half a month: 30 × ~1
    assert stock[0] == pytest.approx(30.0)


def test_cases_open_at_the_origin_close_by_conditional_survival() -> None:
    curve = (np.arange(100) < 50).astype(float)  # every case closes at 50 days
    ages = np.zeros((1, 40))
    ages[0, 10] = 3  # 3 cases aged 10 days: open until 39 days after the origin
    ages[0, 30] = 2  # 2 cases aged 30 days: open until 19 days after the origin
    got = carried_stock(ages, curve, np.array([5, 15, 25, 45]))
    assert got[0] == pytest.approx([5, 5, 3, 0])


def test_a_replicate_in_which_nobody_stayed_that_long_uses_the_point_curve() -> None:
    days = np.arange(100)
    point = (days < 50).astype(float)  # the point curve: every case closes at 50 days
    boot = np.stack([point, (days < 20).astype(float)])  # replicate 1: everyone closes at 20
    ages = np.zeros((1, 40))
    ages[0, 10] = 3  # 3 cases aged 10 days
    ages[0, 30] = 2  # 2 cases aged 30 days: replicate 1 has S[30] = 0 for them
    offsets = np.array([5, 15, 25])
    got = carried_stock(ages, boot, offsets, fallback=point)
    # replicate 0 is the point curve: the 3 aged 10 are open at ages 15, 25, 35 (3, 3, 3); the
    # 2 aged 30 at ages 35, 45 but not 55 (2, 2, 0) → 5, 5, 3
    assert got[0, 0] == pytest.approx([5, 5, 3])
    # replicate 1: aged 10 by that replicate (S[15] = 1, S[25] = S[35] = 0) → 3, 0, 0; aged 30
    # from the point curve's S[a + Δ] / S[a] (S[30] = 0 there) → 2, 2, 0; together 5, 2, 0
    assert got[1, 0] == pytest.approx([5, 2, 0])
    # without a fallback those 2 cases count 0 in replicate 1
    assert carried_stock(ages, boot, offsets)[1, 0] == pytest.approx([3, 0, 0])


def test_weighted_curves_equal_the_curve_of_the_cases_they_weight() -> None:
    rng = np.random.default_rng(11)
    # cells in no particular order, with repeated durations (closed and open at the same day)
    cell_d = rng.integers(0, 60, 40)
    cell_e = rng.random(40) < 0.7
    weights = rng.integers(0, 5, (6, 40)).astype(float)
    weights[:, 0] += 1  # no replicate without cases
    got = km_curves_weighted(cell_d, cell_e, weights, 50)  # durations ≥ 50 count only as at risk
    for r in range(6):
        # the same replicate as individual cases, through statsmodels' estimate
        cases = np.repeat(np.arange(40), weights[r].astype(int))
        assert got[r] == pytest.approx(km_curve(cell_d[cases], cell_e[cases], 50), abs=1e-12)


def test_inflow_after_a_level_shift_is_forecast_flat_not_as_a_trend() -> None:
    # 36 months at 30 new cases, then 12 months at 15 (a level shift like 2025's move to
    # Kreis-only funding); ±1 alternating so the fit has a noise variance to estimate
    wiggle = np.where(np.arange(48) % 2 == 0, 1.0, -1.0)
    series = np.concatenate([np.full(36, 30.0), np.full(12, 15.0)]) + wiggle
    model = inflow.select(series)
    # only level models are candidates (no trend to extrapolate the drop with)
    assert model.name in ("ETS(A,N,N)", "ETS(A,N,A)")
    paths = model.paths(12, 2000, np.random.default_rng(5))
    mean = paths.mean(axis=0)
    # the level has moved to the new 15 (the last 12 months are 16 and 14 alternately, the last
    # one 14, so the smoothed level is about 14.5): the forecast stays there, 12 months ahead as
    # in the first (the paths' spread grows from about 2.5 to 7 cases, so the Monte Carlo error
    # of a mean of 2000 paths is below 7 / √2000 ≈ 0.16; cutting paths at 0 adds < 0.1), and
    # does not fall on towards 0 as a trend fitted across the drop would
    assert mean[0] == pytest.approx(15.0, abs=1.5)
    assert mean[-1] == pytest.approx(mean[0], abs=0.5)


def _constant_world() -> pl.DataFrame:
    """8 years of CM cases: 30 a month in Kreis 08115 (RB 081), 10 a month in Kreis 08221 (RB
    082), spread over each month, every case closed after exactly 182 days; and 3 cases of Kreis
    08325 opened in the last month (a small Kreis)."""
    rows = []
    start = date(2018, 1, 1)
    for m in range(96):
        first = month_end(start, m).replace(day=1)
        for kreis, n in (("08115", 30), ("08221", 10)):
            for i in range(n):
                rows.append((kreis, "CM", first + timedelta(days=i % 28)))
    frame = pl.DataFrame(rows, schema=["kreis", "case_type", "first_contact"], orient="row")
    frame = frame.with_columns((pl.col("first_contact") + pl.duration(days=182)).alias("closure"))
    small = pl.DataFrame(
        {
            "kreis": ["08325"] * 3,
            "case_type": ["CM"] * 3,
            "first_contact": [date(2025, 12, 1)] * 3,
            "closure": [None] * 3,
        }
    )
    return pl.concat([frame, small], how="vertical_relaxed").cast(CASES_SCHEMA)


def test_simulation_of_a_constant_world_reaches_the_known_caseload() -> None:
    cases = _constant_world()
    origin = forecast_origin(date(2025, 12, 31))
    sim = simulate(
        cases,
        origin,
        horizon=12,
        replicates=200,
        history_months=96,
        min_events_per_region=200,
        rng=np.random.default_rng(1),
    )
    scenarios = (Scenario("mid", 1.0, "test"), Scenario("high", 1.5, "test"))
    table = caseload_frame(
        sim, scenarios, (0.1, 0.5, 0.9), caseload_target=50.0, rate_eur_per_fte=60_000.0
    )
    mid = table.filter((pl.col("scenario") == "mid") & (pl.col("case_type") == "CM"))
    land12 = mid.filter((pl.col("level") == "LAND") & (pl.col("horizon_months") == 12)).row(
        0, named=True
    )
    # 40 new cases a month (30 + 10; the 3 small-Kreis cases of the last month are 0.6 % of the
    # last year's inflow) × 182 / 30.4375 months ≈ 239.2 open cases (+ ~1.4 from the small Kreis)
    assert land12["open_p50"] == pytest.approx(40 * 182 / DAYS_PER_MONTH, rel=0.03)
    assert land12["open_p10"] <= land12["open_p50"] <= land12["open_p90"]
    # FTE at 50 cases per FTE, funding at 60,000 EUR per FTE and year
    assert land12["fte_needed"] == pytest.approx(land12["open_p50"] / 50)
    assert land12["funding_needed_eur_per_year"] == pytest.approx(land12["fte_needed"] * 60_000)
    # the Kreis of 30 a month holds 3/4 of it (shares of the last 12 months' inflow: 360/483)
    k = mid.filter((pl.col("unit_code") == "08115") & (pl.col("horizon_months") == 12))
    assert k["open_p50"][0] == pytest.approx(30 * 182 / DAYS_PER_MONTH, rel=0.03)
    # RB rows sum their Kreise path by path, so their medians agree with the Kreis here
    rb = mid.filter((pl.col("unit_code") == "081") & (pl.col("horizon_months") == 12))
    assert rb["open_p50"][0] == pytest.approx(k["open_p50"][0])
    # a scenario multiplies only the new cases: at 12 months nearly all open cases are new
    high = table.filter(
        (pl.col("scenario") == "high")
        & (pl.col("case_type") == "CM")
        & (pl.col("level") == "LAND")
        & (pl.col("horizon_months") == 12)
    )
    assert high["open_p50"][0] == pytest.approx(1.5 * land12["open_p50"], rel=0.02)
    # the origin row is the observed count: 30 + 10 a month over the last 182 days + 3
    origin_row = mid.filter((pl.col("level") == "LAND") & (pl.col("horizon_months") == 0))
    observed = cases.filter(
        (pl.col("first_contact") <= origin)
        & (pl.col("closure").is_null() | (pl.col("closure") > origin))
    ).height
    assert origin_row["open_p50"][0] == observed

    suppressed = protect_forecasts(table)
    hidden = set(
        suppressed.filter(pl.col("suppressed"))
        .select("level", "unit_code", "case_type")
        .unique()
        .iter_rows()
    )
    # Kreis 08325 has 3 open CM cases at the origin (0 < 3 < 5): CM and ALLE are primary,
    # every row of them (every scenario and month) with its numbers NULL; its KB (0 cases)
    # protects nothing and stays
    small = suppressed.filter(
        (pl.col("unit_code") == "08325") & pl.col("case_type").is_in(["CM", "ALLE"])
    )
    assert small["suppressed"].all()
    assert small["open_p50"].null_count() == small["open_at_origin"].null_count() == small.height
    assert ("KREIS", "08325", "KB") not in hidden
    # RB 083 has no other Kreis: RB 083 = Kreis 08325, so it is withheld too (secondary), and
    # the Land is never
    assert {("RB", "083", "CM"), ("RB", "083", "ALLE")} <= hidden
    assert not any(level == "LAND" for level, _, _ in hidden)


def test_models_chosen_before_the_simulation_give_the_same_simulation() -> None:
    """`forecast_from` chooses the inflow models first (`choose_models`), so that the backtest,
    which re-estimates them, runs beside the final simulation. Choosing draws no random
    numbers, so a simulation handed the chosen models is the one that chooses them itself:
    the same models and every path equal, float for float."""
    cases = _constant_world()
    origin = forecast_origin(date(2025, 12, 31))
    settings = dict(horizon=6, replicates=50, history_months=96, min_events_per_region=200)
    itself = simulate(cases, origin, rng=np.random.default_rng(7), **settings)
    chosen = choose_models(cases, origin, history_months=96)
    handed = simulate(
        cases, origin, rng=np.random.default_rng(7), kreise=kreise_at(cases, origin),
        chosen=chosen, **settings,
    )  # fmt: skip
    assert handed.kreise == itself.kreise == kreise_at(cases, origin)
    assert chosen.keys() == itself.models.keys() == set(CASE_TYPES)
    for ct in CASE_TYPES:
        assert chosen[ct].name == itself.models[ct].name
        assert np.array_equal(chosen[ct].params, itself.models[ct].params)
        for part in ("inflow", "carried", "new", "open_at_origin"):
            assert np.array_equal(getattr(handed.types[ct], part), getattr(itself.types[ct], part))


def test_backtest_summaries_are_the_means_of_the_origins() -> None:
    cases = _constant_world()
    origin = date(2025, 12, 31)
    settings = BacktestSettings(
        origins=8, horizons=(6,), replicates=50, history_months=96,
        min_events_per_region=200, quantiles=(0.1, 0.5, 0.9),
    )  # fmt: skip
    final = simulate(cases, origin, horizon=6, replicates=50, history_months=96,
                     min_events_per_region=200, rng=np.random.default_rng(2))  # fmt: skip
    bt = backtest(cases, origin, final.kreise, final.models, settings, seed=3)
    land = bt.filter(pl.col("level") == "LAND")
    per_origin = land.filter(pl.col("origin").is_not_null())
    # origins: the last 8 month ends before the origin whose 6-month target is still observed:
    # 7 and 6 months back (2025-05-31 and 2025-06-30; 2025-07-31 + 6 months is after 2025-12-31)
    origins = sorted(set(per_origin["origin"].to_list()))
    assert origins == [date(2025, 5, 31), date(2025, 6, 30)]
    for model in ("ets_km", "naive", "seasonal_naive"):
        errs = per_origin.filter((pl.col("model") == model) & (pl.col("metric") == "abs_error"))
        mae = land.filter(
            pl.col("origin").is_null() & (pl.col("model") == model) & (pl.col("metric") == "mae")
        )
        assert mae["value"][0] == pytest.approx(errs["value"].mean())
    # naive forecast = the open cases at the origin, seasonal naive = 12 months before the target
    naive = per_origin.filter((pl.col("model") == "naive") & (pl.col("metric") == "forecast"))
    first = naive.sort("origin").row(0, named=True)
    o = first["origin"]
    open_then = cases.filter(
        (pl.col("first_contact") <= o) & (pl.col("closure").is_null() | (pl.col("closure") > o))
    ).height
    assert first["value"] == open_then


def test_backtest_origins_on_threads_give_the_same_rows() -> None:
    """Each origin draws from its own generator (seed + its index), so simulating the origins on
    three threads gives the rows of one thread exactly (every float equal)."""
    cases = _constant_world()
    origin = date(2025, 12, 31)
    settings = BacktestSettings(
        origins=8, horizons=(1, 3), replicates=50, history_months=96,
        min_events_per_region=200, quantiles=(0.1, 0.5, 0.9),
    )  # fmt: skip
    final = simulate(cases, origin, horizon=3, replicates=50, history_months=96,
                     min_events_per_region=200, rng=np.random.default_rng(2))  # fmt: skip
    one = backtest(cases, origin, final.kreise, final.models, settings, seed=3, workers=1)
    three = backtest(cases, origin, final.kreise, final.models, settings, seed=3, workers=3)
    # 7 origins: the month ends 2025-05-31 … 2025-11-30 (7 … 1 months back; the 3-month horizon
    # only up to 2025-09-30), several per thread
    assert one["origin"].drop_nulls().n_unique() == 7
    assert one.equals(three)


def test_a_kreis_hidden_alone_cannot_be_its_rb_minus_the_other_kreise() -> None:
    # RB 081 = Kreise 08115 + 08127 + 08128 (the Land = RB 081), open cases at the origin
    # (CM, KB; ALLE = CM + KB): 08115 (9, 1), 08127 (20, 0), 08128 (25, 5); RB and Land (54, 6).
    # Before the engine (the interim rule) 08115 was hidden alone and RB − the other Kreise gave
    # back its KB of 1.
    counts = {
        ("KREIS", "08115"): (9, 1),
        ("KREIS", "08127"): (20, 0),
        ("KREIS", "08128"): (25, 5),
        ("RB", "081"): (54, 6),
        ("LAND", "08"): (54, 6),
    }
    rows = [
        {
            "level": level,
            "unit_code": unit,
            "case_type": case_type,
            "horizon_months": h,
            "open_at_origin": float(n),
            "open_p10": 0.9 * n,
            "open_p50": float(n),
            "open_p90": 1.1 * n,
            "new_cases": 1.0,
            "fte_needed": n / 40,
            "funding_needed_eur_per_year": 1000.0 * n,
        }
        for (level, unit), (cm, kb) in counts.items()
        for case_type, n in (("CM", cm), ("KB", kb), ("ALLE", cm + kb))
        for h in (0, 1)
    ]
    out = protect_forecasts(pl.DataFrame(rows))
    hidden = set(
        out.filter(pl.col("suppressed")).select("unit_code", "case_type").unique().iter_rows()
    )
    # 08115 KB (1) is primary. Its sums each need a second withheld cell, the smallest above 0:
    # 08115 ALLE = CM + KB takes CM (9 < 10); RB KB = Σ KB takes 08128 KB (5; 08127's 0 protects
    # nothing); RB CM = Σ CM takes 08127 CM (20 < 25); then 08127 ALLE = CM + KB (KB 0) takes
    # ALLE; 08128 ALLE = CM + KB takes CM (25 < 30); RB ALLE = Σ ALLE, with only 08127 withheld,
    # takes 08115 ALLE (10 < 30). RB and Land stay published.
    assert hidden == {
        ("08115", "KB"), ("08115", "CM"), ("08115", "ALLE"),
        ("08127", "CM"), ("08127", "ALLE"),
        ("08128", "KB"), ("08128", "CM"),
    }  # fmt: skip
    # every row of a withheld cell (both months) has its numbers NULL, the others keep theirs
    withheld = out.filter(pl.col("suppressed"))
    assert withheld.height == 2 * len(hidden)
    assert (
        withheld.select(pl.all_horizontal(pl.col("open_p50", "fte_needed").is_null()))
        .to_series()
        .all()
    )
    assert out.filter(~pl.col("suppressed"))["open_at_origin"].null_count() == 0
