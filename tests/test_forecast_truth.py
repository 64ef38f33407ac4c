"""The needs forecast against the generator's truth: the synthetic world does not depend on the
stand, so the same `demo` seed generated at stand S and at S + 12 months shows what happened after
S. The forecast is made from S's `faelle` files alone (read with the contract's readers, no
build) and compared with the Land's open cases at each month end after S in the later files.

Measured (seed 1, S = 2025-09-30, 300 paths): the realised Land caseload (116 to 134 cases, 127
at S) lies inside the 80 % interval in 12 of 12 months; the 12-month MAE of the median is 9.7
cases against 5.1 for the naive forecast (last value) — see
`test_forecast_beats_naive_on_the_truth`. Decomposed (means over the 12 months, forecast −
realised): cases open at S still open +1.5 (survival of the carried stock), new cases' stock
+7.1; new cases 18.5 a month forecast, 18.0 realised, but the realised ones came early (48 in
months 1-2, 39 in months 3-5), and with the realised first contacts the Kaplan–Meier curve gives
the new cases' stock to +0.7 — the rest is the inflow's month-to-month noise, which no inflow
model can forecast. Over 10 seeds × origins 2025-06-30, 2025-09-30, 2025-12-31 the model's MAE
is 11.6 against 8.6 for naive (it wins 10 of 30); even knowing every future first contact it
would be 7.2: at 12 months on a flat caseload, naive is close to the best possible.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from forecast_landing import cases_from_landing

from forecast.needs import ALL_TYPES, open_at, simulate
from synthetic import generate

SEED = 1
STAND = date(2025, 9, 30)
LATER = date(2026, 9, 30)
"""Both stands keep the generator's horizon at 2027-12-31, so both cut the same world."""


@pytest.fixture(scope="module")
def forecast_and_truth(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    root: Path = tmp_path_factory.mktemp("truth")
    generate("demo", root / "s" / "landing", seed=SEED, stand=STAND)
    generate("demo", root / "later" / "landing", seed=SEED, stand=LATER)
    then = cases_from_landing(root / "s" / "landing")
    later = cases_from_landing(root / "later" / "landing")
    assert then["first_contact"].max() <= STAND < later["first_contact"].max()
    sim = simulate(
        then,
        STAND,
        horizon=12,
        replicates=300,
        history_months=96,
        min_events_per_region=200,
        rng=np.random.default_rng(20261202),
    )
    land = sim.open_paths(ALL_TYPES, 1.0).sum(axis=1)  # (paths, months)
    q = np.quantile(land, (0.1, 0.5, 0.9), axis=0)
    realised = (
        open_at(later.with_columns(pl.lit("08").alias("land")), sim.months, ["land"])
        .sort("month")["open_cases"]
        .to_numpy()
    )
    return pl.DataFrame(
        {
            "month": sim.months,
            "p10": q[0],
            "p50": q[1],
            "p90": q[2],
            "realised": realised.astype(float),
            "naive": float(sim.open_now(ALL_TYPES).sum()),
        }
    )


def test_realised_caseload_lies_in_the_80_percent_interval(forecast_and_truth) -> None:
    f = forecast_and_truth
    assert f.height == 12
    inside = f.filter((pl.col("realised") >= pl.col("p10")) & (pl.col("realised") <= pl.col("p90")))
    # an honest 80 % interval holds about 9.6 of 12 months; most months = at least 9
    assert inside.height >= 9, f


@pytest.mark.xfail(
    strict=True,
    reason="known shortfall (README, Bedarfsprognose): on demo data the Land's caseload after "
    "2025 is flat, so the naive forecast is hard to beat; on seed 1 the median runs ~7 % high "
    "(MAE 9.7 vs 5.1), mostly because the realised new cases bunched in the first months (inflow "
    "18.5 a month forecast, 18.0 realised). Remove this marker when the model beats naive.",
)
def test_forecast_beats_naive_on_the_truth(forecast_and_truth) -> None:
    f = forecast_and_truth
    mae = (f["p50"] - f["realised"]).abs().mean()
    naive = (f["naive"] - f["realised"]).abs().mean()
    assert mae < naive, f"12-month MAE {mae:.1f} vs naive {naive:.1f}"
