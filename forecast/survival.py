"""Case duration as a survival curve: Kaplan–Meier on a daily grid, with open cases censored at
the origin, and bootstrap replicates of it.

`S[d]` is P(duration > d days): a case with first contact e is open at date t exactly when
`t - e < duration` (INDICATORS.md: open at d when erstkontakt <= d and abschluss > d), so a case
closed on its first day is never open at a day's end. The point estimate comes from
`statsmodels` (`SurvfuncRight`); the bootstrap resamples cases (multinomially over the distinct
(duration, closed) cells) and recomputes the same product-limit estimate, vectorised over the
replicates. Beyond the longest observed duration a curve stays flat (no data say otherwise).
"""

from __future__ import annotations

import numpy as np


def _cells(durations: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (duration, closed) cells in ascending order and their counts (one counting
    pass: durations are days, so the keys are small integers)."""
    key = durations.astype(np.int64) * 2 + closed.astype(np.int64)
    counts = np.bincount(key)
    uniq = np.flatnonzero(counts)
    return uniq // 2, (uniq % 2).astype(bool), counts[uniq]


def _by_day(cell_days: np.ndarray, weights: np.ndarray, days: int) -> np.ndarray:
    """(replicates, days): each column of `weights` (replicates × cells) added into its cell's
    day, as one segment sum over the cells sorted by day (the weights are counts, so any order
    of adding gives the same sums)."""
    order = np.argsort(cell_days, kind="stable")
    d = cell_days[order]
    out = np.zeros((weights.shape[0], days))
    if d.size:
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        out[:, d[starts]] = np.add.reduceat(weights[:, order], starts, axis=1)
    return out


def km_curve(durations: np.ndarray, closed: np.ndarray, days: int) -> np.ndarray:
    """Kaplan–Meier S[d] = P(duration > d) for d = 0..days-1 (statsmodels' estimate)."""
    durations = np.asarray(durations, dtype=np.int64)
    closed = np.asarray(closed, dtype=bool)
    if durations.size == 0:
        raise ValueError("no cases to estimate a survival curve from")
    if durations.min() < 0:
        raise ValueError("negative case duration")
    t, e, n = _cells(durations, closed)
    if not e.any():
        return np.ones(days)
    from statsmodels.duration.survfunc import SurvfuncRight  # ≈ 1 s to import: only when used

    sf = SurvfuncRight(t.astype(float), e.astype(float), freq_weights=n.astype(float))
    # surv_prob[i] = S just after surv_times[i]; S(d) uses every event time <= d
    idx = np.searchsorted(sf.surv_times, np.arange(days), side="right") - 1
    return np.where(idx >= 0, sf.surv_prob[np.maximum(idx, 0)], 1.0)


def km_curves_weighted(
    cell_durations: np.ndarray, cell_closed: np.ndarray, weights: np.ndarray, days: int
) -> np.ndarray:
    """Product-limit estimates for each row of `weights` (replicates × cells): shape
    (replicates, days). At risk at d = cases with duration >= d; hazard = closures at d / at
    risk."""
    d_clip = np.minimum(cell_durations, days - 1)
    beyond = cell_durations >= days
    ev_cols = cell_closed & ~beyond
    events = _by_day(d_clip[ev_cols], weights[:, ev_cols], days)
    total = _by_day(d_clip, weights, days)
    at_risk = np.cumsum(total[:, ::-1], axis=1)[:, ::-1]
    hazard = np.divide(events, at_risk, out=np.zeros_like(events), where=at_risk > 0)
    return np.cumprod(1.0 - hazard, axis=1)


def bootstrap_curves(
    durations: np.ndarray, closed: np.ndarray, days: int, replicates: int, rng: np.random.Generator
) -> np.ndarray:
    """`replicates` Kaplan–Meier curves of case-resampled data: shape (replicates, days)."""
    t, e, n = _cells(np.asarray(durations, dtype=np.int64), np.asarray(closed, dtype=bool))
    draws = rng.multinomial(int(n.sum()), n / n.sum(), size=replicates).astype(float)
    return km_curves_weighted(t, e, draws, days)
