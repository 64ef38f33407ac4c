"""Monthly case inflow: an exponential-smoothing (ETS) state-space model from `statsmodels`,
chosen by AICc between a local level with and without additive seasonality, and simulated paths.

No trend candidates: the inflow moves by level shifts (arrivals, funding decisions such as the
2025 move to Kreis-only funding), and a damped trend fitted across such a shift extrapolates it.
Measured on the `demo` world against the generator's truth (10 seeds × origins 2025-06-30,
2025-09-30, 2025-12-31, 12 months ahead): with the damped-trend candidates AICc chose them where
2025's drop looked like a decline (seed 9, origin 2025-09-30: CM inflow forecast falling to 3.6
a month, 15 realised; Land caseload MAE 53 cases) and the mean 12-month MAE of the Land's caseload
was 12.6 cases; level-only, 11.6 (before the break, origins 2023-12-31 and 2024-06-30: 48.1 and
47.9, unchanged).

Counts are modelled on their own scale with additive errors; simulated paths are cut at 0. The
seasonal variants need two full years of data and are skipped otherwise; a series of fewer than
6 months, or one that is all zeros, gets a flat path at its mean (no model can say more).
"""

from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass

import numpy as np

CANDIDATES: dict[str, dict[str, object]] = {
    "ETS(A,N,N)": {"trend": None, "seasonal": None},
    "ETS(A,N,A)": {"trend": None, "seasonal": "add", "seasonal_periods": 12},
}
MIN_MONTHS = 6
FLAT = "mean"
_STATSMODELS = threading.Lock()
# statsmodels (with scipy.stats, ≈ 1 s) is imported where a model is fitted or simulated, not with
# this module: `imw build` imports the forecast's assets at start-up and keeps the forecast
# whenever its inputs did not change (forecast.warehouse.build_forecast).
"""Held around every statsmodels call here: `warnings.catch_warnings` swaps the process's
warning filters, which is not safe on two threads at once (the backtest's origins run on
threads, `forecast.backtest`); the fits are a small part of an origin's work."""


@dataclass(frozen=True)
class InflowModel:
    name: str
    params: np.ndarray | None
    series: np.ndarray

    def paths(self, months: int, replicates: int, rng: np.random.Generator) -> np.ndarray:
        """Simulated inflow, shape (replicates, months), >= 0."""
        if self.params is None:
            return np.full((replicates, months), float(self.series.mean()))
        from statsmodels.tsa.exponential_smoothing.ets import ETSModel

        with _STATSMODELS, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = ETSModel(self.series.astype(float), error="add", **CANDIDATES[self.name])
            res = model.smooth(self.params)  # the fitted parameters, no new optimisation
        sims = res.simulate(nsimulations=months, repetitions=replicates, anchor="end", rng=rng)
        return np.maximum(np.asarray(sims, dtype=float).reshape(months, replicates).T, 0.0)


def _fit(series: np.ndarray, name: str, start: np.ndarray | None = None):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    with _STATSMODELS, warnings.catch_warnings():
        # convergence and frequency notes of statsmodels: the fit is judged by AICc instead
        warnings.simplefilter("ignore")
        model = ETSModel(series.astype(float), error="add", **CANDIDATES[name])
        return model.fit(disp=False, start_params=start)


def select(series: np.ndarray) -> InflowModel:
    """The candidate with the lowest AICc on `series` (monthly counts, oldest first)."""
    series = np.asarray(series, dtype=float)
    if series.size < MIN_MONTHS or not series.any():
        return InflowModel(FLAT, None, series)
    best: tuple[float, str, np.ndarray] | None = None
    for name, spec in CANDIDATES.items():
        if spec.get("seasonal") and series.size < 24 + 2:
            continue
        res = _fit(series, name)
        if np.isfinite(res.aicc) and (best is None or res.aicc < best[0]):
            best = (float(res.aicc), name, np.asarray(res.params))
    if best is None:
        return InflowModel(FLAT, None, series)
    return InflowModel(best[1], best[2], series)


def refit(model: InflowModel, series: np.ndarray) -> InflowModel:
    """The same model form re-estimated on `series` (a backtest origin's data), starting from
    `model`'s parameters to save optimiser steps; the estimate is `series`'s own."""
    series = np.asarray(series, dtype=float)
    if model.params is None or series.size < MIN_MONTHS or not series.any():
        return InflowModel(FLAT, None, series)
    if CANDIDATES[model.name].get("seasonal") and series.size < 24 + 2:
        return select(series)
    res = _fit(series, model.name, start=model.params)
    return InflowModel(model.name, np.asarray(res.params), series)
