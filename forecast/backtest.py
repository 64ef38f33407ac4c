"""Rolling-origin backtest of the open-case forecast (Land and RB, all case types, scenario
"mid" = multiplier 1).

For every month end o in the last `origins` months before the forecast origin T0 with o + h <= T0,
the forecast is made from the data as known at o (cases started by o, closures after o unknown),
re-estimating the ETS model of T0's form and the survival curves on that data, and compared at
o + h with the cases open then (known at T0). Benchmarks: naive (open cases at o) and seasonal
naive (open cases at o + h - 12 months). Metrics per unit and horizon over all origins: MAE,
MAPE and — for the model — coverage of its interval.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from forecast.inflow import InflowModel
from forecast.needs import ALL_TYPES, month_end, open_at, simulate, unit_matrix

MODEL = "ets_km"
NAIVE = "naive"
SEASONAL_NAIVE = "seasonal_naive"
SCHEMA = {
    "origin": pl.Date,
    "horizon_months": pl.Int64,
    "level": pl.String,
    "unit_code": pl.String,
    "metric": pl.String,
    "model": pl.String,
    "value": pl.Float64,
}


@dataclass(frozen=True)
class BacktestSettings:
    origins: int
    horizons: tuple[int, ...]
    replicates: int
    history_months: int
    min_events_per_region: int
    quantiles: tuple[float, float, float]


def _with_units(cases: pl.DataFrame) -> pl.DataFrame:
    return pl.concat(
        [
            cases.with_columns(pl.lit("LAND").alias("level"), pl.lit("08").alias("unit_code")),
            cases.with_columns(
                pl.lit("RB").alias("level"), pl.col("kreis").str.slice(0, 3).alias("unit_code")
            ),
        ]
    )


def backtest(
    cases: pl.DataFrame,
    final_origin: date,
    kreise: list[str],
    models: dict[str, InflowModel],
    settings: BacktestSettings,
    seed: int,
    workers: int = 1,
) -> pl.DataFrame:
    """forecast_backtest rows: per origin, horizon and unit the actual value and each model's
    forecast and errors; and (origin NULL) MAE, MAPE, coverage and origins per horizon and unit,
    plus `beats_naive` (1/0: the model's MAE below naive's). `kreise` and `models`: the final
    forecast's Kreise and inflow models (`needs.kreise_at`, `needs.choose_models`), whose forms
    each origin re-estimates. `workers`: threads that simulate the origins (the same rows for
    any number)."""
    max_h = max(settings.horizons)
    origins = [
        month_end(final_origin, -k)
        for k in range(settings.origins - 1, min(settings.horizons) - 1, -1)
    ]
    if not origins:
        return pl.DataFrame(schema=SCHEMA)
    # actual open cases at every date needed (targets and seasonal-naive dates)
    dates = sorted(
        {o for o in origins}
        | {month_end(o, h) for o in origins for h in settings.horizons}
        | {month_end(o, h - 12) for o in origins for h in settings.horizons}
    )
    actual = open_at(_with_units(cases), dates, ["level", "unit_code"]).rename(
        {"open_cases": "actual"}
    )
    units, m = unit_matrix(kreise)
    keep = [i for i, (lvl, _) in enumerate(units) if lvl in ("LAND", "RB")]

    def origin_rows(i: int, o: date) -> list[pl.DataFrame]:
        usable = [h for h in settings.horizons if month_end(o, h) <= final_origin]
        if not usable:
            return []
        sim = simulate(
            cases,
            o,
            horizon=max_h,
            replicates=settings.replicates,
            history_months=settings.history_months,
            min_events_per_region=settings.min_events_per_region,
            rng=np.random.default_rng(seed + i),
            kreise=kreise,
            models=models,
        )
        paths = np.einsum("uk,bkh->buh", m[keep], sim.open_paths(ALL_TYPES, 1.0))
        q = np.quantile(paths, settings.quantiles, axis=0)  # (3, U, H)
        return [
            pl.DataFrame(
                {
                    "origin": [o] * len(keep),
                    "horizon_months": h,
                    "level": [units[j][0] for j in keep],
                    "unit_code": [units[j][1] for j in keep],
                    "target": [month_end(o, h)] * len(keep),
                    "p_low": q[0, :, h - 1],
                    "p50": q[1, :, h - 1],
                    "p_high": q[2, :, h - 1],
                }
            )
            for h in usable
        ]

    # Each origin draws from its own generator (seed + its index), so the origins may run in any
    # order: on `workers` threads (the bootstrap's multinomial draws and the survival arithmetic
    # run in numpy without the GIL; the ETS fits take `forecast.inflow`'s lock).
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = [df for dfs in pool.map(origin_rows, range(len(origins)), origins) for df in dfs]
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    fc = pl.concat(rows).with_columns(pl.col("origin", "target").cast(pl.Date))
    fc = fc.with_columns(
        pl.col("target").dt.offset_by("-12mo").dt.month_end().alias("seasonal_date")
    )
    key = ["level", "unit_code"]
    look = actual.rename({"month": "d"})
    fc = (
        fc.join(look.rename({"d": "target"}), on=[*key, "target"], how="left")
        .join(look.rename({"d": "origin", "actual": "naive"}), on=[*key, "origin"], how="left")
        .join(
            look.rename({"d": "seasonal_date", "actual": "seasonal_naive"}),
            on=[*key, "seasonal_date"],
            how="left",
        )
        .with_columns(pl.col("actual", NAIVE, SEASONAL_NAIVE).fill_null(0).cast(pl.Float64))
    )
    in_interval = (
        (pl.col("actual") >= pl.col("p_low")) & (pl.col("actual") <= pl.col("p_high"))
    ).cast(pl.Float64)
    long = pl.concat(
        [
            fc.select(
                "origin",
                "horizon_months",
                *key,
                "actual",
                pl.lit(name).alias("model"),
                pl.col(col).alias("forecast"),
                (in_interval if name == MODEL else pl.lit(None, pl.Float64)).alias("covered"),
            )
            for name, col in ((MODEL, "p50"), (NAIVE, NAIVE), (SEASONAL_NAIVE, SEASONAL_NAIVE))
        ]
    ).with_columns((pl.col("forecast") - pl.col("actual")).abs().alias("abs_error"))
    long = long.with_columns(
        pl.when(pl.col("actual") > 0).then(pl.col("abs_error") / pl.col("actual")).alias("ape")
    )
    per_origin = long.unpivot(
        index=["origin", "horizon_months", *key, "model"],
        on=["actual", "forecast", "abs_error", "ape", "covered"],
        variable_name="metric",
        value_name="value",
    ).filter(pl.col("value").is_not_null())
    summary = long.group_by(["horizon_months", *key, "model"]).agg(
        pl.col("abs_error").mean().alias("mae"),
        pl.col("ape").mean().alias("mape"),
        pl.col("covered").mean().alias("coverage"),
        pl.len().cast(pl.Float64).alias("origins"),
    )
    naive_mae = summary.filter(pl.col("model") == NAIVE).select(
        "horizon_months", *key, pl.col("mae").alias("naive_mae")
    )
    beats = (
        summary.filter(pl.col("model") == MODEL)
        .join(naive_mae, on=["horizon_months", *key])
        .select(
            "horizon_months",
            *key,
            pl.lit(MODEL).alias("model"),
            pl.lit("beats_naive").alias("metric"),
            (pl.col("mae") < pl.col("naive_mae")).cast(pl.Float64).alias("value"),
        )
    )
    summary_long = summary.unpivot(
        index=["horizon_months", *key, "model"],
        on=["mae", "mape", "coverage", "origins"],
        variable_name="metric",
        value_name="value",
    ).filter(pl.col("value").is_not_null())
    out = pl.concat(
        [
            per_origin,
            summary_long.with_columns(pl.lit(None, pl.Date).alias("origin")),
            beats.with_columns(pl.lit(None, pl.Date).alias("origin")),
        ],
        how="diagonal_relaxed",
    )
    return (
        out.select(list(SCHEMA))
        .cast(SCHEMA)
        .sort("origin", "horizon_months", "level", "unit_code", "model", "metric", nulls_last=True)
    )
