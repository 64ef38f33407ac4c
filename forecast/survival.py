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
from statsmodels.duration.survfunc import SurvfuncRight


def _cells(durations: np.ndarray, closed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (duration, closed) cells and their counts."""
    key = durations.astype(np.int64) * 2 + closed.astype(np.int64)
    uniq, counts = np.unique(key, return_counts=True)
    return uniq // 2, (uniq % 2).astype(bool), counts


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
    reps = weights.shape[0]
    d_clip = np.minimum(cell_durations, days - 1)
    beyond = cell_durations >= days
    events = np.zeros((reps, days))
    total = np.zeros((reps, days))
    ev_cols = cell_closed & ~beyond
    np.add.at(events.T, d_clip[ev_cols], weights[:, ev_cols].T)
    np.add.at(total.T, d_clip, weights.T)
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
