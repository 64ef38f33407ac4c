"""Caseload arithmetic: open cases = cases already open that are still open + future inflow ×
probability still open. Pure numpy, no data access.

Months are 30.4375 days (365.25 / 12) for new cohorts; cases already open use exact day offsets.
"""

from __future__ import annotations

import numpy as np

DAYS_PER_MONTH = 365.25 / 12


def cohort_weights(curve: np.ndarray, months: int) -> np.ndarray:
    """w[k] = expected share of a month's new cases still open at the end of the month k months
    later (k = 0: the month itself), first contacts spread evenly over the month:
    w[k] = mean of S over the days k·30.4375 + u, u uniform in [0, 30.4375).

    `curve` may be one curve (days,) or replicates (r, days); the result is (months,) or
    (r, months)."""
    curve = np.atleast_2d(curve)
    # 30 evenly spaced days of each month (midpoints), so every day counts alike
    within = (np.arange(30) + 0.5) * DAYS_PER_MONTH / 30
    offsets = np.arange(months)[:, None] * DAYS_PER_MONTH + within[None, :]
    idx = np.minimum(np.floor(offsets).astype(np.int64), curve.shape[1] - 1)
    w = curve[:, idx].mean(axis=2)
    return w[0] if w.shape[0] == 1 and curve.ndim == 2 and curve.shape[0] == 1 else w


def new_case_stock(inflow: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Open cases at the end of forecast months 1..H that started in months 1..H.

    `inflow` (..., H) new cases per month; `weights` (..., H) from `cohort_weights` (broadcast
    against `inflow`). stock[h] = Σ_{s<=h} inflow[s] · w[h - s]."""
    h = inflow.shape[-1]
    lag = np.arange(h)[:, None] - np.arange(h)[None, :]  # [target, start]
    w = np.asarray(weights)[..., np.clip(lag, 0, h - 1)] * (lag >= 0)
    return np.einsum("...s,...ts->...t", inflow, w)


def carried_stock(
    age_counts: np.ndarray,
    curve: np.ndarray,
    offsets_days: np.ndarray,
    fallback: np.ndarray | None = None,
) -> np.ndarray:
    """Expected open cases at `offsets_days` after the origin among cases open at the origin.

    `age_counts` (units, A): open cases by age in days at the origin (age = origin - first
    contact); `curve` (D,) or replicates (r, D) with D > A + max offset. A case of age a is open
    at origin + Δ with P = S[a + Δ] / S[a] (conditional survival). Where S[a] = 0 (a bootstrap
    replicate in which nobody stayed that long) the ratio comes from `fallback` (the point
    curve), else 0. Returns (units, offsets) or (r, units, offsets)."""
    ages = np.arange(age_counts.shape[1])
    reach = ages[:, None] + np.asarray(offsets_days)[None, :]
    if reach.max() >= curve.shape[-1]:
        raise ValueError("survival curve too short for the oldest open case and the horizon")
    base = curve[..., ages][..., None]
    ratio = curve[..., reach]
    np.divide(ratio, base, out=ratio, where=base > 0)
    # the ratio where S[a] = 0 (rare: only a replicate in which nobody stayed that long)
    empty = np.broadcast_to(base <= 0, ratio.shape)
    if empty.any():
        if fallback is not None:
            fb = fallback[ages][:, None]
            default = np.divide(fallback[reach], fb, out=np.zeros(reach.shape), where=fb > 0)
        else:
            default = np.zeros(reach.shape)
        ratio[empty] = np.broadcast_to(default, ratio.shape)[empty]
    return np.einsum("ka,...ah->...kh", age_counts, ratio)
